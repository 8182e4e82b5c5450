// `/rest/v1`: a PostgREST-compatible API for what supabase-js sends. Requests are
// checked (JWT, schema, media type, preferences), planned into one SQL statement
// against the schema cache, run as the caller's role, and answered with
// PostgREST's statuses, headers and error bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import postgres from 'postgres';
import { BodyTooLargeError, readBody } from '../../http.ts';
import { authenticate, remember } from './auth.ts';
import type { GatewayRequest, Service, ServiceContext } from '../service.ts';
import { ApiError, fromPostgresError } from './errors.ts';
import { ConnectionPool } from './connection-pool.ts';
import { execute, type RequestIdentity } from './executor.ts';
import { findRoutine, parseJsonBody, planDelete, planInsert, planPut, planRead, planRpc, planUpdate, type PlanInput, type Statement } from './plan.ts';
import { parseQuery } from './query-string.ts';
import { negotiate, parsePrefer, parseRange, pickSchema } from './request-headers.ts';
import { respond, send, sendError } from './response.ts';
import { openApi } from './openapi.ts';
import { SchemaCacheHolder, qualified, type SchemaCache } from './schema-cache.ts';

export interface RestOptions {
  /** Schemas exposed besides `[api] schemas` (e.g. a test fixture schema). */
  extraSchemas?: string[];
  /** The role PostgREST logs in as (default `authenticator`); its `pgrst.*` settings are the in-database configuration. */
  loginRole?: string;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export async function createRestService(ctx: ServiceContext, options: RestOptions = {}): Promise<Service> {
  const { config, log } = ctx;
  const api = config.toml.api ?? {};
  const schemas: string[] = [...(api.schemas ?? ['public', 'graphql_public']), ...(options.extraSchemas ?? [])].filter((s, i, all) => all.indexOf(s) === i);
  const extraSearchPath: string[] = api.extra_search_path ?? ['public', 'extensions'];
  const configMaxRows: number | null = typeof api.max_rows === 'number' && api.max_rows > 0 ? api.max_rows : null;
  // PostgREST logs in as `authenticator` and switches role per request.
  const dbUrl = config.dbUrl.replace('postgres:postgres@', `${encodeURIComponent(options.loginRole ?? 'authenticator')}:postgres@`);
  // Eight for one caller, as before fairness, and two more that one caller never takes.
  const pool = new ConnectionPool(dbUrl, 10, 'postgrest');
  const listener = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'postgrest-schema-cache' } });
  const holder = new SchemaCacheHolder(listener, schemas, log);
  // Statements whose text came before are prepared: reads and calls repeat their SQL with other
  // values, and a prepared statement skips parsing and planning in Postgres.
  const seenSql = new Map<string, true>();
  const seenBefore = (text: string): boolean => {
    if (seenSql.has(text)) return true;
    remember(seenSql, text, true, 2000);
    return false;
  };
  const planCache = new WeakMap<SchemaCache, Map<string, { statement: Statement; kind: 'read' | 'rpc' | 'insert' | 'update' | 'delete' }>>();
  await holder.start();

  async function handle(req: IncomingMessage, res: ServerResponse, gw: GatewayRequest): Promise<void> {
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    let authed = false;
    try {
      if (!['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT'].includes(method)) throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
      const claims = await authenticate(req, config.keys);
      const role = typeof claims.role === 'string' && claims.role !== '' ? claims.role : 'anon';
      authed = role !== 'anon';
      const cache = holder.get();
      if (!cache) throw new ApiError(503, 'PGRST002', 'Could not query the database for the schema cache. Retrying.');
      const segments = gw.path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
      if (segments.length === 0) {
        if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
        const schema = pickSchema(req.headers, method, schemas);
        const body = JSON.stringify(openApi(cache, schema, config.apiUrl));
        send(res, 200, head ? null : body, { 'content-type': 'application/openapi+json; charset=utf-8' });
        return;
      }
      const isRpc = segments[0] === 'rpc' && segments.length === 2;
      if (!(segments.length === 1 || isRpc)) throw new ApiError(404, 'PGRST125', 'Invalid path specified in request URL');
      const schema = pickSchema(req.headers, method, schemas);
      const txEnd = cache.config.txEnd;
      const prefs = parsePrefer(req.headers, (name) => cache.timezones.has(name), txEnd.endsWith('-allow-override'));
      const accepted = negotiate(req.headers, cache.config.planEnabled);
      const maxRows = cache.config.maxRows ?? configMaxRows;
      const rawBody = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? Buffer.alloc(0) : await readBody(req);

      let statement: Statement;
      let kind: 'read' | 'insert' | 'update' | 'delete' | 'rpc' | 'put';
      // Reads are planned once per distinct request shape and then run as prepared statements.
      // Calls are planned once per shape (argument names), then only their argument values change.
      const rpcBody = isRpc && method === 'POST' ? parseJsonBody(rawBody) : undefined;
      const rpcShape = rpcBody !== null && typeof rpcBody === 'object' && !Array.isArray(rpcBody) ? JSON.stringify(Object.keys(rpcBody).sort()) : null;
      const cacheKey = method === 'GET' || method === 'HEAD' || rpcShape !== null
        ? [method, schema, gw.path, gw.url.search, req.headers.prefer, req.headers.accept, req.headers.range, rpcShape].join('\n')
        : null;
      let plans = planCache.get(cache);
      if (!plans) planCache.set(cache, (plans = new Map()));
      const cachedPlan = cacheKey === null ? undefined : plans.get(cacheKey);
      const input = (query: ReturnType<typeof parseQuery>): PlanInput => ({
        cache,
        schema,
        query,
        prefs,
        shape: accepted.kind === 'object' ? 'object' : accepted.kind === 'csv' ? 'csv' : 'array',
        stripNulls: accepted.stripNulls,
        maxRows,
        range: method === 'GET' ? parseRange(req.headers) : null,
      });
      if (cachedPlan) {
        ({ statement, kind } = cachedPlan);
        if (rpcBody !== undefined && statement.rebind) statement = { ...statement, params: statement.rebind(rpcBody) };
      } else if (isRpc) {
        kind = 'rpc';
        if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') throw new ApiError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
        const name = segments[1];
        const overloads = cache.routines.get(qualified(schema, name)) ?? [];
        const argNames = new Set(overloads.flatMap((r) => r.args.map((a) => a.name)));
        if (method === 'POST') {
          const body = rpcBody;
          const query = parseQuery(gw.url.searchParams);
          const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
          const { routine, singleJson } = findRoutine(cache, schema, name, keys, { post: true, singleObject: prefs.params === 'single-object', isGet: false });
          statement = planRpc(input(query), routine, body ?? {}, singleJson, false);
        } else {
          const query = parseQuery(gw.url.searchParams, (key) => argNames.has(key));
          const args = Object.fromEntries(query.rest);
          const { routine, singleJson } = findRoutine(cache, schema, name, Object.keys(args), { post: false, singleObject: false, isGet: true });
          // Arguments of other overloads that this one lacks are filters after all.
          const own = new Set(routine.args.map((a) => a.name));
          const leftover = [...query.rest.keys()].filter((k) => !own.has(k));
          const finalQuery = leftover.length ? parseQuery(gw.url.searchParams, (key) => own.has(key)) : query;
          statement = planRpc(input(finalQuery), routine, Object.fromEntries(finalQuery.rest), singleJson, true);
        }
      } else {
        const table = segments[0];
        const query = parseQuery(gw.url.searchParams);
        if (method === 'GET' || method === 'HEAD') {
          kind = 'read';
          statement = planRead(input(query), table);
        } else if (method === 'POST') {
          kind = 'insert';
          statement = planInsert(input(query), table, parseJsonBody(rawBody));
        } else if (method === 'PATCH') {
          kind = 'update';
          statement = planUpdate(input(query), table, parseJsonBody(rawBody));
        } else if (method === 'DELETE') {
          kind = 'delete';
          statement = planDelete(input(query), table);
        } else {
          kind = 'put';
          statement = planPut(input(query), table, parseJsonBody(rawBody));
        }
      }

      if (cacheKey !== null && !cachedPlan) remember(plans, cacheKey, { statement, kind }, 500);

      const who: RequestIdentity = {
        caller: typeof claims.sub === 'string' && claims.sub ? `user:${claims.sub}` : `address:${req.socket.remoteAddress ?? ''}`,
        role,
        claims,
        method,
        path: gw.path,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? ''])),
        cookies: parseCookies(req.headers.cookie),
        // PostgREST's search_path: the schema, then db-extra-search-path as given (duplicates kept).
        searchPath: [schema, ...extraSearchPath].map((s) => `"${s.replace(/"/g, '""')}"`).join(', '),
        settings: [...(cache.roleSettings.get(role) ?? []), ...(prefs.timezone ? [['timezone', prefs.timezone] as [string, string]] : [])],
      };
      // pgrst.db_tx_end: the configured end, unless it allows Prefer: tx to override it.
      const rollback = prefs.tx ? prefs.tx === 'rollback' : txEnd.startsWith('rollback');
      if (accepted.plan) {
        // EXPLAIN of the statement the request would run, as PostgREST's plan media type.
        const options = [`format ${accepted.plan.format}`, ...accepted.plan.options].join(', ');
        const explained: Statement = { ...statement, sql: `explain (${options}) ${statement.sql}`, explain: undefined };
        const outcome = await execute(pool, who, explained, { rollback, prepare: false, needsCheck: false, check: () => {}, plan: true });
        const forType = accepted.kind === 'object' ? 'application/vnd.pgrst.object+json' : accepted.kind === 'csv' ? 'text/csv' : 'application/json';
        send(res, 200, head ? null : outcome.plan ?? '', { 'content-type': `application/vnd.pgrst.plan+${accepted.plan.format}; for="${forType}"; charset=utf-8` });
        return;
      }
      const singleWanted = accepted.kind === 'object';
      const outcome = await execute(pool, who, statement, {
        rollback,
        prepare: seenBefore(statement.sql),
        needsCheck: singleWanted || (prefs.maxAffected !== undefined && prefs.handling === 'strict'),
        check: ({ row }) => {
          const page = Number(row.page);
          if (singleWanted && !statement.scalarBody && page !== 1 && !statement.isVoid) {
            throw new ApiError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${page} rows`);
          }
          if (prefs.maxAffected !== undefined && prefs.handling === 'strict' && kind !== 'read' && page > prefs.maxAffected) {
            throw new ApiError(400, 'PGRST124', 'Query result exceeds max-affected preference constraint', `The query affects ${page} rows`);
          }
        },
      });
      respond(res, { head, kind, prefs, accepted, outcome, statement, table: segments[0], maxRows });
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendError(res, new ApiError(413, 'PGRST102', err.message), head);
        return;
      }
      const apiErr = fromPostgresError(err, authed);
      if (apiErr.code === 'PGRST000' || apiErr.code === 'PGRSTX00') log(`rest: ${method} ${gw.path}: ${(err as Error)?.stack ?? err}`);
      sendError(res, apiErr, head);
    }
  }

  return {
    mount: '/rest/v1',
    handle,
    async health() {
      const cache = holder.get();
      return cache ? { ok: true, detail: `schema cache loaded ${new Date(cache.loadedAt).toISOString()}` } : { ok: false, detail: 'schema cache not loaded' };
    },
    async close() {
      await Promise.all([pool.end(), listener.end({ timeout: 5 })]);
    },
  };
}
