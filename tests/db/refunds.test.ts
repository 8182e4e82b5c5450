// One refund model: every refund goes through private.issue_refund, capped at
// what was captured. The double-refund sequences that used to pay a customer
// twice, partial refunds before and after completion, provider refunds in and
// out of order, claw-backs into receivables, and refusals that write nothing.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, asUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import {
  books, createAdmin, createCustomer, createVendor, errorOf, fundWallet, payByCard, placeOrder, providerRefund, providerUnavailableFor, setStatus, topUpByCard,
  walletBalance, type PaymentRow, type TestUser, type TestVendor,
} from './fixtures.ts';

let vendor: TestVendor;
let admin: TestUser;
let wide: postgres.Sql;

beforeAll(async () => {
  [vendor, admin] = await Promise.all([createVendor(), createAdmin()]);
  wide = postgres(stackEnv().dbUrl, { max: 25, onnotice: () => {}, idle_timeout: 5 });
});
afterAll(async () => {
  await wide.end({ timeout: 5 });
});

const suya = (quantity = 2) => [{ menu_item_id: vendor.suya, quantity }];

async function cardOrder(provider = 'paystack') {
  const c = await createCustomer();
  const order = await placeOrder(c.id, { vendorId: vendor.id, items: suya(), addressId: c.addressId, paymentMethod: provider });
  const payment = await payByCard(c.id, order.id, provider);
  return { c, order, payment, total: Number(order.total) };
}

async function walletOrder() {
  const c = await createCustomer();
  await fundWallet(c.id, 1_000_000);
  const order = await placeOrder(c.id, { vendorId: vendor.id, items: suya(), fulfillment: 'pickup' });
  return { c, order, total: Number(order.total) };
}

const refundOrder = (userId: string, orderId: string, amount: number, reason: string | null = 'missing item', destination = 'original', borneBy: string | null = null) =>
  asUser(userId, async (tx) => (await tx`select * from public.refund_order(${orderId}::uuid, ${amount}::bigint, ${reason}, ${destination}, ${borneBy})`)[0]);

const cancel = (userId: string, orderId: string, refundTo = 'original', reason = 'changed my mind') =>
  asUser(userId, async (tx) => (await tx`select * from public.cancel_order(${orderId}::uuid, ${reason}, ${refundTo})`)[0]);

async function orderRow(id: string) {
  const [o] = await serviceSql()`select status, payment_status, refunded_amount, commission, vendor_earning, subtotal, delivery_fee, total from public.orders where id = ${id}`;
  return {
    status: o.status as string, payment_status: o.payment_status as string, subtotal: Number(o.subtotal), total: Number(o.total),
    refunded_amount: Number(o.refunded_amount), commission: Number(o.commission), vendor_earning: o.vendor_earning === null ? null : Number(o.vendor_earning),
  };
}

async function refundsOf(orderId: string) {
  return serviceSql()`select id, amount::int, clawback_amount::int, destination, status, initiated_by_role, borne_by from public.refunds where order_id = ${orderId} order by created_at, id`;
}

/** What reached the customer: wallet credits for the order plus card refunds, less claw-backs. */
async function customerGotBack(userId: string, payment: PaymentRow | null, orderId: string): Promise<number> {
  const [w] = await serviceSql()`
    select coalesce(sum(t.amount), 0)::bigint as n from public.wallet_transactions t join public.wallets w on w.id = t.wallet_id
    where w.user_id = ${userId} and t.type in ('order_refund', 'refund_clawback', 'receivable_settlement')
      and (t.order_id = ${orderId} or t.payment_id = ${payment?.id ?? null})`;
  const [r] = await serviceSql()`select coalesce(sum(amount), 0)::bigint as n from public.receivables where user_id = ${userId}`;
  const card = payment ? Number((await serviceSql()`select refunded_amount from public.payments where id = ${payment.id}`)[0].refunded_amount) : 0;
  return Number(w.n) + card - Number(r.n);
}

async function expectBalanced() {
  const b = await books();
  expect({ balanced: b.balanced, money_in: Number(b.money_in) }).toEqual({ balanced: true, money_in: Number(b.money_held) });
}

