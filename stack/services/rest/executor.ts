// Runs one request's statement as PostgREST does: one transaction (read-only for
// GET/HEAD), the JWT's role and the request.* settings transaction-local, the
// role's own settings (statement_timeout, …) applied, then the statement.
import type postgres from 'postgres';
import type { Statement } from './plan.ts';

export interface RequestIdentity {
  role: string;
  claims: Record<string, unknown>;
  method: string;
  path: string;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  searchPath: string;
  roleSettings: Array<[string, string]>;
}

export interface ResultRow {
  total: string | null;
  page: string;
  body: string | null;
  location: string | null;
  response_headers: string | null;
  response_status: string | null;
}

export interface Outcome {
  row: ResultRow;
  /** The planner's row estimate when a planned count was asked for. */
  planned: number | null;
}

/** Thrown inside the transaction to roll it back while still answering with the result. */
class Rollback extends Error {
  constructor(readonly outcome: Outcome) {
    super('rollback');
  }
}

export async function execute(sql: postgres.Sql, who: RequestIdentity, statement: Statement, opts: { rollback: boolean; check: (outcome: Outcome) => void }): Promise<Outcome> {
  const settings: Array<[string, string]> = [
    ['role', who.role],
    ['request.jwt.claims', JSON.stringify(who.claims)],
    ['request.method', who.method],
    ['request.path', who.path],
    ['request.headers', JSON.stringify(who.headers)],
    ['request.cookies', JSON.stringify(who.cookies)],
    ['search_path', who.searchPath],
    ...who.roleSettings,
  ];
  const setupSql = `select ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`;
  const setupParams = settings.flat();
  try {
    return await sql.begin(statement.readOnly ? 'read only' : '', async (tx) => {
      // Sent together without waiting (pipelined on the transaction's connection).
      const setup = tx.unsafe(setupSql, setupParams);
      const explain = statement.explain ? tx.unsafe(statement.explain.sql, statement.explain.params as postgres.ParameterOrJSON<never>[]) : null;
      const main = tx.unsafe(statement.sql, statement.params as postgres.ParameterOrJSON<never>[]);
      const [, plan, rows] = await Promise.all([setup, explain, main]);
      const planned = plan ? Number((plan[0] as Record<string, Array<{ Plan: { 'Plan Rows': number } }>>)['QUERY PLAN'][0].Plan['Plan Rows']) : null;
      const outcome: Outcome = { row: rows[0] as unknown as ResultRow, planned };
      opts.check(outcome);
      if (opts.rollback) throw new Rollback(outcome);
      return outcome;
    }) as Outcome;
  } catch (err) {
    if (err instanceof Rollback) return err.outcome;
    throw err;
  }
}
