// `npm run bench`: starts a private stack on free ports, then runs every
// benchmark module in scripts/bench/ (each default-exports `(ctx) => Promise<void>`).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startStack, StackError } from '../stack/index.ts';
import { freePort } from '../stack/postgres.ts';
import type { BenchContext } from './bench/harness.ts';

const benchDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench');
const only = process.argv.slice(2);
const log = (line: string) => console.log(line);

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rambini-bench-'));
let stack;
try {
  stack = await startStack({ dataDir, apiPort: await freePort(), dbPort: await freePort() });
} catch (err) {
  console.error(err instanceof StackError ? `error: ${err.message}\nhint:  ${err.hint}` : err);
  process.exit(1);
}
try {
  const modules = (await readdir(benchDir)).filter((f) => f.endsWith('.bench.ts')).sort();
  const ctx: BenchContext = { config: stack.config, log };
  for (const file of modules) {
    const name = file.replace(/\.bench\.ts$/, '');
    if (only.length && !only.includes(name)) continue;
    log(`\n=== ${name}`);
    const mod = (await import(pathToFileURL(path.join(benchDir, file)).href)) as { default: (ctx: BenchContext) => Promise<void> };
    await mod.default(ctx);
  }
} finally {
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(0);
