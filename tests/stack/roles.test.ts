// `postgres` as on hosted Supabase: not a superuser, with exactly the rights
// hosted gives it (its grants plus what supautils allows), and the product's
// migrations applied as that role, so a migration hosted refuses fails here.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSupabaseCli } from '../../stack/database.ts';
import { platformSql, rolledBack, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';

const sql = serviceSql();

/** The error a statement run as postgres ends with (in its own transaction unless it cannot run in one). */
async function refusal(statement: string, inTransaction = true): Promise<string> {
  const run = inTransaction ? sql.begin((tx) => tx.unsafe(statement)) : sql.unsafe(statement);
  const err = await run.then(() => null, (e: Error) => e);
  if (!err) throw new Error(`expected refusal of: ${statement}`);
  return err.message;
}

describe('postgres as on hosted Supabase', () => {
  it('is not a superuser, with hosted\'s attributes; supabase_admin is the superuser', async () => {
    const roles = await sql`
      select rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin
      from pg_roles where rolname in ('postgres', 'supabase_admin') order by rolname`;
    expect(roles).toEqual([
      { rolname: 'postgres', rolsuper: false, rolcreatedb: true, rolcreaterole: true, rolreplication: true, rolbypassrls: true, rolcanlogin: true },
      { rolname: 'supabase_admin', rolsuper: true, rolcreatedb: true, rolcreaterole: true, rolreplication: true, rolbypassrls: true, rolcanlogin: true },
    ]);
    const [session] = await sql`select current_user as who, current_setting('is_superuser') as superuser`;
    expect(session).toEqual({ who: 'postgres', superuser: 'off' });
    const [m] = await sql`
      select pg_has_role('postgres', 'pg_read_all_data', 'member') as read_all,
             pg_has_role('postgres', 'pg_signal_backend', 'member') as signal,
             pg_has_role('postgres', 'authenticated', 'member') as api_role,
             pg_has_role('postgres', 'supabase_auth_admin', 'member') as auth_admin,
             pg_has_role('postgres', 'authenticator', 'usage') as authenticator`;
    expect(m).toEqual({ read_all: true, signal: true, api_role: true, auth_admin: false, authenticator: false });
  });

  it('applied the migrations: their history and the product\'s objects belong to postgres', async () => {
    const [history] = await sql`select tableowner from pg_tables where schemaname = 'supabase_migrations' and tablename = 'schema_migrations'`;
    expect(history.tableowner).toBe('postgres');
    const owners = await sql`select distinct tableowner from pg_tables where schemaname in ('public', 'private', 'admin')`;
    expect(owners).toEqual([{ tableowner: 'postgres' }]);
    // The trigger on auth.users and the policies on realtime.messages come from those migrations.
    const [made] = await sql`
      select (select count(*)::int from pg_trigger where tgrelid = 'auth.users'::regclass and not tgisinternal) as auth_triggers,
             (select count(*)::int from pg_policy where polrelid = 'realtime.messages'::regclass) as message_policies`;
    expect(made.auth_triggers).toBeGreaterThan(0);
    expect(made.message_policies).toBeGreaterThan(0);
  });

  it.runIf(stackEnv().embedded)('refuses, through `supabase db push`, a migration that hosted refuses, and records nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rambini-roles-'));
    try {
      await cp(path.resolve('supabase/config.toml'), path.join(dir, 'supabase/config.toml'));
      await cp(path.resolve('supabase/migrations'), path.join(dir, 'supabase/migrations'), { recursive: true });
      await writeFile(path.join(dir, 'supabase/migrations/29991231000000_table_in_auth.sql'), 'create table auth.user_notes (id uuid primary key references auth.users (id));\n');
      const push = runSupabaseCli(['db', 'push', '--db-url', `${stackEnv().dbUrl}?sslmode=disable`, '--yes', '--workdir', dir], dir);
      await expect(push).rejects.toThrow(/permission denied for schema auth/);
      const recorded = await sql`select version from supabase_migrations.schema_migrations where version = '29991231000000'`;
      expect(recorded).toEqual([]);
      expect(await sql`select to_regclass('auth.user_notes') as t`).toEqual([{ t: null }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('may create, alter and drop policies on realtime.messages and auth tables, and triggers on auth.users (supautils)', async () => {
    const state = await rolledBack(async (tx) => {
      await tx`create policy roles_probe on realtime.messages for select to authenticated using (false)`;
      await tx`alter policy roles_probe on realtime.messages using (true)`;
      await tx`drop policy roles_probe on realtime.messages`;
      await tx`create policy roles_probe on auth.identities for select to authenticated using (false)`;
      await tx`drop policy roles_probe on auth.identities`;
      await tx`create function public.roles_probe() returns trigger language plpgsql as $$ begin return new; end $$`;
      await tx`create trigger roles_probe after insert on auth.users for each row execute function public.roles_probe()`;
      await tx`drop trigger roles_probe on auth.users`;
      // The owners' rights were lent for those commands only.
      const [m] = await tx`select pg_has_role('postgres', 'supabase_auth_admin', 'usage') as auth, pg_has_role('postgres', 'supabase_realtime_admin', 'usage') as realtime`;
      return m;
    });
    expect(state).toEqual({ auth: false, realtime: false });
  });

  it('may not go further in auth and realtime than hosted allows', async () => {
    expect(await refusal('create table auth.roles_probe (id int)')).toBe('permission denied for schema auth');
    expect(await refusal('create function realtime.roles_probe() returns int language sql as $$ select 1 $$')).toBe('permission denied for schema realtime');
    expect(await refusal('create index roles_probe on auth.users (email)')).toBe('must be owner of table users');
    expect(await refusal('alter table auth.users add column roles_probe text')).toBe('must be owner of table users');
    expect(await refusal('alter table realtime.messages disable row level security')).toBe('must be owner of table messages');
    // A policy on one of realtime.messages' partitions: not on hosted's list.
    const [{ part }] = await sql`select inhrelid::regclass::text as part from pg_inherits where inhparent = 'realtime.messages'::regclass limit 1`;
    expect(await refusal(`create policy roles_probe on ${part} using (true)`)).toBe(`must be owner of table ${part.split('.')[1]}`);
    if (stackEnv().embedded) {
      // Nor may it drop what the platform put on such a table.
      await platformSql().unsafe(`create policy roles_probe_platform on ${part} using (true)`);
      try {
        expect(await refusal(`drop policy roles_probe_platform on ${part}`)).toBe(`must be owner of table ${part.split('.')[1]}`);
      } finally {
        await platformSql().unsafe(`drop policy roles_probe_platform on ${part}`);
      }
    }
    // Lent only to postgres itself: not after `set role` to an API role.
    expect(await refusal('set local role authenticated; create policy roles_probe on realtime.messages using (true)')).toBe('must be owner of table messages');
  });

  it('creates the privileged extensions, not the ones hosted keeps from it', async () => {
    const made = await rolledBack(async (tx) => {
      await tx`create extension pg_stat_statements with schema extensions`;
      await tx`create extension postgres_fdw with schema extensions`;
      await tx`create extension dblink with schema extensions`;
      return tx`select extname, extowner::regrole::text as owner from pg_extension where extname in ('pg_stat_statements', 'postgres_fdw', 'dblink') order by 1`;
    });
    expect(made).toEqual([
      { extname: 'dblink', owner: 'postgres' },
      { extname: 'pg_stat_statements', owner: 'postgres' },
      { extname: 'postgres_fdw', owner: 'postgres' },
    ]);
    expect(await refusal('create extension file_fdw')).toBe('permission denied to create extension "file_fdw"');
    expect(await refusal('create extension pageinspect')).toBe('permission denied to create extension "pageinspect"');
    // The migrations' pg_cron and pg_net: created by postgres, their objects the platform's.
    const standIns = await sql`
      select e.extname, e.extowner::regrole::text as owner, n.nspowner::regrole::text as schema_owner
      from pg_extension e join pg_namespace n on n.nspname = case e.extname when 'pg_cron' then 'cron' else 'net' end
      where e.extname in ('pg_cron', 'pg_net') order by 1`;
    expect(standIns).toEqual([
      { extname: 'pg_cron', owner: 'postgres', schema_owner: 'supabase_admin' },
      { extname: 'pg_net', owner: 'postgres', schema_owner: 'supabase_admin' },
    ]);
  });

  it('sets what supautils lets it set: API roles\' settings, pgrst.*, session_replication_role', async () => {
    const settings = await rolledBack(async (tx) => {
      await tx`alter role authenticated set statement_timeout = '20s'`;
      await tx`alter role authenticator set pgrst.db_aggregates_enabled = 'true'`;
      await tx`set local session_replication_role = replica`;
      return tx`
        select r.rolname, s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
        where r.rolname in ('authenticated', 'authenticator') order by 1`;
    });
    expect(settings.find((s) => s.rolname === 'authenticated')!.setconfig).toContain('statement_timeout=20s');
    expect(settings.find((s) => s.rolname === 'authenticator')!.setconfig).toContain('pgrst.db_aggregates_enabled=true');
    expect(await refusal("alter role authenticated set log_statement = 'all'")).toBe('permission denied to set parameter "log_statement"');
    expect(await refusal("set local log_statement = 'all'")).toBe('permission denied to set parameter "log_statement"');
  });

  it('may not do what only the platform may', async () => {
    expect(await refusal('alter role postgres superuser')).toBe('permission denied to alter role');
    expect(await refusal('create event trigger roles_probe on ddl_command_start execute function extensions.grant_pg_net_access()')).toBe('permission denied to create event trigger "roles_probe"');
    expect(await refusal("copy (select 1) to program 'true'")).toMatch(/^permission denied to COPY to or from an external program/);
    expect(await refusal("select pg_read_file('postgresql.conf')")).toBe('permission denied for function pg_read_file');
    expect(await refusal('grant pg_execute_server_program to postgres')).toMatch(/^permission denied to grant role "pg_execute_server_program"/);
    expect(await refusal("alter system set work_mem = '8MB'", false)).toBe('permission denied to set parameter "work_mem"');
  });
});
