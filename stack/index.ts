// Starts and stops the whole local Supabase: Postgres, the database bootstrap
// and migrations, the API services and the gateway in front of them.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type StackConfig, type StackOptions } from './config.ts';
import { adminSql, prepareDatabase } from './database.ts';
import { createGateway } from './gateway.ts';
import { assertPortFree, freePort, startPostgres } from './postgres.ts';
import { startBackgroundWorkers } from './services/background/index.ts';
import { createServices } from './services/index.ts';
import type { Service } from './services/service.ts';

export { StackError, loadConfig, type StackConfig, type StackOptions } from './config.ts';

export interface RunningStack {
  config: StackConfig;
  /** Milliseconds spent per start-up phase, in order. */
  timings: Array<[phase: string, ms: number]>;
  /** True when this start created the database cluster (first run). */
  firstRun: boolean;
  stop(): Promise<void>;
}

export interface StartOptions extends StackOptions {
  log?: (line: string) => void;
}

export async function startStack(options: StartOptions = {}): Promise<RunningStack> {
  const log = options.log ?? (() => {});
  const config = loadConfig(options);
  const timings: Array<[string, number]> = [];
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    timings.push([name, Math.round(now - mark)]);
    mark = now;
  };

  await assertPortFree(config.apiPort, config.host, 'API gateway', 'STACK_API_PORT');
  log('starting Postgres');
  const pg = await startPostgres({ dataDir: config.dataDir, port: config.dbPort, host: config.host, log });
  phase('postgres');
  const cleanups: Array<() => Promise<void>> = [() => pg.stop()];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    log('applying platform bootstrap, migrations and seed');
    await prepareDatabase(config, log);
    phase('migrations');

    const background = startBackgroundWorkers(config, log);
    cleanups.push(() => background.close());
    const services: Service[] = await createServices({ config, log });
    cleanups.push(async () => {
      await Promise.all(services.map((s) => s.close()));
    });
    const healthSql = adminSql(config);
    cleanups.push(() => healthSql.end());
    const gateway = createGateway(config, services, async () => {
      await healthSql`select 1`;
      return { ok: true };
    }, log);
    await new Promise<void>((resolve, reject) => {
      gateway.server.once('error', reject);
      gateway.server.listen(config.apiPort, config.host, () => resolve());
    });
    cleanups.push(() => gateway.close());
    phase('services');
  } catch (err) {
    await stop();
    throw err;
  }
  return { config, timings, firstRun: pg.created, stop };
}

/**
 * Runs `fn` against a throwaway database built from the platform bootstrap and
 * the migrations (in a temporary folder, on a free port), then removes it.
 */
export async function withScratchDatabase<T>(fn: (config: StackConfig) => Promise<T>, log: (line: string) => void = () => {}): Promise<T> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rambini-scratch-'));
  try {
    const config = loadConfig({ dataDir, dbPort: await freePort(), apiPort: 0 });
    const pg = await startPostgres({ dataDir, port: config.dbPort, host: config.host, log });
    try {
      await prepareDatabase(config, log);
      return await fn(config);
    } finally {
      await pg.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
