// Shared measurement helpers for `npm run bench`. Figures are reported as
// ratios against a baseline measured in the same run, never as absolute targets.
import { readFileSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { StackConfig } from '../../stack/index.ts';

export interface BenchContext {
  config: StackConfig;
  log: (line: string) => void;
}

export interface RunResult {
  label: string;
  clients: number;
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Runs `op` from `clients` concurrent loops until `totalOps` operations have
 * completed (bounded in count) or `maxSeconds` pass (bounded in time).
 */
export async function runConcurrent(label: string, opts: { clients: number; totalOps: number; maxSeconds?: number }, op: (client: number, i: number) => Promise<unknown>): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + (opts.maxSeconds ?? 30) * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, client) => {
      while (next < opts.totalOps && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        await op(client, i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, clients: opts.clients, ops: latencies.length, seconds, opsPerSec: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** Prints results as a table, each throughput also as a ratio of the baseline's. */
export function printComparison(title: string, baseline: RunResult, others: RunResult[], log: (line: string) => void): void {
  log(`\n${title}`);
  log(`  ${'run'.padEnd(44)} ${'clients'.padStart(7)} ${'ops/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'× baseline'.padStart(11)}`);
  for (const r of [baseline, ...others]) {
    const ratio = r === baseline ? '1.00 (base)' : (r.opsPerSec / baseline.opsPerSec).toFixed(2);
    log(`  ${r.label.padEnd(44)} ${String(r.clients).padStart(7)} ${r.opsPerSec.toFixed(1).padStart(10)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${ratio.padStart(11)}`);
  }
}

/** Child pids by parent pid, from /proc (Linux). */
export function processChildren(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* exited meanwhile */ }
  }
  return children;
}

function tree(pids: number[], withChildren: boolean): number[] {
  if (!withChildren) return pids;
  const children = processChildren();
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  pids.forEach(visit);
  return out;
}

/**
 * Memory of processes (and their descendants when asked), in kB: PSS (shared
 * pages divided among the processes sharing them, so sums are true) and RSS.
 */
export function processMemory(pids: number[], withChildren: boolean): { pss: number; rss: number; count: number } {
  let pss = 0, rss = 0, count = 0;
  for (const pid of tree(pids, withChildren)) {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      count++;
    } catch { /* exited meanwhile */ }
  }
  return { pss, rss, count };
}

/** CPU time of processes (and descendants, living and reaped, when asked), in clock ticks (1/100 s). */
export function processCpuTicks(pids: number[], withChildren: boolean): number {
  let total = 0;
  for (const pid of tree(pids, withChildren)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    } catch { /* exited meanwhile */ }
  }
  return total;
}

/**
 * CPU time of this process and its descendants (living ones), in clock ticks,
 * by command name (Postgres backends under one name): read before and after a
 * run to see which process a path's CPU goes to.
 */
export function cpuTicksByCommand(): Map<string, number> {
  const children = processChildren();
  const out = new Map<string, number>();
  const visit = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = comm.startsWith('postgres') ? 'postgres' : comm;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch { /* exited meanwhile */ }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(process.pid);
  return out;
}

/** `name ms` per operation for each command that used CPU between two readings. */
export function cpuPerOp(before: Map<string, number>, after: Map<string, number>, ops: number): string {
  return [...after]
    .map(([name, t]) => [name, ((t - (before.get(name) ?? 0)) * 10) / ops] as const)
    .filter(([, ms]) => ms >= 0.05)
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ');
}

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy that holds every chunk `delayMs` before passing it on, each way,
 * in order: a network between client and server where a round trip costs what
 * it does between an app server and its database in one region. It runs in a
 * worker thread of its own, timed by a second one (delay-proxy.worker.ts), as
 * Node's timers would add at least a millisecond each way; the bench measures
 * and prints the round trip it really adds.
 */
export async function startDelayProxy(target: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  // tsx's loader is not inherited by workers: register it, then load the TypeScript module.
  const url = new URL('./delay-proxy.worker.ts', import.meta.url).href;
  const worker = new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`,
    { eval: true, workerData: { host: target.host, port: target.port, delayMs } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    port,
    close: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('close');
      await exited;
    },
  };
}