describe('the three double-refund sequences', () => {
  it('cancel to the wallet, then a provider refund of the same charge: the wallet part is clawed back', async () => {
    const { c, order, payment, total } = await cardOrder();
    await cancel(c.id, order.id, 'wallet');
    expect(await walletBalance(c.id)).toBe(total);
    const r = await providerRefund(payment, total, `re_${payment.id}`);
    expect(r.outcome).toBe('refunded');
    expect(await walletBalance(c.id)).toBe(0);
    expect(await customerGotBack(c.id, payment, order.id)).toBe(total);
    expect(await refundsOf(order.id)).toMatchObject([
      { amount: total, clawback_amount: 0, destination: 'wallet', status: 'processed', initiated_by_role: 'customer' },
      { amount: total, clawback_amount: total, destination: 'card', status: 'processed', initiated_by_role: 'provider' },
    ]);
    expect(await orderRow(order.id)).toMatchObject({ status: 'cancelled', payment_status: 'refunded', refunded_amount: total });
    await expectBalanced();
  });

  it('payment after cancel, then a provider refund: the late payment is refunded once', async () => {
    const c = await createCustomer();
    const order = await placeOrder(c.id, { vendorId: vendor.id, items: suya(), addressId: c.addressId, paymentMethod: 'paystack' });
    const [p] = await asService((tx) => tx`select id, reference, amount from public.begin_payment(${c.id}::uuid, 'paystack', ${order.id}::uuid)`);
    await cancel(c.id, order.id);
    const late = await asService(async (tx) => (await tx`select public.confirm_payment('paystack', ${'evt_late_' + p.id}, ${p.reference}, ${p.amount}::bigint, 'NGN') as r`)[0].r);
    expect(late.outcome).toBe('refunded_to_wallet');
    const total = Number(order.total);
    expect(await walletBalance(c.id)).toBe(total);
    const payment = { id: p.id, reference: p.reference, amount: total };
    await providerRefund(payment, total, `re_${p.id}`);
    expect(await walletBalance(c.id)).toBe(0);
    expect(await customerGotBack(c.id, payment, order.id)).toBe(total);
    await expectBalanced();
  });

  it('partial provider refund, then cancel: the cancel refunds only what is left', async () => {
    const { c, order, payment, total } = await cardOrder();
    const r = await providerRefund(payment, 100000, `re_${payment.id}`);
    expect(r.outcome).toBe('refunded');
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'partially_refunded', refunded_amount: 100000 });
    await cancel(c.id, order.id, 'wallet');
    expect(await walletBalance(c.id)).toBe(total - 100000);
    expect(await customerGotBack(c.id, payment, order.id)).toBe(total);
    expect(await orderRow(order.id)).toMatchObject({ status: 'cancelled', payment_status: 'refunded', refunded_amount: total });
    await expectBalanced();
  });

  it('partial provider refund, then completion: the vendor is paid in full and the platform bears the refund', async () => {
    const { order, payment, total } = await cardOrder();
    await providerRefund(payment, 50000, `re_${payment.id}`);
    const before = await walletBalance(vendor.owner.id);
    for (const s of ['preparing', 'ready', 'out_for_delivery', 'completed']) await setStatus(vendor.owner.id, order.id, s);
    const o = await orderRow(order.id);
    expect(o.commission).toBe(Math.round(Number(o.subtotal) * 0.15));
    expect(await walletBalance(vendor.owner.id)).toBe(before + total - o.commission);
    const [borne] = await serviceSql()`select coalesce(sum(amount), 0)::int as n from public.platform_ledger where order_id = ${order.id} and type = 'refund_borne'`;
    expect(borne.n).toBe(-50000);
    await expectBalanced();
  });
});

