// Stripe webhook: `constructEventAsync` checks the Stripe-Signature over the raw
// body (SubtleCrypto, as Deno requires), then each event is applied once by its
// event id: succeeded → confirm_payment, payment_failed → record_payment_failure
// (the order stays payable until it expires), charge.refunded → record_refund.
import type Stripe from 'stripe';
import { asServiceRole } from '../_shared/db.ts';
import { requireEnv } from '../_shared/env.ts';
import { errorJson, json, readText, serve } from '../_shared/http.ts';
import { cryptoProvider, stripe } from '../_shared/stripe.ts';

async function apply(sqlCall: 'confirm' | 'fail' | 'refund', event: Stripe.Event, args: { reference: string; amount?: number; currency?: string; intentId?: string; reason?: string }) {
  const payload = JSON.parse(JSON.stringify(event));
  const [{ result }] = await asServiceRole((sql) => {
    if (sqlCall === 'confirm') {
      return sql`select public.confirm_payment(
        p_provider => 'stripe', p_provider_event_id => ${event.id}, p_reference => ${args.reference},
        p_amount => ${args.amount!}::bigint, p_currency => ${args.currency!}, p_provider_payment_id => ${args.intentId ?? null},
        p_payload => ${sql.json(payload)}) as result`;
    }
    if (sqlCall === 'fail') {
      return sql`select public.record_payment_failure(
        p_provider => 'stripe', p_provider_event_id => ${event.id}, p_reference => ${args.reference},
        p_reason => ${args.reason ?? null}, p_payload => ${sql.json(payload)}) as result`;
    }
    return sql`select public.record_refund(
      p_provider => 'stripe', p_provider_event_id => ${event.id}, p_reference => ${args.reference},
      p_amount => ${args.amount!}::bigint, p_currency => ${args.currency!}, p_payload => ${sql.json(payload)}) as result`;
  });
  return json({ received: true, ...result });
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
    case 'charge.refunded': {
      const charge = event.data.object;
      const intentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      // PaymentIntent metadata is not copied onto charges: ask Stripe for it.
      const reference = charge.metadata?.reference || (intentId ? (await stripe().paymentIntents.retrieve(intentId)).metadata?.reference : undefined);
      if (!reference) break;
      // amount_refunded is cumulative; this event's refund is the increase.
      const before = (event.data.previous_attributes as { amount_refunded?: number } | undefined)?.amount_refunded ?? 0;
      return apply('refund', event, { reference, amount: charge.amount_refunded - before, currency: charge.currency });
    }
  }
  return json({ received: true, outcome: 'ignored', event: event.type });
});
