// `/rest/v1`: a PostgREST-compatible API for what supabase-js sends. Requests are
// checked (JWT, schema, media type, preferences), planned into one SQL statement
// against the schema cache, run as the caller's role, and answered with
// PostgREST's statuses, headers and error bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import postgres from 'postgres';
import { errors as joseErrors } from 'jose';
import { BodyTooLargeError, bearerToken, readBody } from '../../http.ts';
import { verifyJwt, type VerifiedClaims } from '../../keys.ts';
import type { GatewayRequest, Service, ServiceContext } from '../service.ts';
import { ApiError, fromPostgresError } from './errors.ts';
import { ConnectionPool } from './connection-pool.ts';
import { execute, type Outcome, type RequestIdentity } from './executor.ts';
import { findRoutine, parseJsonBody, planDelete, planInsert, planPut, planRead, planRpc, planUpdate, type PlanInput, type Statement } from './plan.ts';
import { parseQuery } from './query-string.ts';
import { negotiate, parsePrefer, parseRange, pickSchema, type Accepted, type Preferences } from './request-headers.ts';
import { toCsv } from './csv.ts';
import { openApi } from './openapi.ts';
import { SchemaCacheHolder, qualified, type SchemaCache } from './schema-cache.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

export interface RestOptions {
  /** Schemas exposed besides `[api] schemas` (e.g. a test fixture schema). */
  extraSchemas?: string[];
}

function send(res: ServerResponse, status: number, body: string | null, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const out: Record<string, string | number> = { ...headers };
  if (body !== null) out['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, out);
  res.end(body ?? undefined);
}

function sendError(res: ServerResponse, err: ApiError, head: boolean): void {
  const body = JSON.stringify(err.body());
  send(res, err.status, head ? null : body, { 'content-type': JSON_TYPE, 'proxy-status': `PostgREST; error=${err.code}`, ...err.headers });
}

/** A bounded map that forgets its oldest entry first. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

// Verified tokens, as PostgREST's JWT cache: signature checks are skipped for a token seen before (expiry is still checked).
const jwtCache = new Map<string, VerifiedClaims>();

async function authenticate(req: IncomingMessage, keysCtx: ServiceContext['config']['keys']): Promise<VerifiedClaims> {
  const header = req.headers.authorization;
  const token = bearerToken(req);
  if (header !== undefined && token === null && /^bearer\s*$/i.test(header.trim())) {
    throw new ApiError(401, 'PGRST301', 'Empty JWT is sent in Authorization header', null, null, { 'www-authenticate': 'Bearer error="invalid_token", error_description="Empty JWT is sent in Authorization header"' });
  }
  if (token === null) return {};
  const invalid = (message: string, code = 'PGRST301') =>
    new ApiError(401, code, message, null, null, { 'www-authenticate': `Bearer error="invalid_token", error_description="${message}"` });
  const parts = token.split('.').length;
  if (parts !== 3) throw invalid(`Expected 3 parts in JWT; got ${parts}`);
  const cached = jwtCache.get(token);
  if (cached && (typeof cached.exp !== 'number' || cached.exp * 1000 > Date.now())) return cached;
  try {
    const claims = await verifyJwt(token, keysCtx);
    remember(jwtCache, token, claims, 1000);
    return claims;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalid('JWT expired', 'PGRST303');
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      throw invalid(err.claim === 'nbf' ? 'JWT not yet valid' : err.claim === 'iat' ? 'JWT issued at future' : 'Parsing claims failed', 'PGRST303');
    }
    if (err instanceof joseErrors.JOSEAlgNotAllowed) throw invalid('Wrong or unsupported encoding algorithm');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw invalid('JWT cryptographic operation failed');
    throw invalid("JWT couldn't be decoded");
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Content-Range and the status it implies (PostgREST: 206 for a partial page of a known total, 416 past the end). */
function rangeHeader(offset: number, page: number, total: number | null): { status: number; value: string } {
  const upper = offset + page - 1;
  const totalText = total === null ? '*' : String(total);
  const value = total !== 0 && offset <= upper ? `${offset}-${upper}/${totalText}` : `*/${totalText}`;
  let status = 200;
  if (total !== null) {
    if (offset > total) status = 416;
    else if (upper - offset + 1 < total) status = 206;
  }
  return { status, value };
}

/** Headers set with `set_config('response.headers', '[{"X-A": "b"}]', true)` in SQL. */
function gucHeaders(raw: string | null): Record<string, string> {
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || !parsed.every((h) => typeof h === 'object' && h !== null && Object.keys(h).length === 1 && typeof Object.values(h)[0] === 'string')) {
    throw new ApiError(500, 'PGRST111', 'response.headers guc must be a JSON array composed of objects with a single key and a string value');
  }
  return Object.fromEntries(parsed.map((h) => [Object.keys(h)[0].toLowerCase(), Object.values(h)[0] as string]));
}

function gucStatus(raw: string | null): number | null {
  if (!raw) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100 || n > 599) throw new ApiError(500, 'PGRST112', 'response.status guc must be a valid status code');
  return n;
}

interface Answer {
  head: boolean;
  kind: 'read' | 'insert' | 'update' | 'delete' | 'rpc' | 'put';
  prefs: Preferences;
  accepted: Accepted;
  outcome: Outcome;
  statement: Statement;
  table: string;
  maxRows: number | null;
}

function contentType(accepted: Accepted): string {
  if (accepted.kind === 'csv') return 'text/csv; charset=utf-8';
  if (accepted.kind === 'object') return `application/vnd.pgrst.object+json;${accepted.stripNulls ? ' nulls=stripped;' : ''} charset=utf-8`;
  return accepted.stripNulls ? 'application/vnd.pgrst.array+json; nulls=stripped; charset=utf-8' : JSON_TYPE;
}