describe('partial refunds by vendors and admins', () => {
  it('a vendor refund before completion pays the vendor on what was kept, commission on its share after the refund', async () => {
    const { c, order, total } = await walletOrder();
    const r = await refundOrder(vendor.owner.id, order.id, 100000, 'one suya missing');
    expect(r).toMatchObject({ destination: 'wallet', status: 'processed', borne_by: 'vendor', initiated_by_role: 'vendor' });
    expect(await walletBalance(c.id)).toBe(1_000_000 - total + 100000);
    const before = await walletBalance(vendor.owner.id);
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, order.id, s);
    const o = await orderRow(order.id);
    const commission = Math.round((Number(o.subtotal) - 100000) * 0.15);
    expect(o).toMatchObject({ status: 'completed', payment_status: 'partially_refunded', commission, vendor_earning: total - 100000 - commission });
    expect(await walletBalance(vendor.owner.id)).toBe(before + total - 100000 - commission);
    await expectBalanced();
  });

  it('a vendor refund after completion reverses its earning less the commission it no longer owes', async () => {
    const { c, order, total } = await walletOrder();
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, order.id, s);
    const settled = await orderRow(order.id);
    const ownerBefore = await walletBalance(vendor.owner.id);
    await refundOrder(vendor.owner.id, order.id, 60000, 'cold food');
    const o = await orderRow(order.id);
    const commission = Math.round((Number(o.subtotal) - 60000) * 0.15);
    const back = settled.commission - commission;
    expect(o).toMatchObject({ commission, vendor_earning: Number(settled.vendor_earning) - (60000 - back) });
    expect(await walletBalance(vendor.owner.id)).toBe(ownerBefore - (60000 - back));
    expect(await walletBalance(c.id)).toBe(1_000_000 - total + 60000);
    const ledger = await serviceSql()`select type, amount::int from public.platform_ledger where order_id = ${order.id} order by created_at, type`;
    expect(ledger.map((l) => [l.type, l.amount])).toEqual([['commission', settled.commission], ['commission_reversal', -back]]);
    await expectBalanced();
  });

  it('an admin refund after completion, borne by the platform, leaves the vendor alone', async () => {
    const { c, order } = await cardOrder();
    for (const s of ['preparing', 'ready', 'out_for_delivery', 'completed']) await setStatus(vendor.owner.id, order.id, s);
    const ownerBefore = await walletBalance(vendor.owner.id);
    const r = await refundOrder(admin.id, order.id, 70000, 'late delivery goodwill', 'wallet', 'platform');
    expect(r).toMatchObject({ destination: 'wallet', borne_by: 'platform', initiated_by_role: 'admin' });
    expect(await walletBalance(vendor.owner.id)).toBe(ownerBefore);
    expect(await walletBalance(c.id)).toBe(70000);
    await expectBalanced();
  });

  it('a vendor whose wallet was emptied owes the rest of a later refund as a receivable', async () => {
    const v = await createVendor();
    const c = await createCustomer();
    await fundWallet(c.id, 1_000_000);
    const order = await placeOrder(c.id, { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 2 }], fulfillment: 'pickup' });
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(v.owner.id, order.id, s);
    // The owner spends the earning on an order of their own.
    const earning = await walletBalance(v.owner.id);
    const spend = await placeOrder(v.owner.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' });
    const left = earning - Number(spend.total);
    await refundOrder(v.owner.id, order.id, Number(order.total), 'wrong order delivered');
    expect(await walletBalance(v.owner.id)).toBe(0);
    const [rec] = await serviceSql()`select amount::int, status from public.receivables where user_id = ${v.owner.id}`;
    const o = await orderRow(order.id);
    expect(o.commission).toBe(0);
    expect(rec).toEqual({ amount: earning - left, status: 'open' });
    await expectBalanced();
  });
});

