// What the payment tests share: a signed-in customer's supabase-js client (the
// same door the mobile app uses), and webhooks signed as Paystack and Stripe sign them.
import { FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { fakesEnv } from '../fakes/env.ts';
import { paystackSignature } from '../fakes/paystack.ts';
import { stripeSignature } from '../fakes/stripe.ts';
import { stackEnv } from '../helpers/env.ts';
import { serviceSql } from '../helpers/db.ts';
import { testClient, userAccessToken } from '../helpers/supabase.ts';

/** A client acting as the user, with an access token as Auth issues them. */
export async function userClient(user: { id: string; phone: string }): Promise<SupabaseClient> {
  const token = await userAccessToken(user.id, { phone: user.phone });
  return testClient({ accessToken: async () => token });
}

export interface Invoked {
  status: number;
  body: Record<string, any>;
}

/** functions.invoke, with the error answer's status and JSON body when it fails. */
export async function invoke(client: SupabaseClient, name: string, body: unknown): Promise<Invoked> {
  const { data, error } = await client.functions.invoke(name, { body: body as Record<string, unknown> });
  if (!error) return { status: 200, body: data };
  if (error instanceof FunctionsHttpError) {
    const res = error.context as Response;
    return { status: res.status, body: await res.json() };
  }
  throw error;
}

export async function postPaystackWebhook(event: unknown, signWith = fakesEnv().secrets.PAYSTACK_SECRET_KEY): Promise<Invoked> {
  const raw = JSON.stringify(event);
  const res = await fetch(`${stackEnv().url}/functions/v1/paystack-webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(raw, signWith) },
    body: raw,
  });
  return { status: res.status, body: await res.json() };
}

export async function postStripeWebhook(event: unknown, signWith = fakesEnv().secrets.STRIPE_WEBHOOK_SECRET): Promise<Invoked> {
  const raw = JSON.stringify(event);
  const res = await fetch(`${stackEnv().url}/functions/v1/stripe-webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(raw, signWith) },
    body: raw,
  });
  return { status: res.status, body: await res.json() };
}

/** The customer pays on Paystack's page (optionally another amount or currency than initialized). */
export async function paystackCharge(reference: string, override: { amount?: number; currency?: string } = {}): Promise<Record<string, any>> {
  const res = await fetch(`${fakesEnv().paystackUrl}/__fake/paystack/charge`, { method: 'POST', body: JSON.stringify({ reference, ...override }) });
  if (!res.ok) throw new Error(`fake Paystack has no transaction ${reference}`);
  return res.json();
}

/** The `charge.success` event Paystack sends for a paid transaction. */
export function chargeSuccess(tx: Record<string, any>) {
  return { event: 'charge.success', data: tx };
}

/** A Stripe event around an object, as Stripe delivers it. */
export function stripeEvent(type: string, object: Record<string, unknown>, previous?: Record<string, unknown>) {
  return {
    id: `evt_${crypto.randomUUID().replace(/-/g, '')}`, object: 'event', api_version: '2025-01-27', created: Math.floor(Date.now() / 1000),
    type, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null },
    data: { object, ...(previous ? { previous_attributes: previous } : {}) },
  };
}

export async function stripeIntent(id: string): Promise<Record<string, any>> {
  const res = await fetch(`${fakesEnv().stripeUrl}/v1/payment_intents/${id}`, { headers: { authorization: `Bearer ${fakesEnv().secrets.STRIPE_SECRET_KEY}` } });
  return res.json();
}

/** A refund made on the Stripe dashboard (no metadata of ours), as Stripe's API records it. */
export async function stripeDashboardRefund(intentId: string, amount: number): Promise<Record<string, any>> {
  const res = await fetch(`${fakesEnv().stripeUrl}/v1/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fakesEnv().secrets.STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_intent: intentId, amount: String(amount) }),
  });
  if (!res.ok) throw new Error(`fake Stripe refused the refund: ${await res.text()}`);
  return res.json();
}

/** Calls a platform-only function (refunds, ...) with the service_role key, as pg_net and cron do. */
export async function invokeAsPlatform(name: string, body: unknown, key = stackEnv().serviceRoleKey): Promise<Invoked> {
  const res = await fetch(`${stackEnv().url}/functions/v1/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, apikey: key },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export async function orderRow(orderId: string) {
  const [o] = await serviceSql()`select status, payment_status from public.orders where id = ${orderId}`;
  return o;
}

export async function paymentRow(reference: string) {
  const [p] = await serviceSql()`select * from public.payments where reference = ${reference}`;
  return p;
}
