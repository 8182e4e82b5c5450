// The API gateway: one HTTP server with Supabase's mount points, doing what
// Kong does in front of Supabase: API-key checks, CORS, routing, /health.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StackConfig } from './config.ts';
import { closeIfBodyUnread, sendJson } from './http.ts';
import { apiKeyJwt, apiKeyRole } from './keys.ts';
import type { ComponentHealth, GatewayRequest, Service } from './services/service.ts';

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'content-range, content-location, location, preference-applied, x-sb-error-code, sb-error-code, x-supabase-api-version, range-unit',
};

/** Longest request target (path and query) the gateway accepts; longer ones get 414. */
export const MAX_URL_BYTES = 16 * 1024;

/** Mounts whose browser preflights the gateway answers itself; functions answer their own. */
const GATEWAY_CORS_MOUNTS = new Set(['/auth/v1', '/rest/v1', '/realtime/v1']);

export interface Gateway {
  server: http.Server;
  close(): Promise<void>;
}

function apiKeyOf(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.apikey;
  const value = Array.isArray(header) ? header[0] : header;
  return value || url.searchParams.get('apikey') || null;
}

type Checked = { ok: true; gw: GatewayRequest } | { ok: false; status: number; body: object };

function checkRequest(config: StackConfig, service: Service, req: IncomingMessage, url: URL): Checked {
  const path = url.pathname.slice(service.mount.length) || '/';
  const base = { path, url };
  if (service.openPaths?.(path, req.method ?? 'GET')) {
    const key = apiKeyOf(req, url);
    return { ok: true, gw: { ...base, apiKey: key ? apiKeyJwt(config.keys, key) ?? key : null, apiKeyRole: key ? apiKeyRole(config.keys, key) : null } };
  }
  const key = apiKeyOf(req, url);
  if (!key) {
    return { ok: false, status: 401, body: { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' } };
  }
  const role = apiKeyRole(config.keys, key);
  const jwt = apiKeyJwt(config.keys, key);
  if (!role || !jwt) {
    return { ok: false, status: 401, body: { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' } };
  }
  // Like Supabase's gateway: a request with only an apikey acts with that key's role, and
  // an opaque key in Authorization (supabase-js sends `Bearer <key>` without a session) is
  // not a JWT, so it is replaced by the JWT of the apikey's role.
  if (!req.headers.authorization || /^bearer\s+sb_/i.test(req.headers.authorization)) req.headers.authorization = `Bearer ${jwt}`;
  // Services see the JWT of the key (Realtime takes it as the socket's token, as the CLI's gateway rewrites the apikey parameter).
  return { ok: true, gw: { ...base, apiKey: jwt, apiKeyRole: role } };
}

export function createGateway(config: StackConfig, services: Service[], postgresHealth: () => Promise<ComponentHealth>, log: (line: string) => void): Gateway {
  const route = (pathname: string) => services.find((s) => pathname === s.mount || pathname.startsWith(s.mount + '/'));

  async function health(res: ServerResponse) {
    const entries = await Promise.all([
      ['postgres', postgresHealth] as const,
      ...services.flatMap((s) => (s.health ? [[s.mount.split('/')[1], () => s.health!()] as const] : [])),
    ].map(async ([name, check]) => [name, await check().catch((err: Error) => ({ ok: false, detail: err.message }))] as const));
    const components = Object.fromEntries(entries);
    const dbOk = components.postgres.ok;
    const allOk = entries.every(([, h]) => h.ok);
    sendJson(res, dbOk ? 200 : 503, { status: allOk ? 'ok' : dbOk ? 'degraded' : 'down', components }, CORS_HEADERS);
  }

  // Headers may exceed the URL bound, so a long URL gets the gateway's 414, not Node's bare 431.
  const server = http.createServer({ maxHeaderSize: 2 * MAX_URL_BYTES }, async (req, res) => {
    closeIfBodyUnread(req, res);
    // Supabase's gateway refuses over-long request lines with 414 `URI too long`.
    if ((req.url ?? '').length > MAX_URL_BYTES) {
      res.writeHead(414, { 'content-type': 'text/plain', 'content-length': '13', ...CORS_HEADERS });
      res.end('URI too long\n');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', config.apiUrl);
    } catch {
      sendJson(res, 400, { message: 'Malformed request URL' });
      return;
    }
    if (url.pathname === '/health' || url.pathname === '/health/') {
      await health(res);
      return;
    }
    const service = route(url.pathname);
    if (!service) {
      sendJson(res, 404, { message: 'no Route matched with those values' }, CORS_HEADERS);
      return;
    }
    const gatewayCors = GATEWAY_CORS_MOUNTS.has(service.mount);
    if (gatewayCors) for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
    if (req.method === 'OPTIONS' && gatewayCors) {
      res.writeHead(200, {
        'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        'access-control-max-age': '3600',
        'content-length': '0',
      });
      res.end();
      return;
    }
    const checked = checkRequest(config, service, req, url);
    if (!checked.ok) {
      sendJson(res, checked.status, checked.body);
      return;
    }
    try {
      await service.handle(req, res, checked.gw);
    } catch (err) {
      log(`${service.mount}: unhandled error on ${req.method} ${url.pathname}: ${(err as Error).stack ?? err}`);
      sendJson(res, 500, { message: 'An unexpected error occurred in the local stack', code: 'unexpected_failure' });
    }
  });
  server.keepAliveTimeout = 65_000;

  // Upgraded sockets leave the HTTP server's bookkeeping, so close() ends them itself.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', config.apiUrl);
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      return;
    }
    const service = route(url.pathname);
    if (!service?.upgrade) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    const checked = checkRequest(config, service, req, url);
    if (!checked.ok) {
      const body = JSON.stringify(checked.body);
      socket.end(`HTTP/1.1 ${checked.status} Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    service.upgrade(req, socket, head, checked.gw);
  });

  return {
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      });
    },
  };
}
