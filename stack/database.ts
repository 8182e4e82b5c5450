// Makes the database look like a Supabase project's: the platform bootstrap
// (versioned SQL in stack/bootstrap, applied with postgres-migrations), then the
// product's migrations and seed applied by the real `supabase` CLI, so that
// supabase_migrations.schema_migrations is the same history as in production.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'postgres-migrations';
import postgres from 'postgres';
import { StackError, type StackConfig } from './config.ts';

const bootstrapDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bootstrap');
/** The schema that records which bootstrap files ran; not exposed through the API. */
export const BOOTSTRAP_SCHEMA = 'local_stack';

type Log = (line: string) => void;

/** A superuser (supabase_admin) connection for stack internals; callers end it. */
export function adminSql(config: StackConfig, database = 'postgres', max = 1) {
  return postgres(config.adminDbUrl.replace(/\/postgres$/, `/${database}`), { max, onnotice: () => {}, connection: { application_name: 'stack' } });
}

/** A cluster made by a stack before `postgres` stopped being its superuser (it cannot be demoted). */
export class OldClusterError extends StackError {}

/**
 * Refuses a cluster whose bootstrap superuser is `postgres` (made by an earlier
 * version of this stack): there `postgres` can never be demoted, so migrations
 * would pass here that hosted refuses.
 */
export async function assertPlatformSuperuser(config: StackConfig): Promise<void> {
  const sql = adminSql(config, 'template1');
  try {
    const [{ rolname }] = await sql<{ rolname: string }[]>`select rolname from pg_roles where oid = 10`;
    if (rolname !== 'supabase_admin') {
      throw new OldClusterError(
        `the local database in ${config.dataDir} was made by an older stack: its superuser is "${rolname}", not supabase_admin as on hosted`,
        'run `npm run db:reset` with the stack stopped: it makes a new cluster (local data is lost)',
      );
    }
  } catch (err) {
    // Password authentication fails for supabase_admin only on a cluster older still.
    if (err instanceof StackError || (err as postgres.PostgresError).code !== '28P01') throw err;
    throw new OldClusterError(`the local database in ${config.dataDir} was made by an older stack (no supabase_admin login)`, 'run `npm run db:reset` with the stack stopped: it makes a new cluster (local data is lost)');
  } finally {
    await sql.end();
  }
}

export async function applyBootstrap(config: StackConfig, log: Log): Promise<void> {
  await assertPlatformSuperuser(config);
  const sql = adminSql(config);
  try {
    // As Supabase's image does before its migrations: `postgres` starts as a
    // superuser owning the database; bootstrap 12 demotes it, as hosted's
    // demote-postgres migration does.
    await sql`
      do $$ begin
        if not exists (select from pg_roles where rolname = 'postgres') then
          create role postgres superuser login password 'postgres';
        end if;
      end $$`;
    await sql`alter database postgres owner to postgres`;
    await sql`create schema if not exists local_stack`;
    await sql`revoke all on schema local_stack from public`;
  } finally {
    await sql.end();
  }
  const connection = {
    host: config.host,
    port: config.dbPort,
    user: 'supabase_admin',
    password: 'postgres',
    database: 'postgres',
    // postgres-migrations keeps its `migrations` table in the first schema on the path.
    options: `-c search_path=${BOOTSTRAP_SCHEMA}`,
  };
  const applied = await migrate(connection, bootstrapDir, { logger: () => {} }).catch((err: Error) => {
    throw new StackError(`platform bootstrap failed: ${err.message}`, 'fix the SQL under stack/bootstrap, then `npm run db:reset`');
  });
  if (applied.length) log(`platform bootstrap: applied ${applied.map((m) => m.name).join(', ')}`);
}

const require = createRequire(import.meta.url);

/** Path of the pinned CLI's entry point (the npm package's `bin`). */
function supabaseCli(): string {
  const pkgJson = require.resolve('supabase/package.json');
  return path.join(path.dirname(pkgJson), 'dist', 'supabase.js');
}

export function runSupabaseCli(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [supabaseCli(), ...args], { cwd, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const lines = (stderr || stdout || err.message).trim().split('\n').filter(Boolean);
        // The CLI prints Postgres's error (`ERROR: ... (SQLSTATE ...)`) above the failing statement.
        const pgError = lines.find((line) => /^ERROR: /.test(line.trim()));
        const cause = [pgError?.trim(), ...lines.slice(-3)].filter(Boolean).join(' | ');
        reject(new StackError(`supabase ${args[0]} ${args[1] ?? ''} failed: ${cause}`, 'fix the migration or seed it names, then `npm run db:reset`'));
      } else resolve(stdout + stderr);
    });
  });
}

/** Applies pending migrations (and the seed, once) with `supabase db push`. */
export async function pushMigrations(config: StackConfig, log: Log): Promise<void> {
  const out = await runSupabaseCli(
    ['db', 'push', '--db-url', `${config.dbUrl}?sslmode=disable`, '--include-seed', '--yes', '--workdir', config.projectRoot],
    config.projectRoot,
  );
  for (const line of out.split('\n')) {
    if (/^Applying (migration|seed)/.test(line.trim())) log(line.trim());
  }
}

/** Drops and recreates the `postgres` database, then bootstraps, migrates and seeds it. */
export async function resetDatabase(config: StackConfig, log: Log): Promise<void> {
  const sql = adminSql(config, 'template1');
  try {
    // Logical replication slots (Realtime's) pin the database. Refuse new
    // connections first so that a running stack cannot take a slot again, then
    // end the slots' sessions and drop the slots.
    const [{ exists }] = await sql`select exists (select from pg_database where datname = 'postgres')`;
    if (exists) await sql`alter database postgres with allow_connections false`;
    for (let attempt = 0; exists && attempt < 50; attempt++) {
      await sql`select pg_terminate_backend(active_pid) from pg_replication_slots where database = 'postgres' and active_pid is not null`;
      // A terminated session releases its slot a moment later: drop what is free, then look again.
      await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = 'postgres' and active_pid is null`.catch(() => {});
      const [{ n }] = await sql`select count(*)::int as n from pg_replication_slots where database = 'postgres'`;
      if (n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await sql`drop database if exists postgres with (force)`;
    await sql`create database postgres`;
  } finally {
    await sql.end();
  }
  await prepareDatabase(config, log);
}

/**
 * The Vault secrets a hosted project is given once at deploy (see README,
 * "Deploy"), written here for this stack: where the API is (`project_url`) and
 * its `service_role_key`, so that database jobs can call edge functions through
 * pg_net exactly as on hosted. Rewritten at every start, as the port may change.
 */
export async function writeProjectSecrets(config: StackConfig): Promise<void> {
  const sql = adminSql(config);
  try {
    for (const [name, value] of [['project_url', config.apiUrl], ['service_role_key', config.keys.serviceRoleKey]]) {
      await sql`
        with updated as (update vault.secrets set secret = ${value}, updated_at = now() where name = ${name} returning id)
        select vault.create_secret(${value}, ${name}, 'Written by the local stack at start') where not exists (select from updated)`;
    }
  } finally {
    await sql.end();
  }
}

export async function prepareDatabase(config: StackConfig, log: Log): Promise<void> {
  await applyBootstrap(config, log);
  await writeProjectSecrets(config);
  await pushMigrations(config, log);
}
