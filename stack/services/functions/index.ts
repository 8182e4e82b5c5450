// `/functions/v1/<name>`: each folder of supabase/functions served by real Deno,
// as `supabase functions serve` and the hosted edge runtime do: verify_jwt per
// function from config.toml, the injected env plus supabase/functions/.env,
// requests passed through untouched, one reused worker process per function,
// restarted when the function's files change.
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { projectRoot as repoRoot } from '../../config.ts';
import { bearerToken, sendJson } from '../../http.ts';
import { verifyJwt } from '../../keys.ts';
import type { GatewayRequest, Service, ServiceContext } from '../service.ts';
import { denoBinary } from './deno.ts';
import { functionEnv } from './env.ts';
import { FolderWatch, IGNORED_BY_WATCH, lookupFunction, type FunctionDef } from './registry.ts';
import { FunctionWorker, WorkerError } from './worker.ts';

export interface FunctionsOptions {
  /** Time a function has to start answering a request (hosted: 150 s request idle timeout). */
  requestTimeoutMs?: number;
  /** Time a worker has to boot, including Deno's first download of npm packages. */
  bootTimeoutMs?: number;
}

const DENO_HOST_ENV = ['NPM_CONFIG_REGISTRY', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'DENO_CERT', 'DENO_TLS_CA_STORE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS'];

/** Error answers that the runtime itself gives carry `sb-error-code`, as on Supabase. */
function runtimeError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { code, message }, { 'sb-error-code': code, 'access-control-allow-origin': '*' });
}

export function createFunctionsService(ctx: ServiceContext, options: FunctionsOptions = {}): Service {
  const { config, log } = ctx;
  const functionsDir = path.join(config.supabaseDir, 'functions');
  const requestTimeoutMs = options.requestTimeoutMs ?? 150_000;
  const bootTimeoutMs = options.bootTimeoutMs ?? 120_000;
  // npm packages that functions import are cached here (git-ignored), shared by every stack of this checkout.
  const denoDir = process.env.DENO_DIR || path.join(repoRoot, '.stack', 'deno');
  const workers = new Map<string, FunctionWorker>();
  // A look at the files stats every file of the function and of _shared (about
  // half a millisecond of CPU), so it is kept until the file system reports a
  // change anywhere under the functions folder (inotify, before the next
  // request is read); concurrent requests share one look.
  const lookups = new Map<string, Promise<FunctionDef | null>>();
  const watch = new FolderWatch(functionsDir, IGNORED_BY_WATCH);
  const lookup = (name: string): Promise<FunctionDef | null> => {
    let pending = lookups.get(name);
    if (!pending) {
      const version = watch.arm();
      pending = lookupFunction(functionsDir, config.toml, name);
      lookups.set(name, pending);
      // Kept (functions that exist only: names are the caller's) while nothing changed since before the look began.
      const forget = () => {
        if (lookups.get(name) === pending) lookups.delete(name);
      };
      pending.then((def) => (def && watch.unchangedSince(version) ? watch.onChange(forget) : forget()), forget);
    }
    return pending;
  };
  let socketDir: Promise<string> | null = null;
  let generation = 0;
  let closed = false;

  async function workerFor({ name, fingerprint, entrypoint, denoConfig }: FunctionDef): Promise<FunctionWorker> {
    const current = workers.get(name);
    if (current?.alive && current.fingerprint === fingerprint) return current;
    if (current) {
      if (current.alive) log(`functions/${name}: files changed, starting a new worker`);
      current.retire();
    }
    socketDir ??= mkdtemp(path.join(os.tmpdir(), 'rambini-fn-'));
    const dir = await socketDir;
    const env = await functionEnv(config, path.join(functionsDir, '.env'), log);
    // Deno's own settings (cache, and how this machine reaches the npm registry:
    // proxies and extra CA certificates), not function secrets but harmless to them.
    const processEnv: Record<string, string> = { ...env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
    for (const key of DENO_HOST_ENV) if (process.env[key] && !(key in processEnv)) processEnv[key] = process.env[key]!;
    const again = workers.get(name);
    if (again && again !== current && again.alive && again.fingerprint === fingerprint) return again;
    const worker = new FunctionWorker({
      name,
      entrypoint,
      fingerprint,
      socketPath: path.join(dir, `${name}-${++generation}.sock`),
      denoConfig,
      cwd: config.projectRoot,
      env: processEnv,
      bootTimeoutMs,
      log,
    });
    workers.set(name, worker);
    return worker;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, gw: GatewayRequest): Promise<void> {
    const name = gw.path.split('/')[1] ?? '';
    const def = closed ? null : await lookup(name);
    if (!def) {
      runtimeError(res, 404, 'NOT_FOUND', 'Function not found');
      return;
    }
    // Preflights reach the function unverified, so it can answer CORS itself.
    if (def.verifyJwt && req.method !== 'OPTIONS') {
      if (!req.headers.authorization) {
        runtimeError(res, 401, 'UNAUTHORIZED_NO_AUTH_HEADER', 'Missing authorization header');
        return;
      }
      const token = bearerToken(req);
      const valid = token ? await verifyJwt(token, config.keys).then(() => true, () => false) : false;
      if (!valid) {
        runtimeError(res, 401, 'UNAUTHORIZED_INVALID_JWT_FORMAT', 'Invalid JWT');
        return;
      }
    }
    const worker = await workerFor(def);
    try {
      await worker.handle(req, res, gw.path + gw.url.search, requestTimeoutMs);
    } catch (err) {
      if (!(err instanceof WorkerError)) throw err;
      log(`functions/${def.name}: ${req.method} ${gw.path}: ${err.code}: ${err.message}`);
      if (!res.headersSent) runtimeError(res, err.status, err.code, err.message);
    }
  }

  return {
    mount: '/functions/v1',
    // Functions are reachable without an API key (webhooks carry none); verify_jwt guards them.
    openPaths: () => true,
    handle,
    async health() {
      try {
        denoBinary();
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
      const running = [...workers.values()].filter((w) => w.alive).map((w) => w.name);
      return { ok: true, detail: running.length ? `workers: ${running.sort().join(', ')}` : 'no workers started yet' };
    },
    async close() {
      closed = true;
      watch.close();
      const all = [...workers.values()];
      workers.clear();
      for (const w of all) w.stop();
      await Promise.all(all.map((w) => w.stopped()));
      if (socketDir) await rm(await socketDir, { recursive: true, force: true });
    },
  };
}
