// Shared measurement helpers for `npm run bench`. Figures are reported as
// ratios against a baseline measured in the same run, never as absolute targets.
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

function percentile(sorted: number[], p: number): number {
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
