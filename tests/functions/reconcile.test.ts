// reconcile-payments: the cron job's command calls the `reconcile` function
// through pg_net (URL and key from Vault), which re-verifies overdue card
// payments with the (fake) providers. A payment the provider took is confirmed
// once, whether the reconcile or a late webhook comes first; unpaid ones fail
// after 30 minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createVendor, jollofWithChicken, placeOrder, type TestVendor } from '../db/fixtures.ts';
import { fakesEnv } from '../fakes/env.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { userAccessToken } from '../helpers/supabase.ts';
import { chargeSuccess, invoke, orderRow, paymentRow, paystackCharge, postPaystackWebhook, postStripeWebhook, stripeEvent, stripeIntent, userClient } from './payments-helpers.ts';

const sql = serviceSql();

async function waitFor<T>(probe: () => Promise<T>, what: string, ms = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The reconcile-payments job's own command, run as its owner; then pg_net's answer from the function. */
async function runReconcileJob(): Promise<{ status_code: number; body: any }> {
  const [{ command }] = await sql`select command from cron.job where jobname = 'reconcile-payments'`;
  const [row] = await sql.unsafe(command);
  const requestId = Object.values(row)[0] as string;
  expect(requestId).not.toBeNull();
  const res = await waitFor(() => sql`select status_code, content, error_msg from net._http_response where id = ${requestId}`.then((r) => r[0]), 'the reconcile answer');
  expect(res.error_msg).toBeNull();
  return { status_code: res.status_code, body: JSON.parse(res.content) };
}

async function callReconcile(token: string) {
  const res = await fetch(`${stackEnv().url}/functions/v1/reconcile`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, apikey: stackEnv().anonKey, 'content-type': 'application/json' },
    body: '{}',
  });
  return { status: res.status, body: await res.json() };
}

const outcomeOf = (body: any, paymentId: string) => body.results.find((r: any) => r.payment_id === paymentId);

async function startedMinutesAgo(reference: string, minutes: number) {
  await sql`update public.payments set created_at = now() - make_interval(secs => ${minutes * 60}) where reference = ${reference}`;
}

async function transitionsToNew(orderId: string) {
  const [{ n }] = await sql`select count(*)::int as n from public.order_events where order_id = ${orderId} and to_status = 'new'`;
  return n;
}

async function stripeSettle(id: string, status = 'succeeded') {
  const res = await fetch(`${fakesEnv().stripeUrl}/__fake/stripe/settle`, { method: 'POST', body: JSON.stringify({ id, status }) });
  return res.json();
}

