// Starting, stopping, restarting and resetting the local stack, and the one-line
// errors for bad configuration. Each test uses its own data folder and ports.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { StackError, startStack, type RunningStack } from '../../stack/index.ts';
import { resetDatabase } from '../../stack/database.ts';
import { checkPostgresBinaries, freePort, postgresPackageDir } from '../../stack/postgres.ts';
import { stackEnv } from '../helpers/env.ts';
import { testPhone } from '../helpers/db.ts';
import { testClient } from '../helpers/supabase.ts';
import { fakesEnv } from '../fakes/env.ts';
import { fakeCalls } from '../fakes/recorder.ts';
import { paystackSignature } from '../fakes/paystack.ts';
import { stripeSignature } from '../fakes/stripe.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rambini-lifecycle-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(dataDir: string): Promise<RunningStack> {
  return startStack({ dataDir, apiPort: await freePort(), dbPort: await freePort() });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `root` in the process tree, from `ps`. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid=']).toString().trim().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const projectDir = path.resolve(import.meta.dirname, '../..');

/** Runs a command that starts the stack, collecting its output. */
function launch(command: string, args: string[], env: Record<string, string>, detached = false) {
  const child = spawn(command, args, { cwd: projectDir, env: { ...process.env, ...env }, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { child, output: '', running: true, exitCode: null as number | null, exited: undefined as unknown as Promise<void> };
  child.stdout.on('data', (d) => (run.output += d));
  child.stderr.on('data', (d) => (run.output += d));
  run.exited = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      run.running = false;
      run.exitCode = code;
      resolve();
    }),
  );
  return run;
}

/**
 * How long a first start (initdb, bootstrap, every migration through the CLI) may
 * take before a test calls it hung: generous, as the suite's other files load the
 * same two cores meanwhile. Speed is the benchmarks' business, not these tests'.
 */
const FIRST_START_MS = 90_000;

async function stackPorts(): Promise<Record<string, string>> {
  return { STACK_API_PORT: String(await freePort()), STACK_DB_PORT: String(await freePort()) };
}

