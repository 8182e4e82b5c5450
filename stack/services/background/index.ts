// The background workers of the local stack: pg_cron's scheduler and pg_net's
// HTTP worker, standing in for the extensions' Postgres background workers.
// They do nothing until a migration runs `create extension pg_cron` / `pg_net`.
import type { StackConfig } from '../../config.ts';
import { startCronScheduler } from './cron.ts';
import { startNetWorker } from './net.ts';

export interface BackgroundWorkers {
  close(): Promise<void>;
}

export function startBackgroundWorkers(config: StackConfig, log: (line: string) => void): BackgroundWorkers {
  const cron = startCronScheduler(config, log);
  const net = startNetWorker(config, log);
  return {
    async close() {
      await Promise.all([cron.close(), net.close()]);
    },
  };
}
