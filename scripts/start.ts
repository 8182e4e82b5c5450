// `npm start`: runs the local Supabase in the foreground until Ctrl-C or SIGTERM.
import { startStack, StackError, type RunningStack } from '../stack/index.ts';

const started = performance.now();
const log = (line: string) => console.log(`  ${line}`);

function fail(err: unknown): never {
  if (err instanceof StackError) {
    console.error(`\nerror: ${err.message}\nhint:  ${err.hint}`);
  } else {
    console.error(`\nerror: ${(err as Error)?.stack ?? err}`);
  }
  process.exit(1);
}

let stack: RunningStack;
try {
  console.log('Starting the local Supabase stack...');
  stack = await startStack({ log });
} catch (err) {
  fail(err);
}

const { config } = stack;
const total = Math.round(performance.now() - started);
const testNumbers = Object.entries(config.toml.auth?.sms?.test_otp ?? {}).map(([phone, code]) => `+${phone} → ${code}`);
const rows: Array<[string, string]> = [
  ['API URL', config.apiUrl],
  ['REST URL', `${config.apiUrl}/rest/v1`],
  ['Realtime URL', `${config.apiUrl.replace(/^http/, 'ws')}/realtime/v1`],
  ['Functions URL', `${config.apiUrl}/functions/v1`],
  ['DB URL', config.dbUrl],
  ['JWT secret', config.keys.jwtSecret],
  ['Publishable key', config.keys.publishableKey],
  ['Secret key', config.keys.secretKey],
  ['anon key', config.keys.anonKey],
  ['service_role key', config.keys.serviceRoleKey],
  ['Test OTP numbers', testNumbers.join(', ') || '(none in supabase/config.toml)'],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`\nLocal Supabase started (${stack.firstRun ? 'first run' : 'warm start'} in ${(total / 1000).toFixed(2)} s: ${stack.timings.map(([p, ms]) => `${p} ${ms} ms`).join(', ')}).\n`);
for (const [k, v] of rows) console.log(`${k.padStart(width)}: ${v}`);
console.log('\nStudio is not part of the local stack: use `psql` or any Postgres client on the DB URL.');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping...`);
  await stack.stop();
  console.log('Stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// Only now: a signal right after this line must find the handlers in place.
console.log('Press Ctrl-C to stop.');
// npm does not pass SIGTERM on past its own shell: when our parent goes away,
// stop too rather than leave Postgres and the API running as orphans.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown('parent process exited');
}, 500).unref();
