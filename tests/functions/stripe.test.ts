// Card payments with Stripe end to end: PaymentIntents created through
// `payments` (idempotency key = our payment), webhook events verified with
// constructEventAsync and applied once per event id.
import { beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createVendor, jollofWithChicken, placeOrder, walletBalance, type TestVendor } from '../db/fixtures.ts';
import { fakesEnv } from '../fakes/env.ts';
import { fakeCalls } from '../fakes/recorder.ts';
import { createUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { invoke, orderRow, paymentRow, postStripeWebhook, stripeDashboardRefund, stripeEvent, stripeIntent, userClient } from './payments-helpers.ts';

describe.runIf(stackEnv().embedded)('payments with Stripe', () => {
  const fakes = fakesEnv();
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
  });

  /** Stripe marks the PaymentIntent paid: the object that `payment_intent.succeeded` carries. */
  async function succeeded(intentId: string) {
    const intent = await stripeIntent(intentId);
    return stripeEvent('payment_intent.succeeded', { ...intent, status: 'succeeded', amount_received: intent.amount });
  }

  it('wallet top-up: PaymentIntent with our idempotency key, webhook credits once per event id', async () => {
    const user = await createUser();
    const client = await userClient(user);
    const before = await walletBalance(user.id);
    const started = await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 500_000, provider: 'stripe' });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ provider: 'stripe', amount: 500_000, currency: 'NGN' });
    expect(started.body.client_secret).toMatch(/^pi_\w+_secret_\w+$/);
    const [create] = await fakeCalls(fakes.stripeUrl, started.body.reference);
    expect(create.path).toBe('/v1/payment_intents');
    expect(create.headers['idempotency-key']).toBe(started.body.payment_id);
    const form = new URLSearchParams(create.body);
    expect(form.get('amount')).toBe('500000');
    expect(form.get('currency')).toBe('ngn');
    expect(form.get('metadata[reference]')).toBe(started.body.reference);

    const event = await succeeded(started.body.payment_intent_id);
    const first = await postStripeWebhook(event);
    expect(first).toMatchObject({ status: 200, body: { outcome: 'credited', duplicate: false } });
    const replays = await Promise.all(Array.from({ length: 5 }, () => postStripeWebhook(event)));
    expect(replays.every((r) => r.status === 200 && r.body.duplicate === true)).toBe(true);
    expect(await walletBalance(user.id)).toBe(before + 500_000);
  });

  it('refuses a wrong or stale Stripe-Signature with 401 and writes nothing', async () => {
    const client = await userClient(await createUser());
    const { body } = await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 300_000, provider: 'stripe' });
    const event = await succeeded(body.payment_intent_id);
    const forged = await postStripeWebhook(event, 'whsec_not_ours');
    expect(forged.status).toBe(401);
    const raw = JSON.stringify(event);
    const { stripeSignature } = await import('../fakes/stripe.ts');
    const stale = await fetch(`${stackEnv().url}/functions/v1/stripe-webhook`, {
      method: 'POST',
      headers: { 'stripe-signature': stripeSignature(raw, fakes.secrets.STRIPE_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600) },
      body: raw,
    });
    expect(stale.status).toBe(401);
    expect((await paymentRow(body.reference)).status).toBe('pending');
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payment_events where provider_event_id = ${event.id}`;
    expect(n).toBe(0);
  });

  it('card order: a failed attempt keeps the order payable, a new payment succeeds, a full refund cancels it', async () => {
    const customer = await createCustomer();
    const client = await userClient(customer);
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: 'stripe' });
    const first = await invoke(client, 'payments', { order_id: order.id });
    expect(first.status).toBe(200);
    const intent = await stripeIntent(first.body.payment_intent_id);
    const failed = await postStripeWebhook(stripeEvent('payment_intent.payment_failed', { ...intent, status: 'requires_payment_method', last_payment_error: { message: 'Your card was declined.' } }));
    expect(failed.body.outcome).toBe('failed');
    expect(await orderRow(order.id)).toMatchObject({ status: 'awaiting_payment', payment_status: 'failed' });

    const second = await invoke(client, 'payments', { order_id: order.id });
    expect(second.status).toBe(200);
    expect(second.body.payment_id).not.toBe(first.body.payment_id);
    const paid = await postStripeWebhook(await succeeded(second.body.payment_intent_id));
    expect(paid.body.outcome).toBe('confirmed');
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });

    // Refunded from the Stripe dashboard: the refund and the charge carry no metadata, the PaymentIntent does.
    const total = Number(order.total);
    const dashboard = await stripeDashboardRefund(second.body.payment_intent_id, total);
    const refund = stripeEvent('charge.refunded', {
      id: dashboard.charge, object: 'charge', amount: total, amount_refunded: total, refunded: true,
      currency: 'ngn', payment_intent: second.body.payment_intent_id, metadata: {},
    }, { amount_refunded: 0, refunded: false });
    const refunded = await postStripeWebhook(refund);
    expect(refunded).toMatchObject({ status: 200, body: { outcome: 'refunded' } });
    expect((await orderRow(order.id)).status).toBe('cancelled');
    expect((await paymentRow(second.body.reference)).status).toBe('refunded');
    // The same refund in refund.updated moves no money again.
    const updated = await postStripeWebhook(stripeEvent('refund.updated', dashboard));
    expect(updated).toMatchObject({ status: 200, body: { outcome: 'unchanged' } });
    expect(await walletBalance(customer.id)).toBe(0);
  });

  it('is safe against events out of order: a late payment_failed after success changes nothing', async () => {
    const customer = await createCustomer();
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: 'stripe' });
    const { body } = await invoke(await userClient(customer), 'payments', { order_id: order.id });
    const intent = await stripeIntent(body.payment_intent_id);
    expect((await postStripeWebhook(await succeeded(body.payment_intent_id))).body.outcome).toBe('confirmed');
    const late = await postStripeWebhook(stripeEvent('payment_intent.payment_failed', { ...intent, status: 'requires_payment_method', last_payment_error: { message: 'declined' } }));
    expect(late).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });
    expect((await paymentRow(body.reference)).status).toBe('succeeded');
  });

  it('flags a PaymentIntent whose amount does not match, and acknowledges unrelated events', async () => {
    const customer = await createCustomer();
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: 'stripe' });
    const { body } = await invoke(await userClient(customer), 'payments', { order_id: order.id });
    const intent = await stripeIntent(body.payment_intent_id);
    const res = await postStripeWebhook(stripeEvent('payment_intent.succeeded', { ...intent, status: 'succeeded', amount_received: intent.amount - 1 }));
    expect(res.body.outcome).toBe('flagged');
    expect(await orderRow(order.id)).toMatchObject({ status: 'awaiting_payment' });
    const other = await postStripeWebhook(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }));
    expect(other).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
  });
});
