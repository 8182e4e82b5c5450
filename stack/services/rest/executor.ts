// Runs one request's statement as PostgREST does: one transaction (read-only for
// GET/HEAD), the JWT's role and the request.* settings transaction-local, the
// role's own settings (statement_timeout, …) applied, then the statement.
import type { ConnectionPool } from './connection-pool.ts';
import { connectionLost } from './errors.ts';
import type { Statement } from './plan.ts';

export interface RequestIdentity {
  /** Who the pool shares connections fairly between: the user id, else the client's address. */
  caller: string;
  role: string;
  claims: Record<string, unknown>;
  method: string;
  path: string;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  searchPath: string;
  /** The role's own settings (`alter role … set`) and per-request ones such as `Prefer: timezone=`. */
  settings: Array<[string, string]>;
}

export interface ResultRow {
  total: string | null;
  page: string;
  body: string | null;
  location: string | null;
  /** Rows an upsert inserted (pgrst.inserted); null for other statements. */
  inserted?: number | null;
  response_headers: string | null;
  response_status: string | null;
}

export interface Outcome {
  row: ResultRow;
  /** The EXPLAIN output (JSON text, or the text plan's lines) when the statement was explained. */
  plan?: string;
  /** The planner's row estimate when a planned count was asked for. */
  planned: number | null;
}

/** The first failure among pipelined queries, in the order they were sent. */
function firstFailure(results: PromiseSettledResult<unknown>[]): unknown {
  for (const r of results) if (r.status === 'rejected') return r.reason;
  return undefined;
}

export async function execute(pool: ConnectionPool, who: RequestIdentity, statement: Statement, opts: { rollback: boolean; prepare: boolean; needsCheck: boolean; check: (outcome: Outcome) => void; plan?: boolean }): Promise<Outcome> {
  const settings: Array<[string, string]> = [
    ['role', who.role],
    ['request.jwt.claims', JSON.stringify(who.claims)],
    ['request.method', who.method],
    ['request.path', who.path],
    ['request.headers', JSON.stringify(who.headers)],
    ['request.cookies', JSON.stringify(who.cookies)],
    ['search_path', who.searchPath],
    ...who.settings,
  ];
  const setupSql = `select ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`;
  const conn = await pool.acquire(who.caller);
  let open = false;
  // A connection lost mid-request (a terminated backend, a restart) answers 503 and is replaced.
  let lost = false;
  try {
    // BEGIN, the settings, the statement and (when nothing must be checked first) COMMIT go out
    // together: one round trip. A failure turns the pipelined COMMIT into a rollback.
    const endsAtOnce = !opts.rollback && !opts.needsCheck;
    const queries: Array<Promise<unknown>> = [
      conn.unsafe(statement.readOnly ? 'begin read only' : 'begin', [], { prepare: true }),
      conn.unsafe(setupSql, settings.flat(), { prepare: true }),
      statement.explain ? conn.unsafe(statement.explain.sql, [...statement.explain.params] as never[]) : Promise.resolve(null),
      // Copies: the client rewrites parameter arrays in place while binding.
      conn.unsafe(statement.sql, [...statement.params] as never[], { prepare: opts.prepare }),
    ];
    if (endsAtOnce) queries.push(conn.unsafe('commit', [], { prepare: true }));
    open = !endsAtOnce;
    const results = await Promise.allSettled(queries);
    const failure = firstFailure(results);
    lost = results.some((r) => r.status === 'rejected' && connectionLost(r.reason));
    if (failure !== undefined) throw failure;
    const plan = (results[2] as PromiseFulfilledResult<Array<Record<string, Array<{ Plan: { 'Plan Rows': number } }>>> | null>).value;
    const rows = (results[3] as PromiseFulfilledResult<unknown[]>).value;
    const outcome: Outcome = { row: rows[0] as ResultRow, planned: plan ? Number(plan[0]['QUERY PLAN'][0].Plan['Plan Rows']) : null };
    if (opts.plan) {
      const lines = (rows as Array<{ 'QUERY PLAN': unknown }>).map((r) => r['QUERY PLAN']);
      outcome.plan = lines.length === 1 && typeof lines[0] !== 'string' ? JSON.stringify(lines[0]) : lines.join('\n');
    }
    if (open) {
      opts.check(outcome);
      await conn.unsafe(opts.rollback ? 'rollback' : 'commit', [], { prepare: true }).catch((err) => {
        lost = connectionLost(err);
        throw err;
      });
      open = false;
    }
    return outcome;
  } finally {
    if (lost) pool.replace(who.caller, conn);
    else {
      if (open) await conn.unsafe('rollback').catch(() => {});
      pool.release(who.caller, conn);
    }
  }
}
