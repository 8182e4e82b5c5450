// The payments contract the edge functions use (service_role over
// SUPABASE_DB_URL): begin, confirm (idempotent, amount and currency checked),
// failure and refund.
import { beforeAll, describe, expect, it } from 'vitest';
import { asService, asUser, serviceSql } from '../helpers/db.ts';
import { createCustomer, createVendor, errorOf, fundWallet, placeOrder, walletBalance, type TestVendor } from './fixtures.ts';

let vendor: TestVendor;
beforeAll(async () => {
  vendor = await createVendor();
});

type Json = Record<string, any>;

const begin = (userId: string, provider: string, orderId: string | null, topup: number | null = null) =>
  asService(async (tx) => (await tx`select * from public.begin_payment(${userId}::uuid, ${provider}, ${orderId}::uuid, ${topup}::bigint)`)[0] as Json);

const confirm = (provider: string, eventId: string, reference: string, amount: number, currency = 'NGN') =>
  asService(async (tx) => (await tx`select public.confirm_payment(${provider}, ${eventId}, ${reference}, ${amount}::bigint, ${currency}, 'pi_123') as r`)[0].r as Json);

async function cardOrder(provider = 'paystack') {
  const c = await createCustomer();
  const order = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 2 }], addressId: c.addressId, paymentMethod: provider });
  return { c, order };
}

