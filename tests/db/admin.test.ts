// Admin RPCs: only admins, with reasons; suspension bans the user in Auth.
import { beforeAll, describe, expect, it } from 'vitest';
import { asUser, createUser, serviceSql } from '../helpers/db.ts';
import { createAdmin, createCustomer, createVendor, errorOf, fundWallet, walletBalance, type TestUser } from './fixtures.ts';

let admin: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
});

describe('admin RPCs', () => {
  it('refuse non-admins with 42501 forbidden and anon by grant', async () => {
    const user = await createUser();
    const calls = [
      (tx: any) => tx`select public.admin_set_user_status(${user.id}::uuid, 'suspended', 'x')`,
      (tx: any) => tx`select public.admin_set_vendor_status(${crypto.randomUUID()}::uuid, 'active', null)`,
      (tx: any) => tx`select public.admin_adjust_wallet(${user.id}::uuid, 100::bigint, 'gift')`,
      (tx: any) => tx`select public.admin_broadcast('Hi', 'there', 'all')`,
    ];
    for (const call of calls) {
      expect(await errorOf(asUser(user.id, call))).toMatchObject({ code: '42501', message: 'forbidden' });
    }
    const [r] = await serviceSql()`select bool_or(has_function_privilege('anon', p.oid, 'execute')) as any_anon
      from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname like 'admin\\_%'`;
    expect(r.any_anon).toBe(false);
  });

  it('approves and suspends vendors with a reason', async () => {
    const v = await createVendor({ status: 'pending' });
    const [active] = await asUser(admin.id, (tx) => tx`select * from public.admin_set_vendor_status(${v.id}::uuid, 'active', null)`);
    expect(active.status).toBe('active');
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_set_vendor_status(${v.id}::uuid, 'suspended', ' ')`))).message).toBe('reason_required');
    await asUser(admin.id, (tx) => tx`select public.admin_set_vendor_status(${v.id}::uuid, 'suspended', 'health inspection')`);
    const [note] = await asUser(v.owner.id, (tx) => tx`select title, body from public.notifications where type = 'account' order by created_at desc limit 1`);
    expect(note.body).toContain('health inspection');
  });

  it('suspends a user by banning them in Auth, and reactivates', async () => {
    const user = await createUser();
    await asUser(admin.id, (tx) => tx`select public.admin_set_user_status(${user.id}::uuid, 'suspended', 'fraud')`);
    const [banned] = await serviceSql()`select p.status, u.banned_until = 'infinity'::timestamptz as forever
      from public.profiles p join auth.users u on u.id = p.id where p.id = ${user.id}`;
    expect(banned).toEqual({ status: 'suspended', forever: true });
    await asUser(admin.id, (tx) => tx`select public.admin_set_user_status(${user.id}::uuid, 'active', 'appeal accepted')`);
    const [back] = await serviceSql()`select p.status, u.banned_until from public.profiles p join auth.users u on u.id = p.id where p.id = ${user.id}`;
    expect(back).toEqual({ status: 'active', banned_until: null });
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_set_user_status(${admin.id}::uuid, 'suspended', 'oops')`))).message).toBe('cannot_suspend_self');
  });

  it('adjusts wallets through the ledger, never below zero', async () => {
    const c = await createCustomer();
    await fundWallet(c.id, 10000);
    const [tx] = await asUser(admin.id, (t) => t`select * from public.admin_adjust_wallet(${c.id}::uuid, 5000::bigint, 'goodwill')`);
    expect(tx).toMatchObject({ type: 'admin_adjustment', note: 'goodwill', created_by: admin.id });
    expect(Number(tx.balance_after)).toBe(15000);
    expect((await errorOf(asUser(admin.id, (t) => t`select public.admin_adjust_wallet(${c.id}::uuid, -15001::bigint, 'clawback')`))).message).toBe('insufficient_funds');
    expect((await errorOf(asUser(admin.id, (t) => t`select public.admin_adjust_wallet(${c.id}::uuid, -100::bigint, null)`))).message).toBe('reason_required');
    expect(await walletBalance(c.id)).toBe(15000);
  });

  it('broadcasts to an audience', async () => {
    const [v, c] = await Promise.all([createVendor(), createCustomer()]);
    const n = (await asUser(admin.id, (tx) => tx`select public.admin_broadcast('Rainy day promo', 'Free delivery till 6pm', 'vendors') as n`))[0].n;
    expect(n).toBeGreaterThanOrEqual(1);
    const got = async (id: string) => (await asUser(id, (tx) => tx`select 1 from public.notifications where title = 'Rainy day promo'`)).length;
    expect(await got(v.owner.id)).toBe(1);
    expect(await got(c.id)).toBe(0);
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_broadcast('x', 'y', 'martians')`))).message).toBe('invalid_audience');
  });

  it('keeps reports in the unexposed admin schema', async () => {
    const views = await serviceSql()`select table_name from information_schema.views where table_schema = 'admin' order by 1`;
    expect(views.map((v) => v.table_name)).toEqual(['commission_by_vendor', 'daily_cash', 'daily_sales', 'money_conservation', 'orders_by_status', 'payouts_awaiting_approval', 'platform_daily', 'receivables', 'refunds']);
    const [g] = await serviceSql()`select has_schema_privilege('authenticated', 'admin', 'usage') as a, has_schema_privilege('anon', 'admin', 'usage') as b`;
    expect(g).toEqual({ a: false, b: false });
  });
});
