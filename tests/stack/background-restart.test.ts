// pg_cron and pg_net across a restart and a reset of the stack: a run cut short
// by the stop is failed as pg_cron fails it, requests committed while the
// workers were down are sent at start, the Vault secrets follow the new port,
// and jobs scheduled after `db:reset` on a running stack run.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase } from '../../stack/database.ts';
import { startStack, type RunningStack } from '../../stack/index.ts';
import { freePort, startPostgres } from '../../stack/postgres.ts';
import { stackEnv } from '../helpers/env.ts';

async function waitFor<T>(probe: () => Promise<T>, what: string, ms = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const hits: string[] = [];
let server: http.Server;
let target: string;
let dataDir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url!);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'rambini-background-'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dataDir, { recursive: true, force: true });
});

describe.runIf(stackEnv().embedded)('background workers across restarts', () => {
  it('fails the run a stop cut short, sends requests queued while down, and works after a reset', { timeout: 180_000 }, async () => {
    let stack: RunningStack = await startStack({ dataDir, apiPort: await freePort(), dbPort: await freePort() });
    let sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
    let jobid: string;
    try {
      [{ jobid }] = await sql`select cron.schedule('long-runner', '1 seconds', 'select pg_sleep(60)') as jobid`;
      await waitFor(() => sql`select 1 from cron.job_run_details where jobid = ${jobid} and status = 'running'`.then((r) => r.length > 0), 'the job to be running');
    } finally {
      await sql.end();
      await stack.stop();
    }

    // With only Postgres up (no stack workers), a request is committed.
    const dbPort = await freePort();
    const pg = await startPostgres({ dataDir, port: dbPort, host: '127.0.0.1', log: () => {} });
    sql = postgres(`postgres://postgres:postgres@127.0.0.1:${dbPort}/postgres`, { max: 1, onnotice: () => {} });
    try {
      await sql`select cron.unschedule('long-runner')`;
      await sql`select net.http_get(${`${target}/queued-while-down`})`;
    } finally {
      await sql.end();
      await pg.stop();
    }

    stack = await startStack({ dataDir, apiPort: await freePort(), dbPort: await freePort() });
    sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
    try {
      await waitFor(async () => hits.includes('/queued-while-down'), 'the queued request');
      const runs = await waitFor(() => sql`select status, return_message from cron.job_run_details where jobid = ${jobid!}`.then((r) => (r.every((x) => x.status !== 'running') ? r : null)), 'the stale run to be failed');
      expect(runs).toContainEqual({ status: 'failed', return_message: 'server restarted' });
      const [{ url }] = await sql`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`;
      expect(url).toBe(stack.config.apiUrl);
      await sql.end();

      // db:reset on the running stack: the workers reconnect to the new database.
      await resetDatabase(stack.config, () => {});
      sql = postgres(stack.config.dbUrl, { max: 1, onnotice: () => {} });
      const [{ id }] = await sql`select cron.schedule('after-reset', '1 seconds', ${`select net.http_get('${target}/after-reset')`}) as id`;
      await waitFor(() => sql`select 1 from cron.job_run_details where jobid = ${id} and status = 'succeeded'`.then((r) => r.length > 0), 'a run after the reset');
      await waitFor(async () => hits.includes('/after-reset'), 'the request of the job after the reset');
    } finally {
      await sql.end();
      await stack.stop();
    }
  });
});
