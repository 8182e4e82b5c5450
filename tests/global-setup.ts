// Starts one private local stack for the whole test run, on free ports and in a
// temporary data folder, so tests never collide with a running `npm start`.
// With SUPABASE_URL and SUPABASE_DB_URL set, tests target that Supabase instead.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { startStack } from '../stack/index.ts';
import { freePort } from '../stack/postgres.ts';
import type { StackEnv } from './helpers/env.ts';
import { startFakes } from './fakes/index.ts';

export default async function setup(project: TestProject) {
  if (process.env.SUPABASE_URL && process.env.SUPABASE_DB_URL) {
    project.provide('stack', {
      url: process.env.SUPABASE_URL,
      dbUrl: process.env.SUPABASE_DB_URL,
      anonKey: process.env.SUPABASE_ANON_KEY ?? '',
      serviceRoleKey: process.env.SUPABASE_SERVICE_ROLE_KEY ?? '',
      jwtSecret: process.env.SUPABASE_JWT_SECRET ?? '',
      embedded: false,
    } satisfies StackEnv);
    await feeFreePlatform(process.env.SUPABASE_DB_URL);
    return;
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rambini-test-'));
  // Fake Paystack, Stripe and SMS providers; the functions reach them through their base-URL settings.
  const fakes = await startFakes();
  const stack = await startStack({ dataDir, apiPort: await freePort(), dbPort: await freePort(), functionsEnv: fakes.functionsEnv, restExtraSchemas: ['rest_fixture'] }).catch(async (err) => {
    await fakes.close();
    throw err;
  });
  await feeFreePlatform(stack.config.dbUrl);
  project.provide('fakes', fakes.env);
  project.provide('stack', {
    url: stack.config.apiUrl,
    dbUrl: stack.config.dbUrl,
    anonKey: stack.config.keys.anonKey,
    serviceRoleKey: stack.config.keys.serviceRoleKey,
    jwtSecret: stack.config.keys.jwtSecret,
    embedded: true,
  } satisfies StackEnv);
  return async () => {
    await stack.stop();
    await fakes.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}

/**
 * The suite runs on a platform without service fee, small-order fee and VAT,
 * so every amount the v1 tests assert (total = subtotal + delivery fee) keeps
 * its meaning. The checkout tests (tests/db/checkout.test.ts) set the fees they
 * exercise inside their own transactions, which roll back, so files running in
 * parallel never see them.
 */
async function feeFreePlatform(dbUrl: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`update public.platform_settings set service_fee_rate = 0, small_order_fee = 0, vat_rate = 0`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