describe('payments contract', () => {
  it('is callable by service_role only', async () => {
    const fns = ['begin_payment(uuid, text, uuid, bigint)', 'confirm_payment(text, text, text, bigint, text, text, jsonb)',
      'record_payment_failure(text, text, text, text, jsonb)',
      'record_provider_refund(text, text, text, text, bigint, text, text, uuid, text, jsonb)', 'set_payment_provider_data(uuid, text, jsonb)',
      'claim_card_refunds(integer, uuid)', 'record_card_refund_result(uuid, text, text, text)'];
    for (const fn of fns) {
      const [r] = await serviceSql()`
        select has_function_privilege('anon', ${'public.' + fn}, 'execute') as anon,
               has_function_privilege('authenticated', ${'public.' + fn}, 'execute') as auth,
               has_function_privilege('service_role', ${'public.' + fn}, 'execute') as service`;
      expect({ fn, ...r }).toEqual({ fn, anon: false, auth: false, service: true });
    }
  });

  it('starts one live payment per order with the amount from the database', async () => {
    const { c, order } = await cardOrder();
    const p1 = await begin(c.id, 'paystack', order.id);
    expect(p1).toMatchObject({ purpose: 'order', status: 'pending', currency: 'NGN', order_id: order.id, provider: 'paystack' });
    expect(Number(p1.amount)).toBe(Number(order.total));
    const withData = await asService(async (tx) => (await tx`
      select * from public.set_payment_provider_data(${p1.id}::uuid, 'txn_1', ${'{"authorization_url":"https://checkout.paystack.com/x","access_code":"x"}'}::text::jsonb)`)[0]);
    expect(withData.provider_data.access_code).toBe('x');
    const p2 = await begin(c.id, 'paystack', order.id);
    expect(p2.id).toBe(p1.id);
    expect(p2.provider_data.authorization_url).toBe('https://checkout.paystack.com/x');
  });

  it('refuses what does not fit: other user, wrong provider, paid order, bad top-up', async () => {
    const { c, order } = await cardOrder();
    const other = await createCustomer();
    expect(await errorOf(begin(other.id, 'paystack', order.id))).toMatchObject({ code: 'PT404', message: 'order_not_found' });
    expect((await errorOf(begin(c.id, 'stripe', order.id))).message).toBe('payment_method_mismatch');
    expect((await errorOf(begin(c.id, 'flutterwave', order.id))).message).toBe('invalid_provider');
    expect((await errorOf(begin(c.id, 'paystack', order.id, 50000))).message).toBe('invalid_payment_request');
    expect((await errorOf(begin(c.id, 'paystack', null, 99))).message).toBe('invalid_amount');
    expect((await errorOf(begin(c.id, 'paystack', null, 50_000_001))).message).toBe('invalid_amount');
    await fundWallet(c.id, 1_000_000);
    const paid = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId });
    expect((await errorOf(begin(c.id, 'paystack', paid.id))).message).toBe('order_not_awaiting_payment');
  });

  it('confirms once: the order becomes new/paid, a replayed event changes nothing', async () => {
    const { c, order } = await cardOrder();
    const p = await begin(c.id, 'paystack', order.id);
    const first = await confirm('paystack', 'evt_ok_1', p.reference, Number(p.amount));
    expect(first).toMatchObject({ outcome: 'confirmed', duplicate: false, order_id: order.id, payment_status: 'succeeded' });
    const again = await confirm('paystack', 'evt_ok_1', p.reference, Number(p.amount));
    expect(again).toMatchObject({ outcome: 'confirmed', duplicate: true });
    const [o] = await serviceSql()`select status, payment_status, paid_at from public.orders where id = ${order.id}`;
    expect(o).toMatchObject({ status: 'new', payment_status: 'paid' });
    expect(o.paid_at).toBeTruthy();
    const events = await serviceSql()`select to_status, actor_role from public.order_events where order_id = ${order.id} order by id`;
    expect(events.map((e) => `${e.to_status}:${e.actor_role}`)).toEqual(['awaiting_payment:customer', 'new:system']);
    // A different event for the same, already confirmed payment is ignored.
    expect((await confirm('paystack', 'evt_ok_2', p.reference, Number(p.amount))).outcome).toBe('ignored');
    expect(await walletBalance(c.id)).toBe(0);
  });

  it('flags a wrong amount or currency and leaves the order unpaid', async () => {
    for (const [amount, currency] of [[100, 'NGN'], [null, 'USD']] as const) {
      const { c, order } = await cardOrder('stripe');
      const p = await begin(c.id, 'stripe', order.id);
      const r = await confirm('stripe', `evt_bad_${crypto.randomUUID()}`, p.reference, amount ?? Number(p.amount), currency);
      expect(r).toMatchObject({ outcome: 'flagged', payment_status: 'flagged' });
      const [o] = await serviceSql()`select status, payment_status from public.orders where id = ${order.id}`;
      expect(o).toMatchObject({ status: 'awaiting_payment', payment_status: 'pending' });
    }
  });

  it('credits a wallet top-up through the ledger, once', async () => {
    const c = await createCustomer();
    const p = await begin(c.id, 'stripe', null, 500000);
    expect(p).toMatchObject({ purpose: 'wallet_topup', status: 'pending', order_id: null });
    expect((await confirm('stripe', 'evt_topup_1', p.reference, 500000)).outcome).toBe('credited');
    expect((await confirm('stripe', 'evt_topup_1', p.reference, 500000)).duplicate).toBe(true);
    expect(await walletBalance(c.id)).toBe(500000);
    const txs = await asUser(c.id, (tx) => tx`select type, amount, balance_after, reference from public.wallet_transactions`);
    expect(txs.map((t) => [t.type, Number(t.amount), Number(t.balance_after), t.reference])).toEqual([['topup', 500000, 500000, p.reference]]);
  });

  it('records a failure (retry allowed) and credits a late payment for an expired order to the wallet', async () => {
    const { c, order } = await cardOrder();
    const p = await begin(c.id, 'paystack', order.id);
    const failed = await asService(async (tx) => (await tx`select public.record_payment_failure('paystack', 'evt_fail_1', ${p.reference}, 'Declined') as r`)[0].r);
    expect(failed).toMatchObject({ outcome: 'failed', payment_status: 'failed' });
    const [o1] = await serviceSql()`select status, payment_status from public.orders where id = ${order.id}`;
    expect(o1).toMatchObject({ status: 'awaiting_payment', payment_status: 'failed' });
    const retry = await begin(c.id, 'paystack', order.id);
    expect(retry.id).not.toBe(p.id);
    await serviceSql()`update public.orders set created_at = now() - interval '1 hour' where id = ${order.id}`;
    await asService((tx) => tx`select public.expire_unpaid_orders()`);
    const late = await confirm('paystack', 'evt_late_1', retry.reference, Number(retry.amount));
    expect(late.outcome).toBe('refunded_to_wallet');
    expect(await walletBalance(c.id)).toBe(Number(order.total));
    const [o2] = await serviceSql()`select status, payment_status from public.orders where id = ${order.id}`;
    expect(o2).toMatchObject({ status: 'cancelled', payment_status: 'refunded' });
  });

  it('records a provider refund: an order in progress is cancelled without a wallet credit', async () => {
    const { c, order } = await cardOrder('stripe');
    const p = await begin(c.id, 'stripe', order.id);
    await confirm('stripe', 'evt_pay_r', p.reference, Number(p.amount));
    const r = await asService(async (tx) => (await tx`
      select public.record_provider_refund('stripe', 'evt_refund_1', ${p.reference}, 're_1', ${p.amount}::bigint, 'ngn', 'processed') as r`)[0].r);
    expect(r).toMatchObject({ outcome: 'refunded', payment_status: 'refunded' });
    const [o] = await serviceSql()`select status, payment_status, cancel_reason, cancelled_by_role from public.orders where id = ${order.id}`;
    expect(o).toMatchObject({ status: 'cancelled', payment_status: 'refunded', cancel_reason: 'refunded_by_provider', cancelled_by_role: 'system' });
    expect(await walletBalance(c.id)).toBe(0);
    const dup = await asService(async (tx) => (await tx`
      select public.record_provider_refund('stripe', 'evt_refund_1', ${p.reference}, 're_1', ${p.amount}::bigint, 'NGN', 'processed') as r`)[0].r);
    expect(dup.duplicate).toBe(true);
    // The same provider refund under another event id (Stripe sends charge.refunded and refund.updated) changes nothing.
    const again = await asService(async (tx) => (await tx`
      select public.record_provider_refund('stripe', 'evt_refund_2', ${p.reference}, 're_1', ${p.amount}::bigint, 'NGN', 'processed') as r`)[0].r);
    expect(again).toMatchObject({ outcome: 'unchanged', duplicate: false });
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.refunds where payment_id = ${p.id}`;
    expect(n).toBe(1);
  });
});
