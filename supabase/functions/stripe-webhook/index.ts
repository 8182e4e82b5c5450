// Stripe webhook: `constructEventAsync` checks the Stripe-Signature over the raw
// body (SubtleCrypto, as Deno requires), then each event is applied once by its
// event id: succeeded → confirm_payment, payment_failed → record_payment_failure
// (the order stays payable until it expires). Refunds are applied once per
// Stripe refund id through record_provider_refund, from `refund.created`,
// `refund.updated`, `refund.failed` (the refund itself) and `charge.refunded`
// (each refund of the charge, listed from Stripe), so the same refund seen in
// several events moves money once.
import type Stripe from 'stripe';
import { asServiceRole } from '../_shared/db.ts';
import { requireEnv } from '../_shared/env.ts';
import { errorJson, json, readText, serve } from '../_shared/http.ts';
import { applyProviderRefund, stripeRefundStatus } from '../_shared/refunds.ts';
import { cryptoProvider, stripe } from '../_shared/stripe.ts';

async function apply(sqlCall: 'confirm' | 'fail', event: Stripe.Event, args: { reference: string; amount?: number; currency?: string; intentId?: string; reason?: string }) {
  const payload = JSON.parse(JSON.stringify(event));
  const [{ result }] = await asServiceRole((sql) => {
    if (sqlCall === 'confirm') {
      return sql`select public.confirm_payment(
        p_provider => 'stripe', p_provider_event_id => ${event.id}, p_reference => ${args.reference},
        p_amount => ${args.amount!}::bigint, p_currency => ${args.currency!}, p_provider_payment_id => ${args.intentId ?? null},
        p_payload => ${sql.json(payload)}) as result`;
    }
    return sql`select public.record_payment_failure(
      p_provider => 'stripe', p_provider_event_id => ${event.id}, p_reference => ${args.reference},
      p_reason => ${args.reason ?? null}, p_payload => ${sql.json(payload)}) as result`;
  });
  return json({ received: true, ...result });
}

const idOf = (x: string | { id: string } | null | undefined) => (typeof x === 'string' ? x : x?.id);

/** Our payment reference for a refund: its metadata (ours), else the PaymentIntent's. */
async function referenceOf(refund: Stripe.Refund): Promise<string | undefined> {
  if (refund.metadata?.reference) return refund.metadata.reference;
  const intentId = idOf(refund.payment_intent);
  // PaymentIntent metadata is not copied onto charges or refunds: ask Stripe for it.
  return intentId ? (await stripe().paymentIntents.retrieve(intentId)).metadata?.reference : undefined;
}

async function applyRefund(event: Stripe.Event, refund: Stripe.Refund): Promise<Record<string, unknown> | null> {
  const reference = await referenceOf(refund);
  if (!reference) return null;
  return applyProviderRefund({
    provider: 'stripe', eventId: `${event.id}:${refund.id}`, reference, providerRefundId: refund.id, amount: refund.amount,
    currency: refund.currency, status: stripeRefundStatus(refund.status), ourRefundId: refund.metadata?.refund_id ?? null,
    reason: refund.failure_reason ?? refund.reason ?? null,
  }, event);
}

serve('stripe-webhook', async (req) => {
  const raw = await readText(req);
  let event: Stripe.Event;
  try {
    event = await stripe().webhooks.constructEventAsync(raw, req.headers.get('stripe-signature') ?? '', requireEnv('STRIPE_WEBHOOK_SECRET'), undefined, cryptoProvider);
  } catch (err) {
    return errorJson(401, 'invalid_signature', `The Stripe-Signature header does not verify: ${(err as Error).message}`);
  }

  switch (event.type) {
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const reference = intent.metadata?.reference;
      if (!reference) break;
      return event.type === 'payment_intent.succeeded'
        ? apply('confirm', event, { reference, amount: intent.amount_received || intent.amount, currency: intent.currency, intentId: intent.id })
        : apply('fail', event, { reference, reason: intent.last_payment_error?.message ?? 'payment failed' });
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed': {
      const result = await applyRefund(event, event.data.object);
      if (result) return json({ received: true, ...result });
      break;
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const refunds = await stripe().refunds.list({ charge: charge.id, limit: 100 });
      const results = [];
      for (const refund of refunds.data) {
        const result = await applyRefund(event, refund);
        if (result) results.push(result);
      }
      if (results.length) return json({ received: true, ...results[results.length - 1], refunds: results });
      break;
    }
  }
  return json({ received: true, outcome: 'ignored', event: event.type });
});
