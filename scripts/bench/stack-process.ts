// Runs one private stack in its own process for a benchmark that measures the
// stack from outside (its CPU and memory apart from the load generator's):
// `node --import tsx scripts/bench/stack-process.ts`, with BENCH_STACK (JSON
// StartOptions: dataDir, ports, functionsEnv). Prints one line, `READY <config
// JSON>`, once it serves; stops on SIGTERM.
import { startStack } from '../../stack/index.ts';

const stack = await startStack(JSON.parse(process.env.BENCH_STACK ?? '{}'));
const { config } = stack;
console.log(`READY ${JSON.stringify({ apiUrl: config.apiUrl, dbUrl: config.dbUrl, keys: config.keys, dbPort: config.dbPort })}`);
let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  await stack.stop();
  process.exit(0);
});
