// pg_net's background worker, in the stack's process: takes committed rows of
// net.http_request_queue, sends them and writes net._http_response. It wakes on
// the `pg_net_wake` notification that net.http_get/post/delete send (Postgres
// delivers it only at commit, so a rolled-back request is never seen), and
// polls slowly as a safety net (rows queued while the stack was down, a missed
// notification). Expired responses are deleted after pg_net's default ttl.
import postgres from 'postgres';
import type { StackConfig } from '../../config.ts';

/** pg_net.batch_size's default: rows taken from the queue per round. */
const BATCH_SIZE = 200;
/** The safety net only: notifications are what wake the worker (and a reconnect drains the queue). */
const POLL_MS = 30_000;
/** pg_net.ttl's default. */
const RESPONSE_TTL = '6 hours';

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, unknown> | null;
  body: Buffer | null;
  timeout_milliseconds: number;
}

interface Response {
  id: string;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

export interface NetWorker {
  close(): Promise<void>;
}

export function startNetWorker(config: StackConfig, log: (line: string) => void): NetWorker {
  // One connection for LISTEN (it is what net.check_worker_is_up looks for) and one for the queue, released when idle.
  const sql = postgres(config.adminDbUrl, { max: 1, idle_timeout: 10, onnotice: () => {}, connection: { application_name: 'pg_net worker' } });
  let closed = false;
  let draining: Promise<void> | null = null;
  let again = false;
  let lastError = '';
  const inFlight = new Set<Promise<unknown>>();

  const drain = (): void => {
    if (closed) return;
    if (draining) {
      again = true;
      return;
    }
    draining = (async () => {
      do {
        again = false;
        try {
          while (!closed && (await round()) > 0);
          lastError = '';
        } catch (err) {
          const e = err as postgres.PostgresError;
          // The product has not created the extension (yet): nothing to do.
          if (e.code === '42P01' || e.code === '3F000') continue;
          if (!closed && e.message !== lastError) log(`pg_net worker: ${e.message}`);
          lastError = e.message;
        }
      } while (again && !closed);
    })().finally(() => {
      draining = null;
    });
  };

  async function round(): Promise<number> {
    const rows = await sql<QueuedRequest[]>`
      with rows as (select id from net.http_request_queue order by id limit ${BATCH_SIZE} for update skip locked)
      delete from net.http_request_queue q using rows where q.id = rows.id
      returning q.id, q.method, q.url, q.headers, q.body, q.timeout_milliseconds`;
    if (rows.length === 0) return 0;
    const work = Promise.all(rows.map(send));
    inFlight.add(work);
    const responses = await work.finally(() => inFlight.delete(work));
    await sql`
      insert into net._http_response (id, status_code, content, headers, content_type, timed_out, error_msg)
      select id, status_code, content, headers, content_type, timed_out, error_msg
      from jsonb_to_recordset(${sql.json(responses as unknown as postgres.JSONValue)})
        as r(id bigint, status_code integer, content text, headers jsonb, content_type text, timed_out boolean, error_msg text)`;
    return rows.length;
  }

  async function expire(): Promise<void> {
    await sql`
      with rows as (select ctid from net._http_response where created < now() - ${RESPONSE_TTL}::interval order by created limit ${BATCH_SIZE})
      delete from net._http_response r using rows where r.ctid = rows.ctid`.catch(() => {});
  }

  const listening = sql.listen('pg_net_wake', drain, drain).catch((err: Error) => {
    if (!closed) log(`pg_net worker: cannot listen: ${err.message}`);
    return null;
  });
  const poll = setInterval(drain, POLL_MS);
  const cleanup = setInterval(() => void expire(), 60_000);
  poll.unref();
  cleanup.unref();

  return {
    async close() {
      closed = true;
      clearInterval(poll);
      clearInterval(cleanup);
      await Promise.race([Promise.allSettled([...inFlight, draining]), new Promise((r) => setTimeout(r, 1000))]);
      await (await listening)?.unlisten().catch(() => {});
      await sql.end({ timeout: 1 });
    },
  };
}

/** One request as pg_net's curl handle sends it: no redirects followed, the row's timeout for the whole exchange. */
async function send(row: QueuedRequest): Promise<Response> {
  const started = performance.now();
  const result: Response = { id: row.id, status_code: null, content_type: null, headers: null, content: null, timed_out: null, error_msg: null };
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(row.headers ?? {})) {
      headers.append(name, typeof value === 'string' ? value : JSON.stringify(value));
    }
    const method = row.method.toUpperCase();
    const signal = AbortSignal.timeout(row.timeout_milliseconds);
    const res = await fetch(row.url, { method, headers, body: method === 'GET' || !row.body ? undefined : new Uint8Array(row.body), redirect: 'manual', signal });
    const text = await res.text();
    result.status_code = res.status;
    result.content_type = res.headers.get('content-type');
    result.headers = Object.fromEntries(res.headers);
    // pg_net stores the body as a C string: it ends at the first NUL.
    const nul = text.indexOf('\u0000');
    result.content = (nul >= 0 ? text.slice(0, nul) : text) || null;
    result.timed_out = false;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    result.timed_out = e.name === 'TimeoutError';
    result.error_msg = result.timed_out
      ? `Timeout of ${row.timeout_milliseconds} ms reached. Total time: ${(performance.now() - started).toFixed(6)} ms`
      : curlMessage(e);
  }
  return result;
}

/** The curl_easy_strerror text pg_net would store for a failed transfer. */
function curlMessage(err: Error & { cause?: { code?: string; message?: string } }): string {
  const code = err.cause?.code ?? (err as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return "Couldn't connect to server";
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return "Couldn't resolve host name";
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'Failure when receiving data from the peer';
    case 'ERR_INVALID_URL':
      return 'URL using bad/illegal format or missing URL';
  }
  if (/unknown scheme|not implemented|protocol/i.test(err.cause?.message ?? err.message)) return 'Unsupported protocol';
  return err.cause?.message ?? err.message;
}
