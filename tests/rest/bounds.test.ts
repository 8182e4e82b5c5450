// Hostile input through /rest/v1 (issue 13, findings 6, 8 and 10): one user's
// slow regex filters cannot hold every connection, text columns are bounded,
// deep filter trees and long URLs get a 4xx, and "not found" is a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createVendor, jollofWithChicken, type TestVendor } from '../db/fixtures.ts';
import { userClient } from '../functions/payments-helpers.ts';
import { createUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { ensureFixture, rest, SCHEMA } from './fixture.ts';

/** Back-references make Postgres' regex engine backtrack: about a second on this 111-character text. */
const SLOW_PATTERN = '(.*)(.*)(.*)\\1\\2\\3$';

const restUrl = (pathAndQuery: string) => `${stackEnv().url}/rest/v1${pathAndQuery}`;
const anonFetch = (pathAndQuery: string) => fetch(restUrl(pathAndQuery), { headers: { apikey: stackEnv().anonKey } });

describe.runIf(stackEnv().embedded)('one user cannot starve REST (finding 6)', () => {
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
    await serviceSql()`update public.vendors set description = ${'a'.repeat(110) + 'c'} where id = ${vendor.id}`;
  });

  it("answers another user's request while one user's regex filters run", async () => {
    const attacker = await userClient(await createUser());
    const other = await userClient(await createUser());
    let finished = 0;
    // More than the pool has connections: today every one of them would be held.
    const hostile = Array.from({ length: 11 }, () =>
      attacker.from('vendors').select('id').eq('id', vendor.id).filter('description', 'match', SLOW_PATTERN).then((r) => {
        finished += 1;
        return r;
      }));
    // Wait until the hostile statements are running.
    for (;;) {
      const [{ n }] = await serviceSql()`
        select count(*)::int as n from pg_stat_activity where state = 'active' and application_name = 'postgrest' and query like '%~%'`;
      if (n >= 4 || finished > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const answer = await other.from('vendors').select('id').eq('id', vendor.id);
    expect(answer.error).toBeNull();
    expect(answer.data).toEqual([{ id: vendor.id }]);
    // The other user was answered while every hostile request was still running.
    expect(finished).toBe(0);
    await Promise.all(hostile);
  }, 60_000);

  it('bounds user-written text: full_name over 100 characters is refused with 400 and nothing written', async () => {
    const user = await createUser();
    const client = await userClient(user);
    const long = await client.from('profiles').update({ full_name: 'x'.repeat(101) }).eq('id', user.id).select();
    expect(long.status).toBe(400);
    expect(long.error).toMatchObject({ code: '23514' });
    expect(long.error!.message).toContain('profiles_full_name_length');
    const [row] = await serviceSql()`select full_name from public.profiles where id = ${user.id}`;
    expect(row.full_name).toBeNull();
    const ok = await client.from('profiles').update({ full_name: 'Adaeze Okafor' }).eq('id', user.id).select('full_name');
    expect(ok.data).toEqual([{ full_name: 'Adaeze Okafor' }]);
  });

  it('bounds vendor tags: more than 20 cuisines are refused', async () => {
    const client = await userClient(vendor.owner);
    const { error, status } = await client.from('vendors').update({ cuisines: Array.from({ length: 21 }, (_, i) => `tag${i}`) }).eq('id', vendor.id);
    expect(status).toBe(400);
    expect(error?.message).toContain('vendors_cuisines_bounded');
  });
});

describe.runIf(stackEnv().embedded)('deep filter trees and long URLs (finding 8)', () => {
  const deepOr = (depth: number) => {
    let tree = 'id.is.null';
    for (let i = 1; i < depth; i++) tree = `or(id.is.null,${tree})`;
    return `(${tree})`;
  };

  it('accepts or/and trees nested 32 levels deep', async () => {
    const res = await anonFetch(`/vendors?select=id&limit=1&or=${encodeURIComponent(deepOr(32))}`);
    expect(res.status).toBe(200);
  });

  it('answers a tree nested deeper than 32 levels with 400 PGRST100, also through supabase-js', async () => {
    const res = await anonFetch(`/vendors?select=id&or=${encodeURIComponent(deepOr(33))}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'PGRST100', details: 'nesting deeper than 32 levels' });
    const { error, status } = await testClient().from('vendors').select('id').or(deepOr(200).slice(1, -1));
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: 'PGRST100' });
  });

  it('answers deeply embedded selects with 400', async () => {
    let select = 'id';
    for (let i = 0; i < 40; i++) select = `vendors(${select})`;
    const res = await anonFetch(`/vendors?select=${encodeURIComponent(select)}`);
    expect(res.status).toBe(400);
    expect((await res.json()).details).toBe('nesting deeper than 32 levels');
  });

  it('answers the 3,500-level tree (14 KB) with 400, a URL over 16 KB with 414 from the gateway, and keeps serving', async () => {
    const deep = await anonFetch(`/vendors?or=(${'or('.repeat(3500)}id.is.null${')'.repeat(3501)}`);
    expect(deep.status).toBe(400);
    expect((await deep.json()).details).toBe('nesting deeper than 32 levels');
    const long = await anonFetch(`/vendors?id=in.(${Array.from({ length: 4000 }, (_, i) => i).join(',')})`);
    expect(long.status).toBe(414);
    expect(await long.text()).toBe('URI too long\n');
    expect((await anonFetch('/vendors?select=id&limit=1')).status).toBe(200);
  });
});

describe.runIf(stackEnv().embedded)('not found is a 4xx (finding 10)', () => {
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
  });

  it('vendor_not_found, item_not_found, address_not_found and order_not_found reach supabase-js as 404', async () => {
    const customer = await createCustomer();
    const client = await userClient(customer);
    const place = (args: Record<string, unknown>) => client.rpc('place_order', {
      p_vendor_id: vendor.id, p_items: [jollofWithChicken(vendor)], p_fulfillment: 'pickup', p_address_id: null, p_payment_method: 'wallet', ...args,
    });
    const cases = [
      ['vendor_not_found', await place({ p_vendor_id: crypto.randomUUID() })],
      ['item_not_found', await place({ p_items: [{ menu_item_id: crypto.randomUUID(), quantity: 1 }] })],
      ['address_not_found', await place({ p_fulfillment: 'delivery', p_address_id: crypto.randomUUID() })],
      ['order_not_found', await client.rpc('update_order_status', { p_order_id: crypto.randomUUID(), p_status: 'cancelled' })],
    ] as const;
    for (const [code, answer] of cases) {
      expect(answer.status, code).toBe(404);
      expect(answer.error, code).toMatchObject({ code: 'PT404', message: code });
      expect(answer.error!.details, code).toBeTruthy();
    }
  });
});

describe.runIf(stackEnv().embedded)("SQLSTATE → HTTP exactly as PostgREST's mapSQLtoHTTP", () => {
  const fn = `raise_state_${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    await ensureFixture();
    const sql = serviceSql();
    await sql.unsafe(`create function ${SCHEMA}.${fn}(p_code text, p_message text) returns void language plpgsql as $$
      begin raise exception using errcode = p_code, message = p_message; end $$;
      grant execute on function ${SCHEMA}.${fn}(text, text) to anon`);
    await sql`notify pgrst, 'reload schema'`;
    while ((await call('P0001', 'ready')).status === 404) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await serviceSql().unsafe(`drop function ${SCHEMA}.${fn}(text, text)`);
    await serviceSql()`notify pgrst, 'reload schema'`;
  });
  const call = (code: string, message: string) =>
    rest(`/rpc/${fn}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ p_code: code, p_message: message }) });

  it.each([
    ['P0001', 'x', 400], ['P0002', 'order_not_found', 500], ['P0004', 'x', 500], ['PT404', 'x', 404], ['PT429', 'x', 429], ['PT40A', 'x', 500],
    ['23505', 'x', 409], ['23503', 'x', 409], ['23514', 'x', 400], ['25006', 'x', 405], ['25P02', 'x', 500], ['28000', 'x', 403],
    ['21000', 'UPDATE requires a WHERE clause', 400], ['21000', 'more than one row', 500],
    ['22023', 'role "ghost" does not exist', 401], ['22023', 'x', 400], ['0P000', 'x', 403], ['08006', 'x', 503], ['09000', 'x', 500],
    ['38000', 'x', 500], ['40001', 'x', 500], ['53400', 'x', 500], ['53300', 'x', 503], ['54000', 'x', 500], ['55000', 'x', 500],
    ['57P01', 'x', 503], ['57014', 'x', 500], ['58000', 'x', 500], ['F0000', 'x', 500], ['HV000', 'x', 500], ['XX000', 'x', 500],
    ['42883', 'function xmlagg(text) does not exist', 406], ['42883', 'x', 404], ['42P01', 'x', 404], ['42P17', 'x', 500], ['42501', 'x', 401],
    ['22P02', 'x', 400], ['AB123', 'x', 400],
  ])('%s (%s) → %i', async (code, message, status) => {
    const res = await call(code, message);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ code, message });
  });
});