// Each test starts at least one stack from nothing: see FIRST_START_MS.
describe.runIf(stackEnv().embedded)('stack lifecycle', { timeout: 2 * FIRST_START_MS }, () => {
  it('keeps data across a restart, and a reset rebuilds from migrations and seed', async () => {
    const dataDir = await tempDir();
    let stack = await start(dataDir);
    const id = '11111111-2222-3333-4444-555555555555';
    let sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
    try {
      expect(stack.firstRun).toBe(true);
      await sql`insert into auth.users (id, aud, role, phone) values (${id}, 'authenticated', 'authenticated', '2349990000001')`;
    } finally {
      await sql.end();
      await stack.stop();
    }

    stack = await start(dataDir);
    sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
    try {
      expect(stack.firstRun).toBe(false);
      expect(await sql`select id from public.profiles where id = ${id}`).toHaveLength(1);
      await sql.end();

      await resetDatabase(stack.config, () => {});
      sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
      expect(await sql`select id from auth.users where id = ${id}`).toHaveLength(0);
      const history = await sql`select count(*)::int as n from supabase_migrations.schema_migrations`;
      expect(history[0].n).toBeGreaterThan(0);
    } finally {
      await sql.end();
      await stack.stop();
    }
  });

  it('stops while a websocket client is still connected', async () => {
    const stack = await start(await tempDir());
    const socket = new WebSocket(`${stack.config.apiUrl.replace('http', 'ws')}/realtime/v1/websocket?apikey=${stack.config.keys.anonKey}&vsn=1.0.0`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await stack.stop();
    await closed;
  });

  it('refuses a taken API port with a one-line cause and a hint', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const err = await startStack({ dataDir: await tempDir(), apiPort: port, dbPort: await freePort() }).catch((e) => e);
      expect(err).toBeInstanceOf(StackError);
      expect(err.message).toBe(`port ${port} (API gateway) is already in use`);
      expect(err.hint).toMatch(/STACK_API_PORT/);
    } finally {
      blocker.close();
    }
  });

  it('refuses a taken database port', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const err = await startStack({ dataDir: await tempDir(), apiPort: await freePort(), dbPort: port }).catch((e) => e);
      expect(err).toBeInstanceOf(StackError);
      expect(err.message).toBe(`port ${port} (Postgres) is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses a data folder of another Postgres version', async () => {
    const dataDir = await tempDir();
    await writeFile(path.join(dataDir, 'PG_VERSION'), '16\n');
    const err = await start(dataDir).catch((e) => e);
    expect(err).toBeInstanceOf(StackError);
    expect(err.message).toMatch(/holds a Postgres 16 cluster, this stack runs Postgres 17/);
  });

  it('refuses a folder that is not a Postgres data folder, or a damaged one', async () => {
    const notData = await tempDir();
    await writeFile(path.join(notData, 'notes.txt'), 'hello');
    const err1 = await start(notData).catch((e) => e);
    expect(err1).toBeInstanceOf(StackError);
    expect(err1.message).toMatch(/is not a Postgres data folder/);

    const damaged = await tempDir();
    await writeFile(path.join(damaged, 'PG_VERSION'), '17\n');
    await mkdir(path.join(damaged, 'base'));
    const err2 = await start(damaged).catch((e) => e);
    expect(err2).toBeInstanceOf(StackError);
    expect(err2.message).toMatch(/is damaged/);
  });

  it('refuses a cluster made by an older stack (postgres its superuser), and `npm run db:reset` makes a new one', async () => {
    const dataDir = await tempDir();
    // What earlier stacks made: initdb with `postgres` as the bootstrap superuser.
    const initdb = path.join(postgresPackageDir()!, 'native', 'bin', 'initdb');
    const pwfile = path.join(dataDir, '..', `${path.basename(dataDir)}.pw`);
    await writeFile(pwfile, 'postgres\n');
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      await chown(dataDir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
      await chmod(pwfile, 0o644);
    }
    const args = [`--pgdata=${dataDir}`, '--username=postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--no-sync'];
    const asPostgresUser = (bin: string, binArgs: string[], input?: string) =>
      execFileSync(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ...binArgs] : binArgs, { input, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'ignore'] });
    asPostgresUser(initdb, args);
    await rm(pwfile);
    // Their bootstrap also made supabase_admin, a superuser with the local password.
    asPostgresUser(path.join(path.dirname(initdb), 'postgres'), ['--single', '-D', dataDir, 'postgres'], "create role supabase_admin login superuser password 'postgres';\n");

    const err = await start(dataDir).catch((e) => e);
    expect(err).toBeInstanceOf(StackError);
    expect(err.message).toMatch(/was made by an older stack: its superuser is "postgres"/);
    expect(err.hint).toMatch(/npm run db:reset/);

    const reset = launch('npm', ['run', 'db:reset'], { STACK_DATA_DIR: dataDir, ...(await stackPorts()) });
    await reset.exited;
    expect(reset.exitCode).toBe(0);
    expect(reset.output).toContain('making a new one');
    const stack = await start(dataDir);
    const sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
    try {
      expect(await sql`select rolname, rolsuper from pg_roles where oid = 10 or rolname = 'postgres' order by oid`).toEqual([
        { rolname: 'supabase_admin', rolsuper: true },
        { rolname: 'postgres', rolsuper: false },
      ]);
    } finally {
      await sql.end();
      await stack.stop();
    }
  });

  it('`npm start` prints the status table and leaves no process behind on SIGTERM', async () => {
    const dataDir = await tempDir();
    const run = launch('npm', ['start'], { STACK_DATA_DIR: dataDir, ...(await stackPorts()) }, true);
    await waitFor(() => run.output.includes('Press Ctrl-C to stop.') || !run.running, FIRST_START_MS);
    const output = run.output;
    expect(output).toContain('Press Ctrl-C to stop.');
    expect(output).toMatch(/Local Supabase started \(first run in [\d.]+ s/);
    expect(output).toMatch(/Publishable key: sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH\n/);
    expect(output).toMatch(/Secret key: sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz\n/);
    expect(output).toMatch(/anon key: eyJ/);
    expect(output).toMatch(/service_role key: eyJ/);
    expect(output).toMatch(/DB URL: postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres/);
    const pgPid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(pgPid)).toBe(true);
    // A function call starts a Deno worker, so the process tree has every kind of child.
    const apiUrl = /API URL: (\S+)/.exec(output)![1];
    await fetch(`${apiUrl}/functions/v1/send-sms`, { method: 'POST', body: '{}' });
    const tree = descendants(run.child.pid!);
    expect(tree).toContain(pgPid);
    expect(tree.length).toBeGreaterThan(3);

    run.child.kill('SIGTERM');
    await run.exited;
    expect(await waitFor(() => run.output.includes('Stopped.'), 10_000), run.output).toBe(true);
    expect(await waitFor(() => tree.every((pid) => !isAlive(pid)), 10_000), `still running: ${tree.filter(isAlive)}`).toBe(true);
    expect(await waitFor(() => !existsSync(path.join(dataDir, 'postmaster.pid')), 5_000)).toBe(true);
  });

  // As the README and supabase/functions/.env document: provider settings (also ones
  // empty in .env, i.e. defaulted) set in `npm start`'s environment reach the functions,
  // and the Send SMS hook settings reach Auth.
  it('`npm start` passes the provider settings of its environment to the functions', async () => {
    const fakes = fakesEnv();
    const ports = await stackPorts();
    const apiUrl = `http://127.0.0.1:${ports.STACK_API_PORT}`;
    const run = launch('npm', ['start'], {
      STACK_DATA_DIR: await tempDir(),
      ...ports,
      PAYSTACK_BASE_URL: fakes.paystackUrl,
      STRIPE_API_BASE: fakes.stripeUrl,
      SMS_PROVIDER: 'twilio',
      TWILIO_BASE_URL: fakes.smsUrl,
      TWILIO_MESSAGING_SERVICE_SID: 'MG00000000000000000000000000000042',
      SMS_OTP_TEMPLATE: 'Rambini (npm start env): {{ .Code }}',
      GOTRUE_HOOK_SEND_SMS_ENABLED: 'true',
      GOTRUE_HOOK_SEND_SMS_URI: `${apiUrl}/functions/v1/send-sms`,
      GOTRUE_HOOK_SEND_SMS_SECRETS: fakes.secrets.SEND_SMS_HOOK_SECRET,
    }, true);
    try {
      await waitFor(() => run.output.includes('Press Ctrl-C to stop.') || !run.running, FIRST_START_MS);
      expect(run.output).toContain('Press Ctrl-C to stop.');

      // Paystack: a signed charge.success is re-verified at PAYSTACK_BASE_URL.
      const reference = `env-${randomUUID()}`;
      const paystackBody = JSON.stringify({ event: 'charge.success', data: { reference, amount: 100, currency: 'NGN', status: 'success' } });
      await fetch(`${apiUrl}/functions/v1/paystack-webhook`, {
        method: 'POST', body: paystackBody,
        headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(paystackBody, fakes.secrets.PAYSTACK_SECRET_KEY) },
      });
      expect((await fakeCalls(fakes.paystackUrl, reference)).map((c) => c.path)).toEqual([`/transaction/verify/${reference}`]);

      // Stripe: charge.refunded lists the charge's refunds at STRIPE_API_BASE.
      const charge = `ch_env${randomUUID().replace(/-/g, '')}`;
      const stripeBody = JSON.stringify({ id: `evt_${charge}`, object: 'event', type: 'charge.refunded', data: { object: { id: charge, object: 'charge' } } });
      await fetch(`${apiUrl}/functions/v1/stripe-webhook`, {
        method: 'POST', body: stripeBody,
        headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(stripeBody, fakes.secrets.STRIPE_WEBHOOK_SECRET) },
      });
      expect((await fakeCalls(fakes.stripeUrl, charge)).map((c) => c.path.split('?')[0])).toEqual(['/v1/refunds']);

      // SMS: Auth calls the send-sms hook, which texts through Twilio from the messaging service with the template.
      const phone = testPhone();
      const client = testClient({ url: apiUrl });
      const { error } = await client.auth.signInWithOtp({ phone: `+${phone}` });
      expect(error).toBeNull();
      const [sms] = await fakeCalls(fakes.smsUrl, phone);
      const form = new URLSearchParams(sms.body);
      expect(form.get('MessagingServiceSid')).toBe('MG00000000000000000000000000000042');
      expect(form.get('Body')).toMatch(/^Rambini \(npm start env\): \d{6}$/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  // The suite normally runs as root (Postgres then runs as the `postgres` OS user);
  // this runs the whole stack as an ordinary user, the other supported case.
  it.runIf(process.getuid?.() === 0)('runs as an ordinary (non-root) user', async () => {
    const dataDir = await tempDir();
    await chown(dataDir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    const run = launch('runuser', ['-u', 'postgres', '--', process.execPath, '--import', 'tsx', 'scripts/start.ts'], {
      HOME: dataDir,
      STACK_DATA_DIR: path.join(dataDir, 'data'),
      ...(await stackPorts()),
    });
    await waitFor(() => run.output.includes('Press Ctrl-C to stop.') || !run.running, FIRST_START_MS);
    expect(run.output).toContain('Press Ctrl-C to stop.');
    run.child.kill('SIGTERM');
    await run.exited;
    // runuser may exit before the stack has finished stopping: it stops on its own when its parent goes.
    await waitFor(() => run.output.includes('Stopped.'), 10_000);
    expect(run.output).toContain('Stopped.');
  });

  it('keeps the exit code of the process that ran it, and takes Postgres down if that process dies', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755); // the data folder inside must be reachable by the postgres OS user
    const script = path.join(dir, 'probe.mts');
    await writeFile(script, `
      import { startStack } from ${JSON.stringify(path.join(projectDir, 'stack/index.ts'))};
      const stack = await startStack({ dataDir: ${JSON.stringify(path.join(dir, 'data'))}, apiPort: ${await freePort()}, dbPort: ${await freePort()} });
      if (process.argv[2] === 'crash') {
        const { readFileSync } = await import('node:fs');
        console.log('postmaster ' + readFileSync(${JSON.stringify(path.join(dir, 'data', 'postmaster.pid'))}, 'utf8').split('\\n')[0]);
        throw new Error('boom');
      }
      await stack.stop();
      process.exitCode = 7;
    `);
    const clean = launch(process.execPath, ['--import', 'tsx', script], {});
    await clean.exited;
    expect(clean.exitCode, clean.output).toBe(7);

    const crash = launch(process.execPath, ['--import', 'tsx', script, 'crash'], {});
    await crash.exited;
    const pgPid = Number(/postmaster (\d+)/.exec(crash.output)?.[1]);
    expect(pgPid, crash.output).toBeGreaterThan(0);
    expect(crash.exitCode).not.toBe(0);
    expect(await waitFor(() => !isAlive(pgPid), 10_000)).toBe(true);
  });

  it('`npm start` ends with a one-line error, not a stack trace, on bad configuration', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const run = launch('npm', ['start'], { STACK_DATA_DIR: await tempDir(), STACK_API_PORT: String(port), STACK_DB_PORT: String(await freePort()) });
      await run.exited;
      const output = run.output;
      expect(run.exitCode).not.toBe(0);
      expect(output).toContain(`error: port ${port} (API gateway) is already in use`);
      expect(output).toMatch(/hint: +stop whatever listens there/);
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});

describe('Postgres binaries check', () => {
  it('names the missing package and how to install it', async () => {
    expect(() => checkPostgresBinaries(null)).toThrow(StackError);
    const empty = await tempDir();
    const err = (() => {
      try {
        checkPostgresBinaries(empty);
      } catch (e) {
        return e as StackError;
      }
    })();
    expect(err?.message).toMatch(/Postgres binary is missing or not executable/);
    expect(err?.hint).toMatch(/npm install/);
  });

  it('accepts the installed binaries', () => {
    expect(() => checkPostgresBinaries(postgresPackageDir())).not.toThrow();
  });
});