describe('the cap', () => {
  it('20 concurrent partial refunds of one order never exceed the capture', async () => {
    const { c, order, total } = await walletOrder();
    const part = 25000;
    // Twenty different refunds (different reasons: not a double tap) at once.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => wide.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: vendor.owner.id })}, true)`;
      await tx`select public.refund_order(${order.id}::uuid, ${part}::bigint, ${'missing item ' + i}, 'original', null)`;
      return 'ok';
    }).catch((err: Error) => err.message)));
    const allowed = Math.floor(total / part);
    expect(results.filter((r) => r === 'ok').length).toBe(allowed);
    expect(new Set(results.filter((r) => r !== 'ok'))).toEqual(new Set(['refund_exceeds_captured']));
    expect((await orderRow(order.id)).refunded_amount).toBe(allowed * part);
    expect(await walletBalance(c.id)).toBe(1_000_000 - total + allowed * part);
    await expectBalanced();
  });

  it('20 concurrent partial refunds to the card never exceed the charge', async () => {
    const { order, payment, total } = await cardOrder();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => wide.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: admin.id })}, true)`;
      await tx`select public.refund_order(${order.id}::uuid, 40000::bigint, ${'goodwill ' + i}, 'original', 'vendor')`;
      return 'ok';
    }).catch((err: Error) => err.message)));
    expect(results.filter((r) => r === 'ok').length).toBe(Math.floor(total / 40000));
    const [sum] = await serviceSql()`select sum(amount)::int as n from public.refunds where payment_id = ${payment.id} and status <> 'failed'`;
    expect(sum.n).toBeLessThanOrEqual(total);
    await expectBalanced();
  });

  it('a double tap is one refund; a second refund for another reason is another', async () => {
    const { c, order } = await walletOrder();
    const taps = await Promise.all(Array.from({ length: 5 }, () => refundOrder(vendor.owner.id, order.id, 30000, 'drink missing')));
    expect(new Set(taps.map((t) => t.id)).size).toBe(1);
    await refundOrder(vendor.owner.id, order.id, 30000, 'sauce missing');
    expect(await refundsOf(order.id)).toHaveLength(2);
    expect(await walletBalance(c.id)).toBe(1_000_000 - Number(order.total) + 60000);
  });

  it('refuses with a code and writes nothing', async () => {
    const { c, order, total } = await walletOrder();
    const other = await createVendor();
    const unpaid = await placeOrder(c.id, { vendorId: vendor.id, items: suya(), addressId: c.addressId, paymentMethod: 'stripe' });
    const count = async () => Number((await serviceSql()`select count(*) from public.refunds where order_id in (${order.id}, ${unpaid.id})`)[0].count);
    const walletBefore = await walletBalance(c.id);
    const refusals: Array<[() => Promise<unknown>, string]> = [
      [() => refundOrder(vendor.owner.id, order.id, total + 1), 'refund_exceeds_captured'],
      [() => refundOrder(vendor.owner.id, order.id, Number.MAX_SAFE_INTEGER), 'refund_exceeds_captured'],
      [() => refundOrder(vendor.owner.id, order.id, 0), 'invalid_amount'],
      [() => refundOrder(vendor.owner.id, order.id, -5), 'invalid_amount'],
      [() => refundOrder(vendor.owner.id, order.id, 100, null), 'reason_required'],
      [() => refundOrder(vendor.owner.id, order.id, 100, '   '), 'reason_required'],
      [() => refundOrder(vendor.owner.id, order.id, 100, 'x'.repeat(501)), 'invalid_reason'],
      [() => refundOrder(vendor.owner.id, order.id, 100, 'ok', 'bank'), 'invalid_refund_destination'],
      [() => refundOrder(vendor.owner.id, order.id, 100, 'ok', 'original', 'platform'), 'invalid_borne_by'],
      [() => refundOrder(admin.id, order.id, 100, 'ok', 'original', 'customer'), 'invalid_borne_by'],
      [() => refundOrder(other.owner.id, order.id, 100), 'order_not_found'],
      [() => refundOrder(c.id, order.id, 100), 'order_not_found'],
      [() => refundOrder(vendor.owner.id, crypto.randomUUID(), 100), 'order_not_found'],
      [() => refundOrder(vendor.owner.id, unpaid.id, 100), 'order_not_paid'],
      [() => cancel(c.id, order.id, 'bank'), 'invalid_refund_destination'],
    ];
    for (const [call, code] of refusals) expect((await errorOf(call())).message).toBe(code);
    expect(await count()).toBe(0);
    expect(await walletBalance(c.id)).toBe(walletBefore);
    // Nobody but definer functions writes refunds, not even service_role.
    expect((await errorOf(asService((tx) => tx`insert into public.refunds (order_id, user_id, amount, currency, destination, reason, initiated_by_role, borne_by, idempotency_key)
      values (${order.id}, ${c.id}, 1, 'NGN', 'wallet', 'x', 'admin', 'platform', 'forged')`))).code).toBe('42501');
    // The door itself is not an RPC.
    expect((await errorOf(asUser(vendor.owner.id, (tx) => tx`select private.issue_refund(${order.id}::uuid, null, 1::bigint, 'wallet', 'x', 'admin', null, 'platform', 'x')`))).code).toBe('42501');
  });
});

describe('card refunds we start', () => {
  const result = (refundId: string, providerId: string | null, status: string, reason: string | null = null) =>
    asService(async (tx) => (await tx`select * from public.record_card_refund_result(${refundId}::uuid, ${providerId}, ${status}, ${reason})`)[0]);
  const claim = (refundId: string) => asService((tx) => tx`select * from public.claim_card_refunds(100, ${refundId}::uuid)`);

  it('a cancel to the original card stays pending until the provider confirms it; replays change nothing', async () => {
    const { c, order, payment, total } = await cardOrder();
    await cancel(c.id, order.id);
    expect(await walletBalance(c.id)).toBe(0);
    const [r] = await refundsOf(order.id);
    expect(r).toMatchObject({ amount: total, destination: 'card', status: 'pending', initiated_by_role: 'customer' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'cancelled', payment_status: 'refunded', refunded_amount: total });
    // Its first attempt leaves right after the commit (pg_net → refunds function); this
    // payment's provider is unavailable (fixtures), so it stays pending for a retry.
    const deadline = Date.now() + 15_000;
    while ((await serviceSql()`select attempts from public.refunds where id = ${r.id}`)[0].attempts < 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [tried] = await serviceSql()`select attempts, status, next_attempt_at > now() as later from public.refunds where id = ${r.id}`;
    expect(tried).toEqual({ attempts: 1, status: 'pending', later: true });
    expect(await claim(r.id)).toEqual([]);
    await serviceSql()`update public.refunds set next_attempt_at = now() - interval '1 second' where id = ${r.id}`;
    expect(await claim(r.id)).toMatchObject([{ refund_id: r.id, provider: 'paystack', payment_reference: payment.reference, attempts: 2 }]);
    expect(await claim(r.id)).toEqual([]);
    await result(r.id, 'psk_1_' + r.id, 'pending');
    const w = await providerRefund(payment, total, 'psk_1_' + r.id, 'processed');
    expect(w.outcome).toBe('refund_processed');
    expect((await refundsOf(order.id))[0].status).toBe('processed');
    expect((await providerRefund(payment, total, 'psk_1_' + r.id, 'processed')).duplicate).toBe(true);
    expect((await result(r.id, 'psk_1_' + r.id, 'processed')).status).toBe('processed');
    const [p] = await serviceSql()`select status, refunded_amount::int from public.payments where id = ${payment.id}`;
    expect(p).toEqual({ status: 'refunded', refunded_amount: total });
    await expectBalanced();
  });

  it('a webhook that beats our record of the provider id settles the refund once', async () => {
    const { c, order, payment, total } = await cardOrder('stripe');
    await asUser(vendor.owner.id, (tx) => tx`select public.cancel_order(${order.id}::uuid, 'out of rice')`);
    const [r] = await refundsOf(order.id);
    expect(r).toMatchObject({ destination: 'card', borne_by: 'vendor', initiated_by_role: 'vendor' });
    expect((await providerRefund(payment, total, 're_fast_' + r.id, 'processed', 'stripe')).outcome).toBe('refund_processed');
    expect((await result(r.id, 're_fast_' + r.id, 'processed')).status).toBe('processed');
    expect(await refundsOf(order.id)).toHaveLength(1);
    expect(await walletBalance(c.id)).toBe(0);
    await expectBalanced();
  });

  it('a refused card refund goes to the wallet; if the provider pays it after all, the wallet part is clawed back', async () => {
    const { c, order, payment, total } = await cardOrder();
    await cancel(c.id, order.id);
    const [r] = await refundsOf(order.id);
    await result(r.id, null, 'failed', 'card expired');
    expect(await walletBalance(c.id)).toBe(total);
    expect(await refundsOf(order.id)).toMatchObject([{ status: 'failed' }, { destination: 'wallet', status: 'processed' }]);
    await expectBalanced();
    // The provider reports it processed after all (matched by our id).
    const late = await asService(async (tx) => (await tx`
      select public.record_provider_refund('paystack', ${'evt_late_' + r.id}, ${payment.reference}, ${'psk_late_' + r.id}, ${total}::bigint, 'NGN', 'processed', ${r.id}::uuid) as r`)[0].r);
    expect(late.outcome).toBe('refund_processed');
    expect(await walletBalance(c.id)).toBe(0);
    expect(await customerGotBack(c.id, payment, order.id)).toBe(total);
    await expectBalanced();
  });

  it('a provider refund failure after a pending webhook re-issues to the wallet once, out of order or replayed', async () => {
    const { c, order, payment, total } = await cardOrder();
    await cancel(c.id, order.id);
    const [r] = await refundsOf(order.id);
    await result(r.id, 'psk_f_' + r.id, 'pending');
    expect((await providerRefund(payment, total, 'psk_f_' + r.id, 'failed')).outcome).toBe('refund_failed');
    expect((await providerRefund(payment, total, 'psk_f_' + r.id, 'pending')).outcome).toBe('unchanged');
    expect((await providerRefund(payment, total, 'psk_f_' + r.id, 'failed')).duplicate).toBe(true);
    expect(await walletBalance(c.id)).toBe(total);
    await expectBalanced();
  });
});

describe('receivables', () => {
  it('a top-up refunded at the provider after it was spent leaves a receivable, settled from the next credit', async () => {
    const c = await createCustomer();
    const topup = await topUpByCard(c.id, 500000);
    const spent = await placeOrder(c.id, { vendorId: vendor.id, items: suya(), fulfillment: 'pickup' });
    const left = 500000 - Number(spent.total);
    expect((await providerRefund(topup, 500000, `re_${topup.id}`)).outcome).toBe('refunded');
    expect(await walletBalance(c.id)).toBe(0);
    const [rec] = await serviceSql()`select id, amount::int, settled_amount::int, status from public.receivables where user_id = ${c.id}`;
    expect(rec).toMatchObject({ amount: 500000 - left, settled_amount: 0, status: 'open' });
    const [flag] = await serviceSql()`select reason from admin.account_flags where user_id = ${c.id}`;
    expect(flag.reason).toMatch(/^Owes /);
    // The user reads what they owe; the admin view lists it.
    expect(await asUser(c.id, (tx) => tx`select amount::int from public.receivables`)).toEqual([{ amount: 500000 - left }]);
    await expectBalanced();
    // A replay of the same provider refund claws back nothing more.
    await providerRefund(topup, 500000, `re_${topup.id}`);
    expect(Number((await serviceSql()`select count(*) from public.receivables where user_id = ${c.id}`)[0].count)).toBe(1);
    // The next top-ups settle the debt first.
    await topUpByCard(c.id, 100000);
    const [after] = await serviceSql()`select settled_amount::int, status from public.receivables where id = ${rec.id}`;
    expect(after).toEqual({ settled_amount: 100000, status: 'open' });
    expect(await walletBalance(c.id)).toBe(0);
    await topUpByCard(c.id, 500000);
    const [done] = await serviceSql()`select settled_amount::int, status from public.receivables where id = ${rec.id}`;
    expect(done).toEqual({ settled_amount: 500000 - left, status: 'settled' });
    expect(await walletBalance(c.id)).toBe(600000 - (500000 - left));
    await expectBalanced();
  });

  it('an admin writes off what will not be recovered, as a platform loss', async () => {
    const c = await createCustomer();
    const topup = await topUpByCard(c.id, 300000);
    await placeOrder(c.id, { vendorId: vendor.id, items: suya(1), fulfillment: 'pickup' });
    await providerRefund(topup, 300000, `re_${topup.id}`);
    const [rec] = await serviceSql()`select id, amount::int from public.receivables where user_id = ${c.id}`;
    expect((await errorOf(asUser(c.id, (tx) => tx`select public.admin_write_off_receivable(${rec.id}::uuid, 'x')`))).message).toBe('forbidden');
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_write_off_receivable(${rec.id}::uuid, '')`))).message).toBe('reason_required');
    const [w] = await asUser(admin.id, (tx) => tx`select status from public.admin_write_off_receivable(${rec.id}::uuid, 'customer unreachable')`);
    expect(w.status).toBe('written_off');
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_write_off_receivable(${rec.id}::uuid, 'again')`))).message).toBe('receivable_closed');
    const [loss] = await serviceSql()`select amount::int from public.platform_ledger where idempotency_key = ${'receivable:' + rec.id + ':write_off'}`;
    expect(loss.amount).toBe(-rec.amount);
    await expectBalanced();
  });

  it('a provider refund larger than the charge is not applied', async () => {
    const { payment, total } = await cardOrder();
    expect((await providerRefund(payment, total + 1, `re_big_${payment.id}`)).outcome).toBe('exceeds_captured');
    expect((await providerRefund(payment, total, `re_other_${payment.id}`, 'processed', 'stripe')).outcome).toBe('unknown_reference');
    expect(Number((await serviceSql()`select count(*) from public.refunds where payment_id = ${payment.id}`)[0].count)).toBe(0);
    await expectBalanced();
  });
});

describe('vendor statements', () => {
  const statement = (userId: string, vendorId: string, from: string, to: string) =>
    asUser(userId, async (tx) => (await tx`select public.vendor_statement(${vendorId}::uuid, ${from}::date, ${to}::date) as s`)[0].s);
  const lagosDay = (offsetDays = 0) => new Date(Date.now() + 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);

  it('reconciles with the ledger, per Lagos day, for the owner and admins only', async () => {
    const v = await createVendor();
    const c = await createCustomer();
    await fundWallet(c.id, 2_000_000);
    const order = (q: number) => placeOrder(c.id, { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: q }], fulfillment: 'pickup' });
    const [a, b] = [await order(2), await order(1)];
    for (const o of [a, b]) for (const s of ['preparing', 'ready', 'completed']) await setStatus(v.owner.id, o.id, s);
    await refundOrder(v.owner.id, a.id, 50000, 'one stick short');
    // Yesterday, 23:30 in Lagos: b's completion and earning belong to that day.
    const lateYesterday = `${lagosDay(-1)}T22:30:00Z`;
    await serviceSql()`update public.orders set completed_at = ${lateYesterday} where id = ${b.id}`;
    await serviceSql()`update public.wallet_transactions set created_at = ${lateYesterday} where order_id = ${b.id} and type = 'order_earning'`;
    await serviceSql()`update public.platform_ledger set created_at = ${lateYesterday} where order_id = ${b.id}`;

    const s = await statement(v.owner.id, v.id, lagosDay(-1), lagosDay(0));
    const balance = await walletBalance(v.owner.id);
    expect(s).toMatchObject({ opening_balance: 0, closing_balance: balance, reconciles: true, time_zone: 'Africa/Lagos' });
    const [yesterday, today] = s.days;
    const earn = async (id: string) => Number((await serviceSql()`select coalesce(sum(amount), 0) as n from public.wallet_transactions where order_id = ${id} and type in ('order_earning', 'earning_reversal')`)[0].n);
    const commission = async (id: string) => Number((await serviceSql()`select coalesce(sum(amount), 0) as n from public.platform_ledger where order_id = ${id}`)[0].n);
    expect(yesterday).toMatchObject({ date: lagosDay(-1), orders: 1, gross: Number(b.total), earnings: await earn(b.id), commission: await commission(b.id), refunds_borne: 0 });
    expect(today).toMatchObject({ date: lagosDay(0), orders: 1, gross: Number(a.total), earnings: await earn(a.id), commission: await commission(a.id), refunds_borne: 50000 });
    expect(yesterday.net + today.net).toBe(balance);
    // A period after today opens and closes at today's balance.
    expect(await statement(v.owner.id, v.id, lagosDay(1), lagosDay(2))).toMatchObject({ opening_balance: balance, closing_balance: balance, reconciles: true });
    expect((await statement(admin.id, v.id, lagosDay(0), lagosDay(0))).closing_balance).toBe(balance);
    expect((await errorOf(statement(vendor.owner.id, v.id, lagosDay(0), lagosDay(0)))).message).toBe('vendor_not_found');
    expect((await errorOf(statement(c.id, v.id, lagosDay(0), lagosDay(0)))).message).toBe('vendor_not_found');
    expect((await errorOf(statement(v.owner.id, v.id, lagosDay(0), lagosDay(-1)))).message).toBe('invalid_period');
    expect((await errorOf(statement(v.owner.id, v.id, '2025-01-01', '2026-12-01'))).message).toBe('invalid_period');
  });
});

describe('a scripted day through every money path', () => {
  it('stays balanced after every step', async () => {
    const steps: string[] = [];
    const check = async (step: string) => {
      const b = await books();
      if (!b.balanced) steps.push(`${step}: money_in ${b.money_in} != money_held ${b.money_held} (${JSON.stringify(b)})`);
    };
    const ada = await createCustomer();
    const topup = await topUpByCard(ada.id, 2_000_000);
    await check('top-up');
    const w1 = await placeOrder(ada.id, { vendorId: vendor.id, items: suya(3), fulfillment: 'pickup' });
    await refundOrder(vendor.owner.id, w1.id, 30000, 'one short');
    await check('vendor partial refund, wallet order');
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, w1.id, s);
    await check('completion after a vendor refund');
    await refundOrder(admin.id, w1.id, 20000, 'goodwill', 'wallet', 'vendor');
    await refundOrder(admin.id, w1.id, 10000, 'goodwill', 'wallet', 'platform');
    await check('admin refunds after completion');
    const card = await cardOrder('stripe');
    await refundOrder(vendor.owner.id, card.order.id, 45000, 'drink missing');
    await check('vendor partial card refund (pending)');
    const [pending] = await serviceSql()`select id from public.refunds where order_id = ${card.order.id}`;
    await asService((tx) => tx`select public.record_card_refund_result(${pending.id}::uuid, ${'re_day_' + pending.id}, 'processed')`);
    await check('card refund processed');
    await providerRefund(card.payment, 60000, `re_dash_${card.payment.id}`, 'processed', 'stripe');
    await check('dashboard partial refund');
    await cancel(card.c.id, card.order.id, 'wallet');
    await check('cancel to wallet after partial refunds');
    await providerRefund(card.payment, card.total - 105000, `re_dash2_${card.payment.id}`, 'processed', 'stripe');
    await check('provider refunds the rest again: claw-back');
    await providerRefund(topup, 2_000_000, `re_topup_${topup.id}`);
    await check('top-up refunded after spending: receivable');
    await topUpByCard(ada.id, 1_000_000);
    await check('next top-up settles the receivable');
    // The vendor takes money out: one transfer succeeds, one fails and its hold comes back.
    const recipient = `RCP_day${vendor.id.slice(0, 8)}`;
    await providerUnavailableFor(recipient, 'paystack');
    await asService((tx) => tx`select public.save_payout_account(${vendor.owner.id}::uuid, '058', 'Guaranty Trust Bank', '0123456789', 'MAMA PUT', ${recipient})`);
    const ownerBefore = await walletBalance(vendor.owner.id);
    for (const outcome of ['success', 'failed']) {
      const [p] = await asUser(vendor.owner.id, (tx) => tx`select id, reference from public.request_payout(100000)`);
      await check(`payout requested (${outcome})`);
      await asService((tx) => tx`select public.claim_payouts(${vendor.owner.id}::uuid, ${p.id}::uuid)`);
      await asService((tx) => tx`select public.apply_transfer_status(p_reference => ${p.reference}, p_status => ${outcome}, p_provider_event_id => ${'transfer.' + outcome + ':' + p.id})`);
      await check(`transfer ${outcome}`);
    }
    expect(await walletBalance(vendor.owner.id)).toBe(ownerBefore - 100000);
    expect(steps).toEqual([]);
    expect(await customerGotBack(card.c.id, card.payment, card.order.id)).toBe(card.total);
  });
});
