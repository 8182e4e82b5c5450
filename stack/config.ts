// Stack configuration: `supabase/config.toml` is the source of truth (as for
// `supabase start`), with environment overrides for ports and the data folder.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { localKeys, readSigningKeys, SigningKeysError, type Keys } from './keys.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The TOML is loosely typed on purpose: each service reads the sections it needs.
export type Toml = Record<string, any>;

export interface StackConfig {
  projectRoot: string;
  supabaseDir: string;
  dataDir: string;
  host: string;
  apiPort: number;
  dbPort: number;
  apiUrl: string;
  /** The developer's connection, as `postgres` (not a superuser, as on hosted): migrations, seed, `npm start`'s status. */
  dbUrl: string;
  /** The platform's superuser (`supabase_admin`), which only the stack's own services use, as Supabase's do. */
  adminDbUrl: string;
  keys: Keys;
  toml: Toml;
  /** Extra environment for edge functions, overriding supabase/functions/.env. */
  functionsEnv: Record<string, string>;
  /** Schemas `/rest/v1` exposes besides `[api] schemas` (the REST conformance fixture in tests). */
  restExtraSchemas: string[];
}

export interface StackOptions {
  projectRoot?: string;
  dataDir?: string;
  apiPort?: number;
  dbPort?: number;
  functionsEnv?: Record<string, string>;
  restExtraSchemas?: string[];
}

function intFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new StackError(`${name}=${raw} is not a port number`, `set ${name} to a number from 1 to 65535`);
  return n;
}

/** An error with a one-line cause and a hint, printed without a stack trace. */
export class StackError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'StackError';
  }
}

export function readToml(supabaseDir: string): Toml {
  const file = path.join(supabaseDir, 'config.toml');
  try {
    return parse(readFileSync(file, 'utf8')) as Toml;
  } catch (err) {
    throw new StackError(`cannot read ${file}: ${(err as Error).message.split('\n')[0]}`, 'run `npx supabase init` or fix the TOML syntax');
  }
}

/** `[auth] signing_keys_path`, read as the CLI reads it (relative to supabase/); the CLI's local key when unset. */
function signingKeysOf(supabaseDir: string, toml: Toml) {
  const configured = toml.auth?.signing_keys_path;
  if (!configured) return undefined;
  const file = path.resolve(supabaseDir, String(configured));
  try {
    return readSigningKeys(file);
  } catch (err) {
    const reason = err instanceof SigningKeysError ? err.message : (err as Error).message.split('\n')[0];
    throw new StackError(`failed to read signing keys ${file}: ${reason}`, 'run `npx supabase gen signing-key --algorithm ES256` or fix [auth] signing_keys_path');
  }
}

export function loadConfig(options: StackOptions = {}): StackConfig {
  const root = options.projectRoot ?? projectRoot;
  const supabaseDir = path.join(root, 'supabase');
  const toml = readToml(supabaseDir);
  const host = '127.0.0.1';
  const apiPort = options.apiPort ?? intFromEnv('STACK_API_PORT') ?? toml.api?.port ?? 54321;
  const dbPort = options.dbPort ?? intFromEnv('STACK_DB_PORT') ?? toml.db?.port ?? 54322;
  const dataDir = path.resolve(options.dataDir ?? process.env.STACK_DATA_DIR ?? path.join(root, '.stack', 'data'));
  const keys = localKeys(Number(toml.auth?.jwt_expiry ?? 3600), signingKeysOf(supabaseDir, toml));
  return {
    projectRoot: root,
    supabaseDir,
    dataDir,
    host,
    apiPort,
    dbPort,
    apiUrl: `http://${host}:${apiPort}`,
    dbUrl: `postgresql://postgres:postgres@${host}:${dbPort}/postgres`,
    adminDbUrl: `postgresql://supabase_admin:postgres@${host}:${dbPort}/postgres`,
    keys,
    toml,
    functionsEnv: options.functionsEnv ?? {},
    restExtraSchemas: options.restExtraSchemas ?? [],
  };
}
