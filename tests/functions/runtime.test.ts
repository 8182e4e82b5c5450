// The functions runtime of the stack (/functions/v1) with real Deno, on a
// throw-away project whose functions exercise each edge-runtime behaviour.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type StackConfig } from '../../stack/config.ts';
import { createGateway, type Gateway } from '../../stack/gateway.ts';
import { signJwt } from '../../stack/keys.ts';
import { createFunctionsService } from '../../stack/services/functions/index.ts';
import type { Service } from '../../stack/services/service.ts';
import { freePort } from '../../stack/postgres.ts';

const FUNCTIONS: Record<string, string> = {
  echo: `
Deno.serve(async (req) => {
  if (req.method === 'OPTIONS') return new Response('ok', { headers: { 'access-control-allow-origin': '*', 'x-answered-by': 'echo' } });
  const body = new Uint8Array(await req.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  return Response.json({
    method: req.method,
    path: new URL(req.url).pathname + new URL(req.url).search,
    headers: Object.fromEntries(req.headers),
    sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
    pid: Deno.pid,
  }, { status: 201, headers: { 'x-from-function': 'yes' } });
});`,
  env: `Deno.serve(() => Response.json(Deno.env.toObject()));`,
  crash: `Deno.serve(() => { throw new Error('boom-in-handler'); });`,
  slow: `Deno.serve(() => new Promise((resolve) => setTimeout(() => resolve(new Response('late')), 20_000)));`,
  broken: `throw new Error('boom-at-boot');\nDeno.serve(() => new Response('never'));`,
  exits: `Deno.serve((req) => { if (new URL(req.url).searchParams.has('exit')) Deno.exit(3); return Response.json({ pid: Deno.pid }); });`,
  version: `Deno.serve(() => new Response('v1'));`,
  'default-export': `export default { fetch: () => new Response('from default export') };`,
  disabled: `Deno.serve(() => new Response('must not be served'));`,
};
/** Files of functions whose entrypoint is not index.ts (`entrypoint` in config.toml). */
const EXTRA_FILES: Record<string, string> = {
  'custom-entry/main.ts': `Deno.serve(() => new Response('from main.ts'));`,
  'mapped/index.ts': `import { greeting } from 'greeting';\nDeno.serve(() => new Response(greeting));`,
  'mapped/greeting.ts': `export const greeting = 'from the import map';`,
  'mapped/deno.json': JSON.stringify({ imports: { greeting: './greeting.ts' } }),
};

const CONFIG_TOML = `
[functions.env]
verify_jwt = false
[functions.crash]
verify_jwt = false
[functions.slow]
verify_jwt = false
[functions.broken]
verify_jwt = false
[functions.exits]
verify_jwt = false
[functions.version]
verify_jwt = false
[functions.default-export]
verify_jwt = false
[functions.disabled]
enabled = false
[functions.custom-entry]
verify_jwt = false
entrypoint = "./functions/custom-entry/main.ts"
[functions.mapped]
verify_jwt = false
import_map = "./functions/mapped/deno.json"
`;

const DOTENV = `
# test secrets
DOTENV_ONLY=from-dotenv
OVERRIDDEN_BY_PROCESS=from-dotenv
OVERRIDDEN_BY_STACK="from-dotenv"
SUPABASE_URL=http://must-not-win
`;