describe.runIf(stackEnv().embedded)('reconcile-payments', () => {
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
    // The scheduled run is paused while this file runs its command itself, so
    // each outcome asserted here is the one this file's run produced.
    await sql`select cron.alter_job(jobid, active => false) from cron.job where jobname = 'reconcile-payments'`;
  });
  afterAll(async () => {
    await sql`select cron.alter_job(jobid, active => true) from cron.job where jobname = 'reconcile-payments'`;
  });

  async function cardPayment(provider: 'paystack' | 'stripe') {
    const customer = await createCustomer();
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: provider });
    const started = await invoke(await userClient(customer), 'payments', { order_id: order.id });
    expect(started.status).toBe(200);
    return { customer, order, reference: started.body.reference as string, paymentId: started.body.payment_id as string, intentId: started.body.payment_intent_id as string };
  }

  it('the cron job confirms a Paystack payment whose webhook was lost; the late webhook changes nothing', async () => {
    const { order, reference, paymentId } = await cardPayment('paystack');
    const tx = await paystackCharge(reference);
    await startedMinutesAgo(reference, 6);

    const run = await runReconcileJob();
    expect(run.status_code).toBe(200);
    expect(outcomeOf(run.body, paymentId)).toMatchObject({ outcome: 'confirmed', provider_status: 'success' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });
    expect((await paymentRow(reference)).status).toBe('succeeded');

    const late = await postPaystackWebhook(chargeSuccess(tx));
    expect(late.body).toMatchObject({ outcome: 'confirmed', duplicate: true });
    expect(await transitionsToNew(order.id)).toBe(1);
    const [{ n }] = await sql`select count(*)::int as n from public.payment_events where payment_id = ${paymentId}`;
    expect(n).toBe(1);
  });

  it('a reconcile racing the webhook confirms the order exactly once', async () => {
    const { order, reference, paymentId } = await cardPayment('paystack');
    const tx = await paystackCharge(reference);
    await startedMinutesAgo(reference, 6);
    const [reconciled, hook] = await Promise.all([callReconcile(stackEnv().serviceRoleKey), postPaystackWebhook(chargeSuccess(tx))]);
    expect(reconciled.status).toBe(200);
    expect(hook.status).toBe(200);
    const outcomes = [outcomeOf(reconciled.body, paymentId)?.outcome, hook.body.outcome];
    expect(outcomes.filter((o) => o === 'confirmed').length).toBeGreaterThanOrEqual(1);
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });
    expect(await transitionsToNew(order.id)).toBe(1);
    const [{ n }] = await sql`select count(*)::int as n from public.payment_events where payment_id = ${paymentId} and outcome = 'confirmed'`;
    expect(n).toBe(1);
  });

  it('confirms a Stripe PaymentIntent that succeeded; the late webhook is ignored', async () => {
    const { order, reference, paymentId, intentId } = await cardPayment('stripe');
    await stripeSettle(intentId);
    await startedMinutesAgo(reference, 6);
    const run = await callReconcile(stackEnv().serviceRoleKey);
    expect(outcomeOf(run.body, paymentId)).toMatchObject({ outcome: 'confirmed', provider_status: 'succeeded' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });

    const intent = await stripeIntent(intentId);
    const late = await postStripeWebhook(stripeEvent('payment_intent.succeeded', intent));
    expect(late.body).toMatchObject({ outcome: 'ignored' });
    expect(await transitionsToNew(order.id)).toBe(1);
  });

  it('leaves unpaid payments under 30 minutes, fails them after', async () => {
    const paystack = await cardPayment('paystack');
    const stripe = await cardPayment('stripe');
    await startedMinutesAgo(paystack.reference, 10);
    await startedMinutesAgo(stripe.reference, 10);
    const early = await callReconcile(stackEnv().serviceRoleKey);
    expect(outcomeOf(early.body, paystack.paymentId)).toMatchObject({ outcome: 'pending' });
    expect(outcomeOf(early.body, stripe.paymentId)).toMatchObject({ outcome: 'pending', provider_status: 'requires_payment_method' });
    expect((await paymentRow(paystack.reference)).status).toBe('pending');

    await startedMinutesAgo(paystack.reference, 31);
    await startedMinutesAgo(stripe.reference, 31);
    const late = await runReconcileJob();
    expect(outcomeOf(late.body, paystack.paymentId)).toMatchObject({ outcome: 'failed' });
    expect(outcomeOf(late.body, stripe.paymentId)).toMatchObject({ outcome: 'failed' });
    expect(await paymentRow(paystack.reference)).toMatchObject({ status: 'failed' });
    expect((await paymentRow(stripe.reference)).failure_reason).toBe('abandoned: Stripe status requires_payment_method');
    expect((await orderRow(paystack.order.id)).payment_status).toBe('failed');

    // Paid after all: the webhook still applies it (here the order is still awaiting payment).
    const tx = await paystackCharge(paystack.reference);
    expect((await postPaystackWebhook(chargeSuccess(tx))).body).toMatchObject({ outcome: 'confirmed' });
    expect(await orderRow(paystack.order.id)).toMatchObject({ status: 'new', payment_status: 'paid' });
  });

  it('fails a payment Paystack never heard of once it is abandoned, and leaves it before', async () => {
    const customer = await createCustomer();
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', paymentMethod: 'paystack' });
    // begin_payment committed, but the call to Paystack never happened (the function died in between).
    const [p] = await sql`select * from public.begin_payment(${customer.id}::uuid, 'paystack', ${order.id}::uuid)`;
    await startedMinutesAgo(p.reference, 6);
    expect(outcomeOf((await callReconcile(stackEnv().serviceRoleKey)).body, p.id)).toMatchObject({ outcome: 'pending', provider_status: 'not_found' });
    await startedMinutesAgo(p.reference, 40);
    expect(outcomeOf((await callReconcile(stackEnv().serviceRoleKey)).body, p.id)).toMatchObject({ outcome: 'failed', provider_status: 'not_found' });
    expect(await paymentRow(p.reference)).toMatchObject({ status: 'failed', failure_reason: 'abandoned: Paystack status unknown reference' });
  });

  it('fails a Stripe payment whose PaymentIntent was canceled', async () => {
    const { reference, paymentId, intentId } = await cardPayment('stripe');
    await stripeSettle(intentId, 'canceled');
    await startedMinutesAgo(reference, 6);
    const run = await callReconcile(stackEnv().serviceRoleKey);
    expect(outcomeOf(run.body, paymentId)).toMatchObject({ outcome: 'failed', provider_status: 'canceled' });
  });

  it('is refused to users and the anon key; the job calls nothing when no payment is overdue', async () => {
    const user = await createCustomer();
    const asUser = await callReconcile(await userAccessToken(user.id, { phone: user.phone }));
    expect(asUser).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect((await callReconcile(stackEnv().anonKey)).status).toBe(403);
    const bad = await fetch(`${stackEnv().url}/functions/v1/reconcile`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stackEnv().serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 10_000 }),
    });
    expect(bad.status).toBe(400);
    // With every overdue payment settled or moved out of the window, the job sends no request.
    await sql.begin(async (tx) => {
      await tx`update public.payments set created_at = now() where status = 'pending'`;
      const [{ request_payment_reconcile: id }] = await tx`select private.request_payment_reconcile()`;
      expect(id).toBeNull();
      throw new Error('rollback');
    }).catch((err) => {
      if (err.message !== 'rollback') throw err;
    });
  });
});
