// Card refunds end to end: a customer cancels through supabase-js, the
// `refunds` function asks the (fake) provider's Refund API to return the card
// payment, and the provider's signed webhook settles it, once. Refusals go to
// the wallet, outages are retried, only the platform may call the function.
import { beforeAll, describe, expect, it } from 'vitest';
import { books, createCustomer, createVendor, jollofWithChicken, placeOrder, walletBalance, type TestVendor } from '../db/fixtures.ts';
import { fakesEnv } from '../fakes/env.ts';
import { failCalls, fakeCalls } from '../fakes/recorder.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import {
  chargeSuccess, invoke, invokeAsPlatform, paymentRow, paystackCharge, postPaystackWebhook, postStripeWebhook, stripeEvent, stripeIntent, userClient,
} from './payments-helpers.ts';

describe.runIf(stackEnv().embedded)('card refunds through the providers', () => {
  const fakes = fakesEnv();
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
  });

  /** A card order paid through `payments` and the provider's webhook. */
  async function paidOrder(provider: 'paystack' | 'stripe') {
    const customer = await createCustomer();
    const client = await userClient(customer);
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: provider });
    const { body } = await invoke(client, 'payments', { order_id: order.id });
    if (provider === 'paystack') {
      await postPaystackWebhook(chargeSuccess(await paystackCharge(body.reference)));
    } else {
      const intent = await stripeIntent(body.payment_intent_id);
      await postStripeWebhook(stripeEvent('payment_intent.succeeded', { ...intent, status: 'succeeded', amount_received: intent.amount }));
    }
    return { customer, client, order, reference: body.reference as string, total: Number(order.total) };
  }

  async function cardRefund(orderId: string) {
    const [r] = await serviceSql()`select id, status, provider_refund_id, attempts, destination from public.refunds where order_id = ${orderId} and destination = 'card'`;
    return r;
  }

  async function expectBalanced() {
    expect((await books()).balanced).toBe(true);
  }

  /** Waits (bounded) until the order's card refund satisfies `done`: the after-commit call runs in the background. */
  async function until(orderId: string, done: (r: Record<string, any>) => boolean) {
    const deadline = Date.now() + 15_000;
    let r = await cardRefund(orderId);
    while (!done(r) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      r = await cardRefund(orderId);
    }
    return r;
  }

  it('Paystack: cancel through supabase-js, the refund is sent once, and the signed refund.processed webhook settles it', async () => {
    const { customer, client, order, reference, total } = await paidOrder('paystack');
    const { data, error } = await client.rpc('cancel_order', { p_order_id: order.id, p_reason: 'running late' });
    expect(error).toBeNull();
    expect(data).toMatchObject({ status: 'cancelled', payment_status: 'refunded' });
    const pending = await cardRefund(order.id);
    expect(pending).toMatchObject({ status: 'pending' });

    // Four more runs at once besides the after-commit call: still one Refund API call.
    const runs = await Promise.all(Array.from({ length: 4 }, () => invokeAsPlatform('refunds', { refund_id: pending.id })));
    expect(runs.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const sent = await until(order.id, (r) => r.provider_refund_id !== null);
    expect(sent).toMatchObject({ status: 'pending', attempts: 1 });
    expect(sent.provider_refund_id).toMatch(/^\d+$/);
    const calls = (await fakeCalls(fakes.paystackUrl, pending.id)).filter((c) => c.path === '/refund' && c.method === 'POST');
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0].body)).toMatchObject({ transaction: reference, amount: total, currency: 'NGN' });

    const settle = await fetch(`${fakes.paystackUrl}/__fake/paystack/refunds/${sent.provider_refund_id}/settle`, {
      method: 'POST', body: JSON.stringify({ status: 'processed', webhook_url: `${stackEnv().url}/functions/v1/paystack-webhook` }),
    });
    expect(await settle.json()).toMatchObject({ webhook_status: 200, webhook_body: { outcome: 'refund_processed' } });
    expect(await cardRefund(order.id)).toMatchObject({ status: 'processed' });
    expect((await paymentRow(reference))).toMatchObject({ status: 'refunded' });
    expect(Number((await paymentRow(reference)).refunded_amount)).toBe(total);
    expect(await walletBalance(customer.id)).toBe(0);
    await expectBalanced();
  });

  it('Stripe: the refund is created with our id as idempotency key and settles at once; its webhooks change nothing', async () => {
    const { customer, order, reference, total } = await paidOrder('stripe');
    await serviceSql().begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: vendor.owner.id })}, true)`;
      await tx`select public.update_order_status(${order.id}::uuid, 'cancelled', 'out of stock')`;
    });
    // Sent right after the commit, without any call of ours.
    const done = await until(order.id, (r) => r.status !== 'pending');
    expect(done).toMatchObject({ status: 'processed', attempts: 1 });
    const [call] = (await fakeCalls(fakes.stripeUrl, done.id)).filter((c) => c.path === '/v1/refunds');
    expect(call.headers['idempotency-key']).toBe(`refund:${done.id}`);
    expect(done.provider_refund_id).toMatch(/^re_/);
    // Stripe also announces the refund: refund.updated, and charge.refunded listing it.
    const refundObject = await (await fetch(`${fakes.stripeUrl}/v1/refunds/${done.provider_refund_id}`, { headers: { authorization: `Bearer ${fakes.secrets.STRIPE_SECRET_KEY}` } })).json();
    expect((await postStripeWebhook(stripeEvent('refund.updated', refundObject))).body.outcome).toBe('unchanged');
    const charge = { id: refundObject.charge, object: 'charge', amount: total, amount_refunded: total, refunded: true, currency: 'ngn', payment_intent: refundObject.payment_intent, metadata: {} };
    expect((await postStripeWebhook(stripeEvent('charge.refunded', charge, { amount_refunded: 0 }))).body.outcome).toBe('unchanged');
    expect(Number((await paymentRow(reference)).refunded_amount)).toBe(total);
    expect(await walletBalance(customer.id)).toBe(0);
    await expectBalanced();
  });

  it('a provider that refuses the refund: the customer gets it in the wallet at once', async () => {
    const { customer, client, order, reference, total } = await paidOrder('paystack');
    await failCalls(fakes.paystackUrl, { match: reference, status: 400, times: 1, body: { status: false, message: 'Transaction has been fully reversed' } });
    await client.rpc('cancel_order', { p_order_id: order.id });
    expect(await until(order.id, (r) => r.status !== 'pending')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await walletBalance(customer.id)).toBe(total);
    expect(Number((await paymentRow(reference)).refunded_amount)).toBe(0);
    await expectBalanced();
  });

  it('a provider that is down: the refund stays pending and is retried later, asking first whether it was made', async () => {
    const { client, order, reference } = await paidOrder('paystack');
    await failCalls(fakes.paystackUrl, { match: reference, status: 503, times: 1 });
    await client.rpc('cancel_order', { p_order_id: order.id });
    const pending = await until(order.id, (r) => r.attempts >= 1);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, provider_refund_id: null });
    // Not due yet: another call does nothing.
    expect((await invokeAsPlatform('refunds', { refund_id: pending.id })).body.refunds).toEqual([]);
    await serviceSql()`update public.refunds set next_attempt_at = now() where id = ${pending.id}`;
    await invokeAsPlatform('refunds', { refund_id: pending.id });
    const retried = await until(order.id, (r) => r.provider_refund_id !== null);
    expect(retried).toMatchObject({ status: 'pending', attempts: 2 });
    expect(retried.provider_refund_id).toMatch(/^\d+$/);
    const [p] = await serviceSql()`select provider_payment_id from public.payments where order_id = ${order.id}`;
    expect(await fakeCalls(fakes.paystackUrl, `/refund?transaction=${p.provider_payment_id}`)).toHaveLength(1);
  });

  it('only the platform may call it', async () => {
    const { client } = await paidOrder('paystack');
    expect((await invoke(client, 'refunds', {})).status).toBe(403);
    expect((await invokeAsPlatform('refunds', {}, stackEnv().anonKey)).status).toBe(403);
    expect((await invokeAsPlatform('refunds', { refund_id: 'not-a-uuid' })).status).toBe(400);
    expect((await invokeAsPlatform('refunds', { refund_id: crypto.randomUUID(), extra: 1 })).status).toBe(400);
  });
});
