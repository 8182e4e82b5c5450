// The frame of every fake provider: a small HTTP server on 127.0.0.1 that
// records each call and can be told, over HTTP, to fail the calls that mention
// a given value. Tests run in other processes than the fakes (started by the
// global setup), and in parallel, so control is per value (a reference, a phone
// number), never a global switch.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The raw request body as text. */
  body: string;
  at: string;
}

export interface Failure {
  /** A call fails when its path or body contains this text. */
  match: string;
  /** The error status to answer; without it the call succeeds, only late (see delayMs). */
  status?: number;
  /** Answer only when POST /__fake/release {match} comes (the provider has done the work meanwhile), e.g. to let a webhook overtake the answer. */
  hold?: boolean;
  /** How many calls to fail; then the provider answers normally again. */
  times: number;
  body?: unknown;
}

export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse, body: string, url: URL) => Promise<boolean> | boolean;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts a fake provider. `route` answers the provider's own API; the control
 * API under `/__fake/` is the same for every fake:
 * GET /__fake/calls?match=x (recorded calls whose path or body contain x),
 * POST /__fake/fail {match, status?, hold?, times, body?}, POST /__fake/release {match}.
 */
export async function startFake(name: string, route: Route, port = 0): Promise<FakeServer> {
  const calls: RecordedCall[] = [];
  const failures: Failure[] = [];
  const held = new Map<string, Array<() => void>>();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readText(req);
      if (url.pathname === '/__fake/calls' && req.method === 'GET') {
        const match = url.searchParams.get('match') ?? '';
        sendJson(res, 200, calls.filter((c) => c.path.includes(match) || c.body.includes(match)));
        return;
      }
      if (url.pathname === '/__fake/release' && req.method === 'POST') {
        const { match } = JSON.parse(body) as { match: string };
        const waiting = held.get(match) ?? [];
        held.delete(match);
        for (const release of waiting) release();
        sendJson(res, 200, { released: waiting.length });
        return;
      }
      if (url.pathname === '/__fake/fail' && req.method === 'POST') {
        failures.push(JSON.parse(body) as Failure);
        sendJson(res, 200, { ok: true });
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
      const path = url.pathname + url.search;
      calls.push({ method: req.method ?? 'GET', path, headers, body, at: new Date().toISOString() });
      const failure = failures.find((f) => f.times > 0 && (path.includes(f.match) || body.includes(f.match)));
      if (failure) {
        failure.times -= 1;
        if (failure.hold) {
          const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
          const { match } = failure;
          res.end = ((...args: unknown[]) => {
            held.set(match, [...(held.get(match) ?? []), () => end(...args)]);
            return res;
          }) as typeof res.end;
        }
        if (failure.status) {
          sendJson(res, failure.status, failure.body ?? { message: `${name} (fake) is unavailable` });
          return;
        }
      }
      if (!(await route(req, res, body, url))) sendJson(res, 404, { message: `${name} (fake) has no route ${req.method} ${url.pathname}` });
    } catch (err) {
      sendJson(res, 500, { message: `${name} (fake) failed: ${(err as Error).message}` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Test-side helpers for the control API. */
export async function fakeCalls(baseUrl: string, match: string): Promise<RecordedCall[]> {
  return (await fetch(`${baseUrl}/__fake/calls?match=${encodeURIComponent(match)}`)).json() as Promise<RecordedCall[]>;
}

export async function failCalls(baseUrl: string, failure: Failure): Promise<void> {
  const res = await fetch(`${baseUrl}/__fake/fail`, { method: 'POST', body: JSON.stringify(failure) });
  if (!res.ok) throw new Error(`cannot configure the fake at ${baseUrl}`);
}

/** Sends the answers held for `match` (see Failure.hold); resolves to how many there were. */
export async function releaseCalls(baseUrl: string, match: string): Promise<number> {
  const res = await fetch(`${baseUrl}/__fake/release`, { method: 'POST', body: JSON.stringify({ match }) });
  return ((await res.json()) as { released: number }).released;
}
