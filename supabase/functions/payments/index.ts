// Starts a card payment for the caller: an order of theirs awaiting payment, or
// a wallet top-up. The amount always comes from the database (begin_payment);
// a second call for the same order returns the same live payment and never
// charges twice. Only a verified webhook changes the payment's state.
import type postgres from 'postgres';
import { callerOf } from '../_shared/caller.ts';
import { asServiceRole, type Payment } from '../_shared/db.ts';
import { envOr } from '../_shared/env.ts';
import { HttpError, json, readJson, serve } from '../_shared/http.ts';
import { initializeTransaction } from '../_shared/paystack.ts';
import { PaymentRequest } from '../_shared/schemas.ts';
import { stripe } from '../_shared/stripe.ts';
import type { Caller } from '../_shared/caller.ts';

/** The order's payment method, read as the caller (RLS), as the client itself could read it. */
async function orderPaymentMethod(tx: postgres.Sql, caller: Caller, orderId: string): Promise<string> {
  await tx`select set_config('role', 'authenticated', true),
                  set_config('request.jwt.claims', ${JSON.stringify({ sub: caller.userId, role: 'authenticated' })}, true)`;
  const [order] = await tx`select payment_method from public.orders where id = ${orderId}`;
  await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '', true)`;
  if (!order) throw new HttpError(404, 'order_not_found', 'This order does not exist.');
  return order.payment_method;
}

async function beginPayment(caller: Caller, request: PaymentRequest): Promise<Payment> {
  return asServiceRole(async (tx) => {
    const provider = 'order_id' in request ? await orderPaymentMethod(tx, caller, request.order_id) : request.provider;
    if (provider !== 'paystack' && provider !== 'stripe') {
      throw new HttpError(400, 'payment_method_mismatch', `This order is paid with ${provider}, not by card.`);
    }
    const [payment] = await tx<Payment[]>`
      select * from public.begin_payment(
        p_user_id => ${caller.userId}::uuid, p_provider => ${provider},
        p_order_id => ${'order_id' in request ? request.order_id : null}::uuid,
        p_topup_amount => ${'amount' in request ? request.amount : null}::bigint)`;
    return payment;
  });
}

async function saveProviderData(paymentId: string, providerPaymentId: string | null, data: Record<string, string>): Promise<void> {
  await asServiceRole((tx) => tx`select public.set_payment_provider_data(${paymentId}::uuid, ${providerPaymentId}, ${tx.json(data)})`);
}

function answer(p: Payment, data: Record<string, string>) {
  const common = { payment_id: p.id, provider: p.provider, reference: p.reference, amount: p.amount, currency: p.currency, status: p.status };
  return p.provider === 'paystack'
    ? { ...common, authorization_url: data.authorization_url, access_code: data.access_code }
    : { ...common, client_secret: data.client_secret, payment_intent_id: data.payment_intent_id };
}

const clientData = (p: Payment) => {
  const data = (p.provider_data ?? {}) as Record<string, string>;
  return data.authorization_url || data.client_secret ? data : null;
};

/**
 * Another call for the same payment initialized it at Paystack first (a double
 * tap): its answer is stored in a moment, and is the one to return.
 */
async function initializedElsewhere(caller: Caller, request: PaymentRequest): Promise<Response> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const payment = await beginPayment(caller, request);
    const data = clientData(payment);
    if (data) return json(answer(payment, data));
  }
  throw new HttpError(409, 'payment_in_progress', 'This payment is being started; try again in a moment.');
}

serve('payments', async (req) => {
  const caller = await callerOf(req);
  const request = await readJson(req, PaymentRequest);
  // Committed before the provider is called: the webhook may arrive before we answer.
  const payment = await beginPayment(caller, request);
  const stored = clientData(payment);
  if (stored) return json(answer(payment, stored));

  const metadata = { payment_id: payment.id, reference: payment.reference, purpose: payment.purpose, ...(payment.order_id ? { order_id: payment.order_id } : {}) };
  if (payment.provider === 'paystack') {
    const tx = await initializeTransaction({
      // Paystack needs an email; phone-only customers get a stable placeholder.
      email: caller.email ?? `${caller.phone ?? caller.userId}@${envOr('PAYSTACK_PLACEHOLDER_EMAIL_DOMAIN', 'customers.rambini.app')}`,
      amount: payment.amount,
      currency: payment.currency,
      reference: payment.reference,
      callback_url: Deno.env.get('PAYSTACK_CALLBACK_URL') || undefined,
      metadata,
    }).catch((err) => {
      if (err instanceof HttpError && err.code === 'duplicate_reference') return null;
      throw err;
    });
    if (!tx) return initializedElsewhere(caller, request);
    const data = { authorization_url: tx.authorization_url, access_code: tx.access_code };
    await saveProviderData(payment.id, null, data);
    return json(answer(payment, data));
  }

  let intent;
  try {
    intent = await stripe().paymentIntents.create(
      { amount: payment.amount, currency: payment.currency.toLowerCase(), metadata, automatic_payment_methods: { enabled: true } },
      // A retry after a lost answer gets the same PaymentIntent, never a second one.
      { idempotencyKey: payment.id },
    );
  } catch (err) {
    throw new HttpError(502, 'payment_provider_unavailable', `Stripe refused or could not be reached: ${(err as Error).message}`);
  }
  const data = { client_secret: intent.client_secret ?? '', payment_intent_id: intent.id };
  await saveProviderData(payment.id, intent.id, data);
  return json(answer(payment, data));
});