describe('functions runtime', () => {
  let root: string;
  let config: StackConfig;
  let service: Service;
  let gateway: Gateway;
  let url: string;
  const logs: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'rambini-fn-test-'));
    const functionsDir = path.join(root, 'supabase', 'functions');
    await mkdir(path.join(functionsDir, '_shared'), { recursive: true });
    await writeFile(path.join(root, 'supabase', 'config.toml'), CONFIG_TOML);
    await writeFile(path.join(functionsDir, '.env'), DOTENV);
    await writeFile(path.join(functionsDir, '_shared', 'util.ts'), 'export const x = 1;\n');
    for (const [name, code] of Object.entries(FUNCTIONS)) {
      await mkdir(path.join(functionsDir, name));
      await writeFile(path.join(functionsDir, name, 'index.ts'), code);
    }
    for (const [file, code] of Object.entries(EXTRA_FILES)) {
      await mkdir(path.dirname(path.join(functionsDir, file)), { recursive: true });
      await writeFile(path.join(functionsDir, file), code);
    }
    process.env.OVERRIDDEN_BY_PROCESS = 'from-process';
    process.env.NOT_IN_DOTENV = 'stays-out';
    config = loadConfig({ projectRoot: root, apiPort: await freePort(), dbPort: 1, functionsEnv: { OVERRIDDEN_BY_STACK: 'from-stack' } });
    service = createFunctionsService({ config, log: (l) => logs.push(l) }, { requestTimeoutMs: 3000 });
    gateway = createGateway(config, [service], async () => ({ ok: true }), (l) => logs.push(l));
    await new Promise<void>((resolve) => gateway.server.listen(config.apiPort, config.host, resolve));
    url = `${config.apiUrl}/functions/v1`;
  });

  afterAll(async () => {
    await gateway?.close();
    await service?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `Bearer ${config.keys.anonKey}` });

  it('answers 404 "Function not found" for unknown names and shared folders', async () => {
    for (const name of ['nope', '_shared', '', '..%2Fetc']) {
      const res = await fetch(`${url}/${name}`, { headers: auth() });
      expect(res.status).toBe(404);
      expect(res.headers.get('sb-error-code')).toBe('NOT_FOUND');
      expect((await res.json()).message).toBe('Function not found');
    }
  });

  it('rejects a missing or bad JWT with 401 and sb-error-code when verify_jwt is on', async () => {
    const wrongSecret = await signJwt({ role: 'anon' }, new TextEncoder().encode('another-secret-with-at-least-32-characters'));
    const expired = await signJwt({ role: 'anon', exp: Math.floor(Date.now() / 1000) - 60 }, config.keys.secretBytes);
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'UNAUTHORIZED_NO_AUTH_HEADER'],
      [{ authorization: 'Bearer not-a-jwt' }, 'UNAUTHORIZED_INVALID_JWT_FORMAT'],
      [{ authorization: `Basic ${config.keys.anonKey}` }, 'UNAUTHORIZED_INVALID_JWT_FORMAT'],
      [{ authorization: `Bearer ${wrongSecret}` }, 'UNAUTHORIZED_INVALID_JWT_FORMAT'],
      [{ authorization: `Bearer ${expired}` }, 'UNAUTHORIZED_INVALID_JWT_FORMAT'],
    ];
    for (const [headers, code] of cases) {
      const res = await fetch(`${url}/echo`, { method: 'POST', headers, body: '{}' });
      expect(res.status).toBe(401);
      expect(res.headers.get('sb-error-code')).toBe(code);
      expect((await res.json()).code).toBe(code);
    }
    const ok = await fetch(`${url}/echo`, { method: 'POST', headers: auth(), body: '{}' });
    expect(ok.status).toBe(201);
  });

  it('passes OPTIONS to the function without verification', async () => {
    const res = await fetch(`${url}/echo`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-answered-by')).toBe('echo');
  });

  it('serves functions with verify_jwt = false without any key', async () => {
    const res = await fetch(`${url}/version`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('v1');
  });

  it('passes the raw body, headers, sub-path and query through, and the answer back', async () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const res = await fetch(`${url}/echo/sub/path?a=1&b=%20x`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/octet-stream', 'X-Paystack-Signature': 'abc123', 'x-multi': 'one, two' },
      body,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-from-function')).toBe('yes');
    const echoed = await res.json();
    expect(echoed.method).toBe('PUT');
    expect(echoed.path).toBe('/echo/sub/path?a=1&b=%20x');
    expect(echoed.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(echoed.headers['x-paystack-signature']).toBe('abc123');
    expect(echoed.headers['x-multi']).toBe('one, two');
    expect(echoed.headers['content-type']).toBe('application/octet-stream');
    expect(echoed.headers.authorization).toBe(`Bearer ${config.keys.anonKey}`);
  });

  it('injects the Supabase variables and .env, overridden by the environment and the stack options', async () => {
    const env = await (await fetch(`${url}/env`)).json();
    expect(env.SUPABASE_URL).toBe(config.apiUrl);
    expect(env.SUPABASE_ANON_KEY).toBe(config.keys.anonKey);
    expect(env.SUPABASE_SERVICE_ROLE_KEY).toBe(config.keys.serviceRoleKey);
    expect(env.SUPABASE_DB_URL).toBe(config.dbUrl);
    expect(JSON.parse(env.SUPABASE_PUBLISHABLE_KEYS)).toEqual({ default: config.keys.publishableKey });
    expect(JSON.parse(env.SUPABASE_SECRET_KEYS)).toEqual({ default: config.keys.secretKey });
    expect(env.DOTENV_ONLY).toBe('from-dotenv');
    expect(env.OVERRIDDEN_BY_PROCESS).toBe('from-process');
    expect(env.OVERRIDDEN_BY_STACK).toBe('from-stack');
    expect(env.NOT_IN_DOTENV).toBeUndefined();
    // The host's own environment stays out (Deno adds a PATH of its own).
    expect(env.HOME).toBeUndefined();
    expect(env.PATH).not.toBe(process.env.PATH);
    expect(logs.some((l) => l.includes('SUPABASE_URL is reserved'))).toBe(true);
  });

  it('reuses one worker per function, also under concurrent requests', async () => {
    const pids = await Promise.all(Array.from({ length: 6 }, async () => (await (await fetch(`${url}/echo`, { method: 'POST', headers: auth(), body: 'x' })).json()).pid));
    const again = (await (await fetch(`${url}/echo`, { method: 'POST', headers: auth(), body: 'y' })).json()).pid;
    expect(new Set([...pids, again]).size).toBe(1);
  });

  it('turns a thrown error into a 500 JSON answer and a log line, and keeps the worker', async () => {
    const res = await fetch(`${url}/crash`);
    expect(res.status).toBe(500);
    expect(res.headers.get('sb-error-code')).toBe('WORKER_ERROR');
    expect((await res.json()).code).toBe('WORKER_ERROR');
    expect(logs.some((l) => l.startsWith('functions/crash:') && l.includes('boom-in-handler'))).toBe(true);
    expect((await fetch(`${url}/crash`)).status).toBe(500);
  });

  it('answers 503 BOOT_ERROR with the cause in the log when a function fails to start', async () => {
    const res = await fetch(`${url}/broken`);
    expect(res.status).toBe(503);
    expect(res.headers.get('sb-error-code')).toBe('BOOT_ERROR');
    expect((await res.json()).message).toContain('boom-at-boot');
    expect(logs.some((l) => l.startsWith('functions/broken:') && l.includes('boom-at-boot'))).toBe(true);
  });

  it('answers 500 when the worker dies mid-request, and starts a new one for the next', async () => {
    const first = (await (await fetch(`${url}/exits`)).json()).pid;
    const died = await fetch(`${url}/exits?exit`);
    expect(died.status).toBe(500);
    expect((await died.json()).code).toBe('WORKER_ERROR');
    const next = await fetch(`${url}/exits`);
    expect(next.status).toBe(200);
    expect((await next.json()).pid).not.toBe(first);
  });

  it('answers 504 IDLE_TIMEOUT when a function does not answer in time', async () => {
    const res = await fetch(`${url}/slow`);
    expect(res.status).toBe(504);
    expect(res.headers.get('sb-error-code')).toBe('IDLE_TIMEOUT');
  });

  it('honours `entrypoint`, `import_map` and `enabled = false` from config.toml', async () => {
    expect(await (await fetch(`${url}/custom-entry`)).text()).toBe('from main.ts');
    expect(await (await fetch(`${url}/mapped`)).text()).toBe('from the import map');
    expect((await fetch(`${url}/disabled`, { headers: auth() })).status).toBe(404);
  });

  it('serves a default-exported { fetch } handler', async () => {
    expect(await (await fetch(`${url}/default-export`)).text()).toBe('from default export');
  });

  it('picks up a change of the function or of shared files on the next request', async () => {
    const functionsDir = path.join(root, 'supabase', 'functions');
    expect(await (await fetch(`${url}/version`)).text()).toBe('v1');
    await writeFile(path.join(functionsDir, 'version', 'index.ts'), `import { x } from '../_shared/util.ts';\nDeno.serve(() => new Response('v2-' + x));`);
    expect(await (await fetch(`${url}/version`)).text()).toBe('v2-1');
    await writeFile(path.join(functionsDir, '_shared', 'util.ts'), 'export const x = 22;\n');
    expect(await (await fetch(`${url}/version`)).text()).toBe('v2-22');
  });

  it('picks up changes in a folder created after the first request, and a function added later', async () => {
    const functionsDir = path.join(root, 'supabase', 'functions');
    expect(await (await fetch(`${url}/version`)).text()).toMatch(/^v2-/);
    await mkdir(path.join(functionsDir, '_shared', 'deep'), { recursive: true });
    await writeFile(path.join(functionsDir, '_shared', 'deep', 'y.ts'), 'export const y = 1;\n');
    await writeFile(path.join(functionsDir, 'version', 'index.ts'), `import { y } from '../_shared/deep/y.ts';\nDeno.serve(() => new Response('v3-' + y));`);
    expect(await (await fetch(`${url}/version`)).text()).toBe('v3-1');
    await writeFile(path.join(functionsDir, '_shared', 'deep', 'y.ts'), 'export const y = 2;\n');
    expect(await (await fetch(`${url}/version`)).text()).toBe('v3-2');
    expect((await fetch(`${url}/latecomer`)).status).toBe(404);
    await mkdir(path.join(functionsDir, 'latecomer'));
    await writeFile(path.join(functionsDir, 'latecomer', 'index.ts'), `Deno.serve(() => new Response('here'));`);
    expect(await (await fetch(`${url}/latecomer`, { headers: auth() })).text()).toBe('here');
  });

  it('reports Deno and its workers at /health', async () => {
    const health = await service.health!();
    expect(health.ok).toBe(true);
    expect(health.detail).toContain('echo');
  });
});
