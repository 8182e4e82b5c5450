// One Deno process serving one function on a unix socket; the stack proxies
// requests to it untouched (raw body and headers: webhook signatures depend on them).
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { denoBinary } from './deno.ts';

const HOST_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker-host.js');
const READY = '\u0000rambini-functions-worker-ready';
/** Headers that describe one hop of a connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface WorkerOptions {
  name: string;
  entrypoint: string;
  fingerprint: string;
  socketPath: string;
  /** deno.json of the functions folder, or null. */
  denoConfig: string | null;
  cwd: string;
  env: Record<string, string>;
  bootTimeoutMs: number;
  log: (line: string) => void;
}

/** What the caller gets when a worker fails: the edge runtime's status and code. */
export class WorkerError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function forwardable(headers: http.IncomingHttpHeaders | http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export class FunctionWorker {
  readonly name: string;
  readonly fingerprint: string;
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private exited = false;
  private inFlight = 0;
  private retired = false;
  private readonly agent: http.Agent;

  constructor(private readonly opts: WorkerOptions) {
    this.name = opts.name;
    this.fingerprint = opts.fingerprint;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  get alive(): boolean {
    return !this.exited && !this.retired;
  }

  /** Starts the process once; resolves when the function listens. */
  start(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      const { opts } = this;
      const args = ['run', '--allow-all', '--no-prompt', '--quiet', '--v8-flags=--max-old-space-size=256'];
      args.push(...(opts.denoConfig ? ['--config', opts.denoConfig] : ['--no-config']));
      args.push(HOST_SCRIPT, pathToFileURL(opts.entrypoint).href, opts.socketPath);
      const child = spawn(denoBinary(), args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let booted = false;
      const bootLog: string[] = [];
      const timer = setTimeout(() => {
        reject(new WorkerError(503, 'BOOT_ERROR', `function ${opts.name} did not start listening within ${opts.bootTimeoutMs / 1000} s`));
        this.stop();
      }, opts.bootTimeoutMs);
      const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
        let buf = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            onLine(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
      };
      const logLine = (line: string) => {
        if (!booted) bootLog.push(line);
        opts.log(`functions/${opts.name}: ${line}`);
      };
      lines(child.stdout!, (line) => {
        if (line === READY && !booted) {
          booted = true;
          clearTimeout(timer);
          resolve();
        } else logLine(line);
      });
      lines(child.stderr!, logLine);
      child.on('error', (err) => {
        clearTimeout(timer);
        this.exited = true;
        reject(new WorkerError(503, 'BOOT_ERROR', `cannot run Deno for ${opts.name}: ${err.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.exited = true;
        this.agent.destroy();
        if (!booted) {
          const detail = bootLog.filter((l) => l.trim()).slice(-3).join(' | ');
          reject(new WorkerError(503, 'BOOT_ERROR', `function ${opts.name} failed to boot${detail ? `: ${detail}` : ''}`));
        } else if (!this.retired) {
          opts.log(`functions/${opts.name}: worker exited (${signal ?? `code ${code}`})`);
        }
      });
    });
    return this.ready;
  }

  /** Proxies one request; resolves when the response has been sent. */
  async handle(req: IncomingMessage, res: ServerResponse, pathAndQuery: string, timeoutMs: number): Promise<void> {
    this.inFlight += 1;
    try {
      await this.start();
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const done = (err?: WorkerError) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const upstream = http.request({
          socketPath: this.opts.socketPath,
          agent: this.agent,
          method: req.method,
          path: pathAndQuery,
          headers: forwardable(req.headers),
        });
        const timer = setTimeout(() => {
          upstream.destroy();
          if (res.headersSent) res.destroy();
          done(new WorkerError(504, 'IDLE_TIMEOUT', `function ${this.name} did not respond within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        let responded = false;
        upstream.on('response', (up) => {
          responded = true;
          res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
          up.pipe(res);
          up.on('end', () => {
            // The function answered without reading the whole body (it refused it): the
            // rest is not sent on, and this connection to the worker is not reused.
            if (!req.complete) {
              req.unpipe(upstream);
              upstream.destroy();
            }
            done();
          });
          up.on('error', () => {
            res.destroy();
            done();
          });
        });
        let callerLeft = false;
        upstream.on('error', (err) => {
          // A worker may close a connection whose body it did not read once it has answered:
          // not a crash. The answer's own stream ends (or fails) on its own.
          if (responded && !req.complete) {
            req.unpipe(upstream);
            return;
          }
          // Unless the caller went away, the worker broke the connection (it
          // crashed or is exiting): take it out of service now, not when its exit
          // event arrives, so the next request gets a fresh worker.
          if (!callerLeft) this.retire();
          if (res.headersSent) {
            res.destroy();
            done();
          } else done(new WorkerError(500, 'WORKER_ERROR', `function ${this.name} failed while handling the request: ${err.message}`));
        });
        res.on('close', () => {
          // The caller went away: stop the function's work on this request too.
          if (!res.writableFinished) {
            callerLeft = true;
            upstream.destroy();
          }
          done();
        });
        req.pipe(upstream);
      });
    } finally {
      this.inFlight -= 1;
      if (this.retired && this.inFlight === 0) this.stop();
    }
  }

  /** Stops taking requests; the process ends when the current ones are answered. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.stop();
  }

  stop(): void {
    this.retired = true;
    const child = this.child;
    if (!child || this.exited) return;
    child.kill('SIGTERM');
    setTimeout(() => {
      if (!this.exited) child.kill('SIGKILL');
    }, 2000).unref();
  }

  /** Resolves once the process has exited. */
  async stopped(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }
}
