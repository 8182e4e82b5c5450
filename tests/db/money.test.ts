// Money under load and over a day: parallel wallet orders never overdraw, one
// idempotency key is one order, and the conservation query balances after a
// scripted day of wallet and card orders, cancels, expiries, refunds and
// completions.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, asUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { createCustomer, createVendor, fundWallet, placeOrder, setStatus, walletBalance, type TestVendor } from './fixtures.ts';

// Its own pool, so 50 calls really run at once on 50 connections.
let wide: postgres.Sql;
let vendor: TestVendor;

beforeAll(async () => {
  wide = postgres(stackEnv().dbUrl, { max: 50, onnotice: () => {}, idle_timeout: 5 });
  vendor = await createVendor();
});
afterAll(async () => {
  await wide.end({ timeout: 5 });
});

/** place_order as a user on the wide pool; resolves to the order id or the error message. */
function placeWide(userId: string, items: unknown, key: string | null): Promise<{ id?: string; error?: string }> {
  return wide.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: userId })}, true)`;
    const [o] = await tx`select id from public.place_order(${vendor.id}::uuid, ${JSON.stringify(items)}::text::jsonb, 'pickup', null, 'wallet', null, ${key})`;
    return { id: o.id as string };
  }).catch((err: Error) => ({ error: err.message })) as Promise<{ id?: string; error?: string }>;
}

describe('concurrency', () => {
  it('50 parallel wallet orders with funds for 20: exactly 20 succeed, the balance is exact and never negative', async () => {
    const c = await createCustomer();
    await fundWallet(c.id, 20 * 150000);
    const results = await Promise.all(Array.from({ length: 50 }, () => placeWide(c.id, [{ menu_item_id: vendor.suya, quantity: 1 }], null)));
    expect(results.filter((r) => r.id).length).toBe(20);
    expect(results.filter((r) => r.error).map((r) => r.error)).toEqual(Array(30).fill('insufficient_funds'));
    expect(await walletBalance(c.id)).toBe(0);
    const [ledger] = await serviceSql()`
      select count(*) filter (where t.type = 'order_payment')::int as debits, min(t.balance_after)::bigint as lowest, sum(t.amount)::bigint as net
      from public.wallet_transactions t join public.wallets w on w.id = t.wallet_id where w.user_id = ${c.id}`;
    expect({ debits: ledger.debits, lowest: Number(ledger.lowest), net: Number(ledger.net) }).toEqual({ debits: 20, lowest: 0, net: 0 });
    const [orders] = await serviceSql()`select count(*)::int as n from public.orders where customer_id = ${c.id}`;
    expect(orders.n).toBe(20);
  });

  it('the same idempotency key 10 times in parallel makes one order and one debit', async () => {
    const c = await createCustomer();
    await fundWallet(c.id, 1_000_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => placeWide(c.id, [{ menu_item_id: vendor.suya, quantity: 2 }], 'tap-tap-tap')));
    expect(results.every((r) => r.id)).toBe(true);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await walletBalance(c.id)).toBe(1_000_000 - 300000);
    const [orders] = await serviceSql()`select count(*)::int as n from public.orders where customer_id = ${c.id}`;
    expect(orders.n).toBe(1);
  });
});

describe('money conservation', () => {
  it('balances after a scripted day of orders, cancels, expiries, refunds and completions', async () => {
    const [ada, bayo, chioma] = await Promise.all([createCustomer(), createCustomer(), createCustomer()]);
    const other = await createVendor();
    await Promise.all([fundWallet(ada.id, 3_000_000), fundWallet(bayo.id, 3_000_000)]);
    const jollof = { menu_item_id: vendor.jollof, quantity: 2, modifier_ids: [vendor.chicken, vendor.plantain] };
    const suya = (v: TestVendor, quantity = 1) => ({ menu_item_id: v.suya, quantity });
    const ownerBefore = await walletBalance(vendor.owner.id);
    const ids: string[] = [];
    const track = <T extends { id: string }>(o: T) => (ids.push(o.id), o);

    // Morning: wallet orders; one completed by delivery, one pickup, one cancelled by the customer.
    const o1 = track(await placeOrder(ada.id, { vendorId: vendor.id, items: [jollof], addressId: ada.addressId }));
    const o2 = track(await placeOrder(bayo.id, { vendorId: vendor.id, items: [suya(vendor, 3)], fulfillment: 'pickup' }));
    const o3 = track(await placeOrder(ada.id, { vendorId: other.id, items: [suya(other)], addressId: ada.addressId }));
    for (const s of ['preparing', 'ready', 'out_for_delivery', 'completed']) await setStatus(vendor.owner.id, o1.id, s);
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, o2.id, s);
    await asUser(ada.id, (tx) => tx`select public.cancel_order(${o3.id}::uuid, 'ordered twice')`);

    // Noon: card orders; one paid and completed, one paid then cancelled by the vendor, one refunded by the provider, one never paid.
    const card = async (who: typeof chioma, v: TestVendor, provider: string) => {
      const o = track(await placeOrder(who.id, { vendorId: v.id, items: [suya(v, 2)], addressId: who.addressId, paymentMethod: provider }));
      const [p] = await asService((tx) => tx`select reference, amount from public.begin_payment(${who.id}::uuid, ${provider}, ${o.id}::uuid)`);
      return { o, p };
    };
    const c1 = await card(chioma, vendor, 'paystack');
    const c2 = await card(chioma, vendor, 'stripe');
    const c3 = await card(bayo, other, 'stripe');
    const c4 = await card(ada, other, 'paystack');
    for (const c of [c1, c2, c3]) {
      await asService((tx) => tx`select public.confirm_payment(${c.o.payment_method}, ${'evt_' + c.o.id}, ${c.p.reference}, ${c.p.amount}::bigint, 'NGN')`);
    }
    for (const s of ['preparing', 'ready', 'out_for_delivery', 'completed']) await setStatus(vendor.owner.id, c1.o.id, s);
    await setStatus(vendor.owner.id, c2.o.id, 'cancelled', 'power cut');
    await asService((tx) => tx`select public.record_provider_refund('stripe', ${'evt_re_' + c3.o.id}, ${c3.p.reference}, ${'re_' + c3.o.id}, ${c3.p.amount}::bigint, 'NGN', 'processed')`);
    await serviceSql()`update public.orders set created_at = now() - interval '45 minutes' where id = ${c4.o.id}`;
    await asService((tx) => tx`select public.expire_unpaid_orders()`);

    // Evening: one order still being prepared when the books are checked.
    const open = track(await placeOrder(bayo.id, { vendorId: other.id, items: [suya(other, 2)], fulfillment: 'pickup' }));
    await setStatus(other.owner.id, open.id, 'preparing');

    const orders = await serviceSql()`select id, status, payment_status, subtotal, delivery_fee, total, commission from public.orders where id in ${serviceSql()(ids)}`;
    const byId = Object.fromEntries(orders.map((o) => [o.id, o]));
    expect([o1, o2, o3, c1.o, c2.o, c3.o, c4.o, open].map((o) => `${byId[o.id].status}/${byId[o.id].payment_status}`)).toEqual([
      'completed/paid', 'completed/paid', 'cancelled/refunded', 'completed/paid', 'cancelled/refunded', 'cancelled/refunded',
      'cancelled/cancelled', 'preparing/paid',
    ]);
    const earn = (o: { id: string }) => Number(byId[o.id].total) - Number(byId[o.id].commission);
    expect(await walletBalance(vendor.owner.id)).toBe(ownerBefore + earn(o1) + earn(o2) + earn(c1.o));

    // The day's books, scoped to these orders.
    const [day] = await serviceSql()`
      select
        (select coalesce(-sum(amount), 0) from public.wallet_transactions where type = 'order_payment' and order_id in ${serviceSql()(ids)})
        + (select coalesce(sum(amount), 0) from public.payments where status in ('succeeded', 'refunded') and order_id in ${serviceSql()(ids)}) as paid,
        (select coalesce(sum(amount), 0) from public.wallet_transactions where type = 'order_earning' and order_id in ${serviceSql()(ids)}) as earnings,
        (select coalesce(sum(amount), 0) from public.platform_ledger where order_id in ${serviceSql()(ids)}) as commission,
        (select coalesce(sum(amount - clawback_amount), 0) from public.refunds where status <> 'failed' and order_id in ${serviceSql()(ids)}) as refunds`;
    const total = (...os: { id: string }[]) => os.reduce((s, o) => s + Number(byId[o.id].total), 0);
    const commission = (...os: { id: string }[]) => os.reduce((s, o) => s + Number(byId[o.id].commission), 0);
    expect(Number(day.paid)).toBe(total(o1, o2, o3, c1.o, c2.o, c3.o, open));
    expect(Number(day.earnings)).toBe(earn(o1) + earn(o2) + earn(c1.o));
    expect(Number(day.commission)).toBe(commission(o1, o2, c1.o));
    expect(Number(day.refunds)).toBe(total(o3, c2.o, c3.o));
    expect(Number(day.paid)).toBe(Number(day.earnings) + Number(day.commission) + Number(day.refunds) + total(open));

    // And the one query admins run holds for the whole database.
    const [books] = await serviceSql()`select money_in, money_held, wallets_off_ledger, balanced from admin.money_conservation`;
    expect(books.balanced).toBe(true);
    expect(Number(books.money_in)).toBe(Number(books.money_held));
  });
});
