// The database client of the functions: `postgres` on SUPABASE_DB_URL, each
// call one short transaction as service_role (the role the payment contract is
// granted to), so SQL grants are enforced here exactly as in production.
import postgres from 'postgres';
import type { Database } from './database.types.ts';
import { HttpError } from './http.ts';
import { requireEnv } from './env.ts';

export type Tables<T extends keyof Database['public']['Tables']> = Database['public']['Tables'][T]['Row'];
export type Payment = Tables<'payments'>;

let client: postgres.Sql | null = null;

/**
 * Whether statements are prepared on this connection. SUPABASE_DB_URL is a
 * direct connection, where a prepared statement is sent in one round trip
 * instead of two (postgres.js describes an unprepared one before binding it);
 * Supavisor's transaction mode (port 6543) cannot keep prepared statements.
 */
export function preparesStatements(url: string): boolean {
  return new URL(url).port !== '6543';
}

function sql(): postgres.Sql {
  if (client) return client;
  const url = requireEnv('SUPABASE_DB_URL');
  client = postgres(url, {
    max: 5,
    idle_timeout: 20,
    prepare: preparesStatements(url),
    onnotice: () => {},
    connection: { application_name: 'edge-functions' },
    // Money is bigint in minor units; amounts fit in a double, as the generated types say.
    types: { bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) } },
  });
  return client;
}

/**
 * After a lost connection the next call gets a new pool; the old one ends once
 * the calls still running on it are done (or after a while, if one hangs).
 */
function retire(pool: postgres.Sql): void {
  if (client !== pool) return;
  client = null;
  pool.end({ timeout: 30 }).catch(() => {});
}

/** The errors the contract raises: our code as message, a human detail, SQLSTATE for the class. */
const STATUS_BY_SQLSTATE: Record<string, number> = { P0001: 400, '42501': 403, '23514': 400, '22P02': 400 };

/** `PTnnn` (PostgREST's "answer with status nnn"), then the classes above. */
function statusOf(code: string): number | undefined {
  const pt = /^PT([1-5]\d\d)$/.exec(code);
  return pt ? Number(pt[1]) : STATUS_BY_SQLSTATE[code];
}

/** Errors of the connection itself (it closed or broke), after which postgres.js reconnects it. */
const CONNECTION_ERRORS = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE']);

/**
 * Whether the connection is gone: a client-side connection error, or a FATAL
 * from the server (a terminated backend, a shutdown), after which it closes.
 * Nothing may be sent on it then: postgres.js would write to a closed socket
 * in a timer, and that uncaught error ends the worker and its other requests.
 * Nor may the pool reconnect it: postgres.js keeps the FATAL on the connection
 * and fails its next user with it (and, at times, an internal query, unhandled).
 */
function connectionLost(err: unknown): boolean {
  const e = err as { code?: string; severity?: string };
  return CONNECTION_ERRORS.has(e.code ?? '') || e.severity === 'FATAL' || e.severity === 'PANIC';
}

/**
 * One short transaction as service_role, on a connection of its own. BEGIN and
 * SET LOCAL ROLE go in one round trip (one simple query), so a one-statement
 * call makes three (begin, the statement, commit) where `sql.begin` makes four,
 * and one more each where statements cannot be prepared.
 * Nothing else is sent while a statement is being built: postgres.js would
 * blame a statement's build error (an undefined value) on the query in flight.
 */
export async function asServiceRole<T>(fn: (tx: postgres.Sql) => Promise<T>): Promise<T> {
  const pool = sql();
  const conn = await pool.reserve();
  // A lost connection never goes back to the pool: its pool is retired instead.
  let lost = false;
  try {
    try {
      await conn.unsafe('begin; set local role service_role');
      const value = await fn(conn);
      await conn.unsafe('commit');
      return value;
    } catch (err) {
      lost = connectionLost(err);
      // After a failed COMMIT the transaction is over and this ROLLBACK only warns;
      // a connection that cannot even roll back is not lent again.
      if (!lost) await conn.unsafe('rollback').catch(() => (lost = true));
      throw err;
    }
  } catch (err) {
    const e = err as { code?: string; message?: string; detail?: string };
    const status = e.code ? statusOf(e.code) : undefined;
    if (status) throw new HttpError(status, e.message ?? 'invalid_request', e.detail ?? e.message ?? 'The request was refused');
    throw err;
  } finally {
    if (lost) retire(pool);
    else conn.release();
  }
}
