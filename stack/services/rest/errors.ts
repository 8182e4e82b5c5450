// PostgREST's error body ({ code, message, details, hint }) and its mapping of
// Postgres SQLSTATEs to HTTP statuses, so clients see the same codes as on Supabase.

export interface ErrorBody {
  code: string;
  message: string;
  /** A sentence, or (PGRST201) the candidate relationships as objects, as PostgREST sends them. */
  details: string | Array<Record<string, string>> | null;
  hint: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorBody['details'] = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint };
  }
}

/** PGRST100: a query string PostgREST's grammar rejects. */
export function parseError(message: string, details: string): ApiError {
  return new ApiError(400, 'PGRST100', message, details);
}

export function columnNotFound(relation: string, column: string): ApiError {
  return new ApiError(400, 'PGRST204', `Could not find the '${column}' column of '${relation}' in the schema cache`);
}

/** The error Postgres itself gives for an unknown column, which PostgREST passes on. */
export function undefinedColumn(relation: string, column: string): ApiError {
  return new ApiError(400, '42703', `column ${relation}.${column} does not exist`);
}

/**
 * HTTP status for a Postgres error, as PostgREST's `mapSQLtoHTTP` (src/library/PostgREST/Error.hs)
 * maps it, rule for rule and in its order. `authed`: the role is not anon.
 */
export function statusForSqlState(code: string, message: string, authed: boolean): number {
  const prefix = code.slice(0, 2);
  if (prefix === '08') return 503;
  if (prefix === '09') return 500;
  if (prefix === '0L' || prefix === '0P') return 403;
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  // pg-safeupdate's refusal is the client's fault; other cardinality errors are the server's.
  if (code === '21000') return message.endsWith('requires a WHERE clause') ? 400 : 500;
  if (code === '22023') return message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400;
  if (prefix === '25') return 500;
  if (prefix === '28') return 403;
  if (['2D', '38', '39', '3B', '40'].includes(prefix)) return 500;
  if (code === '53400') return 500;
  if (prefix === '53') return 503;
  if (prefix === '54' || prefix === '55') return 500;
  if (code === '57P01') return 503;
  if (['57', '58', 'F0', 'HV'].includes(prefix)) return 500;
  if (code === 'P0001') return 400;
  // Every other PL/pgSQL code, P0002 (no_data_found) included, is a server error.
  if (prefix === 'P0' || prefix === 'XX') return 500;
  if (code === '42883') return message.startsWith('function xmlagg(') ? 406 : 404;
  if (code === '42P01') return 404;
  if (code === '42P17') return 500;
  if (code === '42501') return authed ? 403 : 401;
  // `raise sqlstate 'PT404'`: the digits are the status; anything else after PT is a server error.
  if (prefix === 'PT') {
    const n = /^\d+$/.test(code.slice(2)) ? Number(code.slice(2)) : NaN;
    return n >= 100 && n <= 999 ? n : 500; // Node writes no status outside 100-999
  }
  return 400;
}

/** Client-side error codes of the `postgres` package and Node for an unreachable database. */
const CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/**
 * Whether a client's connection is gone: a client-side connection error, or a
 * FATAL from the server (a terminated backend, a shutdown), after which it closes.
 */
export function connectionLost(err: unknown): boolean {
  const e = err as { code?: string; severity?: string } | null;
  return CONNECTION_CODES.has(e?.code ?? '') || e?.severity === 'FATAL' || e?.severity === 'PANIC';
}

interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

/** Converts an error thrown by the `postgres` client into PostgREST's answer. */
export function fromPostgresError(err: unknown, authed: boolean): ApiError {
  if (err instanceof ApiError) return err;
  const pg = err as PgLikeError & { name?: string };
  if (!pg || typeof pg.code !== 'string' || pg.name !== 'PostgresError') {
    // 503 only for a database that cannot be reached (supabase-js retries GETs on it); anything else is our bug.
    if (CONNECTION_CODES.has(pg?.code ?? '')) return new ApiError(503, 'PGRST000', 'Database connection error. Retrying the connection.', (err as Error)?.message ?? String(err));
    return new ApiError(500, 'PGRSTX00', 'An unexpected error occurred in the local REST service', (err as Error)?.message ?? String(err));
  }
  const message = pg.message ?? '';
  if (pg.code === 'PGRST') return raisedPgrst(message, pg.detail);
  const status = statusForSqlState(pg.code, message, authed);
  return new ApiError(status, pg.code, message, pg.detail ?? null, pg.hint ?? null, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
}

/** `raise sqlstate 'PGRST' using message = '{json}', detail = '{json}'`: full control of the response. */
function raisedPgrst(message: string, detail: string | undefined): ApiError {
  let msg: { code?: unknown; message?: unknown; details?: unknown; hint?: unknown };
  try {
    msg = JSON.parse(message);
    if (typeof msg !== 'object' || msg === null || typeof msg.code !== 'string' || typeof msg.message !== 'string') throw new Error();
  } catch {
    return new ApiError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error', `Invalid JSON value for MESSAGE: '${message}'`,
      "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.");
  }
  if (detail === undefined) {
    return new ApiError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error', 'DETAIL is missing in the RAISE statement',
      "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.");
  }
  let det: { status?: unknown; headers?: unknown };
  try {
    det = JSON.parse(detail);
    if (typeof det !== 'object' || det === null || typeof det.status !== 'number' || typeof det.headers !== 'object' || det.headers === null) throw new Error();
  } catch {
    return new ApiError(500, 'PGRST121', 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error', `Invalid JSON value for DETAIL: '${detail}'`,
      "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.");
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(det.headers as Record<string, unknown>)) headers[k.toLowerCase()] = String(v);
  const status = Number.isInteger(det.status) && (det.status as number) >= 100 && (det.status as number) <= 599 ? (det.status as number) : 500;
  return new ApiError(status, msg.code as string, msg.message as string, typeof msg.details === 'string' ? msg.details : null, typeof msg.hint === 'string' ? msg.hint : null, headers);
}
