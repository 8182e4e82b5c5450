// Card payments with Paystack end to end: the app calls `payments` through
// supabase-js, the (fake) Paystack is paid, and its signed webhook confirms the
// order or credits the wallet, exactly once.
import { beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createVendor, jollofWithChicken, placeOrder, walletBalance, type TestVendor } from '../db/fixtures.ts';
import { fakesEnv } from '../fakes/env.ts';
import { failCalls, fakeCalls, releaseCalls } from '../fakes/recorder.ts';
import { createUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { chargeSuccess, invoke, orderRow, paymentRow, paystackCharge, postPaystackWebhook, userClient } from './payments-helpers.ts';

describe.runIf(stackEnv().embedded)('payments with Paystack', () => {
  const fakes = fakesEnv();
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
  });

  async function cardOrder() {
    const customer = await createCustomer();
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: 'paystack' });
    return { customer, order, client: await userClient(customer) };
  }

  it('card order: initialize, signed webhook, order new and paid, vendor notified', async () => {
    const { customer, order, client } = await cardOrder();
    expect(order.status).toBe('awaiting_payment');
    const started = await invoke(client, 'payments', { order_id: order.id });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ provider: 'paystack', amount: Number(order.total), currency: 'NGN' });
    expect(started.body.authorization_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/checkout\//);
    const { reference, access_code } = started.body;

    const [init] = await fakeCalls(fakes.paystackUrl, reference);
    expect(init.path).toBe('/transaction/initialize');
    expect(JSON.parse(init.body)).toMatchObject({ amount: Number(order.total), currency: 'NGN', reference, email: `${customer.phone}@customers.rambini.app` });

    // The same order again: the same live payment, Paystack not called twice.
    const again = await invoke(client, 'payments', { order_id: order.id });
    expect(again.body).toMatchObject({ reference, access_code });
    expect((await fakeCalls(fakes.paystackUrl, reference)).filter((c) => c.path === '/transaction/initialize')).toHaveLength(1);

    // Returning from checkout changes nothing: only the webhook does.
    expect(await orderRow(order.id)).toMatchObject({ status: 'awaiting_payment', payment_status: 'pending' });
    const tx = await paystackCharge(reference);
    const hook = await postPaystackWebhook(chargeSuccess(tx));
    expect(hook.status).toBe(200);
    expect(hook.body).toMatchObject({ outcome: 'confirmed', duplicate: false, order_id: order.id });
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });
    expect((await paymentRow(reference)).status).toBe('succeeded');
    // The webhook was re-verified with Paystack before anything was written.
    expect((await fakeCalls(fakes.paystackUrl, `/transaction/verify/${reference}`))).toHaveLength(1);
    const notices = await serviceSql()`
      select payload from realtime.messages
      where topic = ${`vendor:${vendor.id}:orders`} and event = 'status_changed' and payload ->> 'order_id' = ${order.id}`;
    expect(notices.map((n) => n.payload.new_status)).toEqual(['new']);
  });

  it('answers a double tap (two calls at once) with one payment and one Paystack transaction', async () => {
    const { customer, order, client } = await cardOrder();
    const initializeCalls = async (n: number) => {
      while ((await fakeCalls(fakes.paystackUrl, customer.phone)).length < n) await new Promise((r) => setTimeout(r, 20));
    };
    // The first call's answer from Paystack is held, so the second reaches Paystack with the same reference.
    await failCalls(fakes.paystackUrl, { match: customer.phone, hold: true, times: 1 });
    const first = invoke(client, 'payments', { order_id: order.id });
    await initializeCalls(1);
    const second = invoke(client, 'payments', { order_id: order.id });
    await initializeCalls(2);
    await releaseCalls(fakes.paystackUrl, customer.phone);
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.reference).toBe(b.body.reference);
    expect(a.body.access_code).toBe(b.body.access_code);
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payments where order_id = ${order.id}`;
    expect(n).toBe(1);
  });

  it('refuses a wrong signature with 401 and writes nothing', async () => {
    const { order, client } = await cardOrder();
    const { body } = await invoke(client, 'payments', { order_id: order.id });
    const tx = await paystackCharge(body.reference);
    const forged = await postPaystackWebhook(chargeSuccess(tx), 'sk_test_not_our_key');
    expect(forged.status).toBe(401);
    const tampered = await postPaystackWebhook(chargeSuccess({ ...tx, amount: 1 }), 'sk_test_not_our_key');
    expect(tampered.status).toBe(401);
    expect(await orderRow(order.id)).toMatchObject({ status: 'awaiting_payment', payment_status: 'pending' });
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payment_events where payload -> 'data' ->> 'reference' = ${body.reference}`;
    expect(n).toBe(0);
  });

  it('applies the same webhook delivered 20 times, 10 of them at once, exactly once (wallet top-up)', async () => {
    const user = await createUser();
    const client = await userClient(user);
    const before = await walletBalance(user.id);
    const started = await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 250_000, provider: 'paystack' });
    expect(started.status).toBe(200);
    const event = chargeSuccess(await paystackCharge(started.body.reference));
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => postPaystackWebhook(event)));
    const sequential = [];
    for (let i = 0; i < 10; i++) sequential.push(await postPaystackWebhook(event));
    const all = [...concurrent, ...sequential];
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(all.filter((r) => !r.body.duplicate).map((r) => r.body.outcome)).toEqual(['credited']);
    expect(await walletBalance(user.id)).toBe(before + 250_000);
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.wallet_transactions where payment_id = ${started.body.payment_id}`;
    expect(n).toBe(1);
  });

  it('flags an amount or currency mismatch and leaves the order unpaid', async () => {
    for (const override of [{ amount: 1000 }, { currency: 'USD' }]) {
      const { order, client } = await cardOrder();
      const { body } = await invoke(client, 'payments', { order_id: order.id });
      const hook = await postPaystackWebhook(chargeSuccess(await paystackCharge(body.reference, override)));
      expect(hook.status).toBe(200);
      expect(hook.body.outcome).toBe('flagged');
      expect((await paymentRow(body.reference)).status).toBe('flagged');
      expect(await orderRow(order.id)).toMatchObject({ status: 'awaiting_payment' });
    }
  });

  it('confirms a webhook that arrives before the initialize answer has been stored', async () => {
    const { customer, order, client } = await cardOrder();
    // Paystack creates the transaction at once but its answer is held: the customer pays meanwhile.
    await failCalls(fakes.paystackUrl, { match: customer.phone, hold: true, times: 1 });
    const pending = invoke(client, 'payments', { order_id: order.id });
    let init;
    while (!(init = (await fakeCalls(fakes.paystackUrl, customer.phone))[0])) await new Promise((r) => setTimeout(r, 20));
    const reference = JSON.parse(init.body).reference;
    const hook = await postPaystackWebhook(chargeSuccess(await paystackCharge(reference)));
    expect(hook.body.outcome).toBe('confirmed');
    expect(await releaseCalls(fakes.paystackUrl, customer.phone)).toBe(1);
    const started = await pending;
    expect(started.status).toBe(200);
    expect(started.body.reference).toBe(reference);
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });
    expect((await paymentRow(reference)).status).toBe('succeeded');
  });

  it('answers 5xx while Paystack is down and succeeds on the retry (initialize and webhook)', async () => {
    const { customer, order, client } = await cardOrder();
    await failCalls(fakes.paystackUrl, { match: customer.phone, status: 503, times: 1 });
    const down = await invoke(client, 'payments', { order_id: order.id });
    expect(down.status).toBe(502);
    expect(down.body.code).toBe('payment_provider_error');
    const retry = await invoke(client, 'payments', { order_id: order.id });
    expect(retry.status).toBe(200);
    const { reference } = retry.body;
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payments where order_id = ${order.id}`;
    expect(n).toBe(1);

    const event = chargeSuccess(await paystackCharge(reference));
    await failCalls(fakes.paystackUrl, { match: `/transaction/verify/${reference}`, status: 500, times: 1 });
    const failed = await postPaystackWebhook(event);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(await orderRow(order.id)).toMatchObject({ status: 'awaiting_payment' });
    const redelivered = await postPaystackWebhook(event);
    expect(redelivered.body).toMatchObject({ outcome: 'confirmed', duplicate: false });
  });

  it("answers 404 for an order the caller does not own, and creates no payment", async () => {
    const { order } = await cardOrder();
    const stranger = await userClient(await createUser());
    const res = await invoke(stranger, 'payments', { order_id: order.id });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('order_not_found');
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payments where order_id = ${order.id}`;
    expect(n).toBe(0);
  });

  it('refuses bad requests with 4xx and a code: no user, bad body, top-up out of bounds, wallet order', async () => {
    const env = stackEnv();
    const anon = await fetch(`${env.url}/functions/v1/payments`, { method: 'POST', headers: { authorization: `Bearer ${env.anonKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(anon.status).toBe(401);
    const client = await userClient(await createUser());
    expect((await invoke(client, 'payments', { order_id: 'not-a-uuid' })).body.code).toBe('invalid_request');
    expect((await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 10.5, provider: 'paystack' })).status).toBe(400);
    const small = await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100, provider: 'paystack' });
    expect(small).toMatchObject({ status: 400, body: { code: 'invalid_amount' } });
    const customer = await createCustomer();
    const { fundWallet } = await import('../db/fixtures.ts');
    await fundWallet(customer.id, 1_000_000);
    const walletOrder = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: 'wallet' });
    const res = await invoke(await userClient(customer), 'payments', { order_id: walletOrder.id });
    expect(res.status).toBe(400);
  });

  it('records a refund made on Paystack once: the paid order is cancelled', async () => {
    const { order, client } = await cardOrder();
    const { body } = await invoke(client, 'payments', { order_id: order.id });
    await postPaystackWebhook(chargeSuccess(await paystackCharge(body.reference)));
    const refund = {
      event: 'refund.processed',
      data: { id: String(Date.now()), status: 'processed', transaction_reference: body.reference, refund_reference: null, amount: String(order.total), currency: 'NGN', domain: 'test' },
    };
    const first = await postPaystackWebhook(refund);
    expect(first).toMatchObject({ status: 200, body: { outcome: 'refunded', duplicate: false } });
    expect((await postPaystackWebhook(refund)).body.duplicate).toBe(true);
    expect((await orderRow(order.id)).status).toBe('cancelled');
    expect((await paymentRow(body.reference)).status).toBe('refunded');
  });

  it('acknowledges events it does not handle', async () => {
    const res = await postPaystackWebhook({ event: 'subscription.create', data: { id: 1 } });
    expect(res).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
  });
});