function appliedPreferences(prefs: Preferences, kind: Answer['kind']): string[] {
  const out: string[] = [];
  if (prefs.resolution && kind === 'insert') out.push(`resolution=${prefs.resolution}`);
  if (prefs.missing && kind === 'insert') out.push(`missing=${prefs.missing}`);
  if (prefs.return && kind !== 'read') out.push(`return=${prefs.return}`);
  if (prefs.count) out.push(`count=${prefs.count}`);
  if (prefs.tx) out.push(`tx=${prefs.tx}`);
  if (prefs.params) out.push(`params=${prefs.params}`);
  if (prefs.handling) out.push(`handling=${prefs.handling}`);
  if (prefs.maxAffected !== undefined && prefs.handling === 'strict') out.push(`max-affected=${prefs.maxAffected}`);
  return out;
}

function respond(res: ServerResponse, a: Answer): void {
  const { row, planned } = a.outcome;
  const page = Number(row.page);
  let total = row.total === null ? null : Number(row.total);
  if (a.prefs.count === 'planned') total = planned;
  if (a.prefs.count === 'estimated' && total !== null && a.maxRows !== null && total > a.maxRows) total = Math.max(planned ?? 0, a.maxRows + 1);
  const headers: Record<string, string> = {};
  const applied = appliedPreferences(a.prefs, a.kind);
  if (applied.length) headers['preference-applied'] = applied.join(', ');
  let status: number;
  let body: string | null = null;
  if (a.kind === 'read' || a.kind === 'rpc') {
    if (a.statement.isVoid) {
      status = 204;
    } else {
      const range = rangeHeader(a.statement.offset, page, total);
      if (range.status === 416) {
        throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${a.statement.offset} was requested, but there are only ${total} rows.`, null, { 'content-range': `*/${total}` });
      }
      status = range.status;
      headers['content-range'] = range.value;
      body = row.body;
    }
  } else if (a.kind === 'put') {
    status = a.prefs.return === 'representation' ? 200 : 204;
    if (a.prefs.return === 'representation') body = row.body;
  } else if (a.kind === 'insert') {
    status = 201;
    headers['content-range'] = `*/${total ?? '*'}`;
    if (a.prefs.return === 'representation') body = row.body;
    if (row.location) {
      const pk = JSON.parse(row.location) as Record<string, unknown>;
      headers.location = `/${a.table}?${Object.entries(pk).map(([k, v]) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(v))}`).join('&')}`;
    }
  } else {
    headers['content-range'] = page > 0 ? `0-${page - 1}/${total ?? '*'}` : `*/${total ?? '*'}`;
    status = a.prefs.return === 'representation' ? 200 : 204;
    if (a.prefs.return === 'representation') body = row.body;
  }
  Object.assign(headers, gucHeaders(row.response_headers));
  status = gucStatus(row.response_status) ?? status;
  if (body !== null) {
    headers['content-type'] = contentType(a.accepted);
    if (a.accepted.kind === 'csv') body = toCsv(body);
  }
  send(res, status, a.head || status === 204 ? null : body ?? '', headers);
}

export async function createRestService(ctx: ServiceContext, options: RestOptions = {}): Promise<Service> {
  const { config, log } = ctx;
  const api = config.toml.api ?? {};
  const schemas: string[] = [...(api.schemas ?? ['public', 'graphql_public']), ...(options.extraSchemas ?? [])].filter((s, i, all) => all.indexOf(s) === i);
  const extraSearchPath: string[] = api.extra_search_path ?? ['public', 'extensions'];
  const maxRows: number | null = typeof api.max_rows === 'number' && api.max_rows > 0 ? api.max_rows : null;
  // PostgREST logs in as `authenticator` and switches role per request.
  const dbUrl = config.dbUrl.replace('postgres:postgres@', 'authenticator:postgres@');
  const pool = new ConnectionPool(dbUrl, 8, 'postgrest');
  const listener = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'postgrest-schema-cache' } });
  const holder = new SchemaCacheHolder(listener, schemas, log);
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
      const prefs = parsePrefer(req.headers);
      const accepted = negotiate(req.headers);
      const rawBody = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? Buffer.alloc(0) : await readBody(req);

      let statement: Statement;
      let kind: 'read' | 'insert' | 'update' | 'delete' | 'rpc' | 'put';
      // Reads are planned once per distinct request shape and then run as prepared statements.
      // Calls are planned once per shape (argument names), then only their argument values change.
      const rpcBody = isRpc && method === 'POST' ? parseJsonBody(rawBody) : undefined;
      const rpcShape = rpcBody !== null && typeof rpcBody === 'object' && !Array.isArray(rpcBody) ? Object.keys(rpcBody).sort().join(',') : null;
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
        shape: accepted.kind === 'object' ? 'object' : 'array',
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
        role,
        claims,
        method,
        path: gw.path,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? ''])),
        cookies: parseCookies(req.headers.cookie),
        searchPath: [schema, ...extraSearchPath].filter((s, i, all) => all.indexOf(s) === i).map((s) => `"${s.replace(/"/g, '""')}"`).join(', '),
        roleSettings: cache.roleSettings.get(role) ?? [],
      };
      const singleWanted = accepted.kind === 'object';
      const outcome = await execute(pool, who, statement, {
        rollback: prefs.tx === 'rollback',
        prepare: cachedPlan !== undefined,
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
