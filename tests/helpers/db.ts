// SQL access for tests. `asUser`/`asAnon`/`asService` run a transaction exactly
// as PostgREST runs a request: the role switched with set_config('role', …, true)
// and the JWT claims in `request.jwt.claims`, both transaction-local.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll } from 'vitest';
import { stackEnv } from './env.ts';

export type Tx = postgres.TransactionSql;

let shared: postgres.Sql | undefined;
let platform: postgres.Sql | undefined;

/**
 * The project owner's connection (`postgres`, not a superuser, as on hosted)
 * of this test file; ended after the file.
 */
export function serviceSql(): postgres.Sql {
  if (!shared) {
    const sql = postgres(stackEnv().dbUrl, { max: 10, onnotice: () => {}, idle_timeout: 5 });
    shared = sql;
    afterAll(async () => {
      shared = undefined;
      await sql.end({ timeout: 5 });
    });
  }
  return shared;
}

/**
 * The platform superuser's connection (supabase_admin), for tests of what the
 * local stack itself does (its services, stand-ins and bootstrap), which on
 * hosted Supabase only the platform can touch. Product tests use serviceSql().
 */
export function platformSql(): postgres.Sql {
  if (!platform) {
    const sql = postgres(stackEnv().dbUrl.replace(/\/\/[^@]*@/, '//supabase_admin:postgres@'), { max: 4, onnotice: () => {}, idle_timeout: 5 });
    platform = sql;
    afterAll(async () => {
      platform = undefined;
      await sql.end({ timeout: 5 });
    });
  }
  return platform;
}

/** Thrown to end a test transaction with a rollback; rolledBack() and tests' own helpers catch it. */
export class Rollback extends Error {}

/** Runs `fn` as postgres in a transaction that is always rolled back, and returns what it returned. */
export async function rolledBack<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  let result: T | undefined;
  await serviceSql()
    .begin(async (tx) => {
      result = await fn(tx);
      throw new Rollback();
    })
    .catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return result as T;
}

export interface Claims {
  role: string;
  sub?: string;
  [claim: string]: unknown;
}

export async function asRole<T>(claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return serviceSql().begin(async (tx) => {
    await tx`select set_config('role', ${claims.role}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('request.method', 'POST', true),
                    set_config('request.path', '/', true),
                    set_config('request.headers', '{}', true)`;
    return fn(tx);
  }) as Promise<T>;
}

/** Runs `fn` as a signed-in user (role `authenticated`) with the given id. */
export function asUser<T>(userId: string, fn: (tx: Tx) => Promise<T>, extraClaims: Record<string, unknown> = {}): Promise<T> {
  return asRole({ role: 'authenticated', aud: 'authenticated', sub: userId, ...extraClaims }, fn);
}

export function asAnon<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asRole({ role: 'anon' }, fn);
}

export function asService<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asRole({ role: 'service_role' }, fn);
}

let phoneCounter = 0;

/** A unique E.164 number (without +, as Auth stores it) in the test range. */
export function testPhone(): string {
  phoneCounter += 1;
  const unique = `${process.pid % 10000}`.padStart(4, '0') + `${phoneCounter}`.padStart(4, '0');
  return `2349${unique}`;
}

/** Inserts an auth user the way the auth service does, so auth.users triggers run. */
export async function createUser(options: { phone?: string; appMetadata?: Record<string, unknown> } = {}): Promise<{ id: string; phone: string }> {
  const id = randomUUID();
  const phone = options.phone ?? testPhone();
  await serviceSql()`
    insert into auth.users (instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${phone}, now(),
            ${serviceSql().json({ provider: 'phone', providers: ['phone'], ...(options.appMetadata ?? {}) } as postgres.JSONValue)}, '{}', now(), now())`;
  return { id, phone };
}
