// Refunds at the providers: applying their refund events (webhooks) through
// record_provider_refund, and asking their Refund APIs to return a card
// payment (the `refunds` function). The rules (cap, claw-back, settlement) are
// all in SQL; this module only translates provider shapes.
import { asServiceRole } from './db.ts';
import { call as paystackCall } from './paystack.ts';
import { stripe } from './stripe.ts';

export type RefundStatus = 'pending' | 'processed' | 'failed';

export interface ProviderRefund {
  provider: 'paystack' | 'stripe';
  eventId: string;
  /** Our payment reference. */
  reference: string;
  providerRefundId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  /** Our refund id, when the provider echoes it back (metadata). */
  ourRefundId?: string | null;
  reason?: string | null;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Our refund id inside a note or metadata value we sent, if any. */
export function ourRefundIdIn(value: unknown): string | null {
  return typeof value === 'string' ? (value.match(UUID)?.[0] ?? null) : null;
}

export async function applyProviderRefund(r: ProviderRefund, payload: unknown): Promise<Record<string, unknown>> {
  const [{ result }] = await asServiceRole((sql) => sql`
    select public.record_provider_refund(
      p_provider => ${r.provider}, p_provider_event_id => ${r.eventId}, p_reference => ${r.reference},
      p_provider_refund_id => ${r.providerRefundId}, p_amount => ${r.amount}::bigint, p_currency => ${r.currency},
      p_status => ${r.status}, p_refund_id => ${r.ourRefundId ?? null}::uuid, p_reason => ${r.reason ?? null},
      p_payload => ${sql.json(JSON.parse(JSON.stringify(payload ?? null)))}) as result`);
  return result;
}

/** Paystack refund statuses (pending, processing, processed, failed, needs-attention) in ours. */
export function paystackRefundStatus(status: string | undefined): RefundStatus {
  if (status === 'processed') return 'processed';
  if (status === 'failed') return 'failed';
  return 'pending';
}

/** Stripe refund statuses (pending, requires_action, succeeded, failed, canceled) in ours. */
export function stripeRefundStatus(status: string | null | undefined): RefundStatus {
  if (status === 'succeeded') return 'processed';
  if (status === 'failed' || status === 'canceled') return 'failed';
  return 'pending';
}

export interface CardRefund {
  refund_id: string;
  provider: 'paystack' | 'stripe';
  payment_reference: string;
  provider_payment_id: string | null;
  amount: number;
  currency: string;
  attempts: number;
  reason: string;
}

export interface RefundAnswer {
  providerRefundId: string | null;
  status: RefundStatus;
  failure?: string;
}

interface PaystackRefund {
  id: number;
  status: string;
  amount: number;
  merchant_note?: string | null;
}

/**
 * Asks Paystack to refund. Paystack's Refund API takes no idempotency key, so a
 * retry first looks for a refund of ours already made on the transaction
 * (merchant_note carries our refund id).
 */
async function refundAtPaystack(r: CardRefund): Promise<RefundAnswer> {
  const note = `Rambini refund ${r.refund_id}`;
  if (r.attempts > 1 && r.provider_payment_id) {
    const earlier = await paystackCall<PaystackRefund[]>('GET', `/refund?transaction=${encodeURIComponent(r.provider_payment_id)}`);
    const mine = earlier.find((x) => ourRefundIdIn(x.merchant_note) === r.refund_id);
    if (mine) return { providerRefundId: String(mine.id), status: paystackRefundStatus(mine.status) };
  }
  const made = await paystackCall<PaystackRefund>('POST', '/refund', {
    transaction: r.payment_reference, amount: r.amount, currency: r.currency, merchant_note: note, customer_note: r.reason,
  });
  return { providerRefundId: String(made.id), status: paystackRefundStatus(made.status) };
}

/** Asks Stripe to refund; our refund id is Stripe's idempotency key, so retries never refund twice. */
async function refundAtStripe(r: CardRefund): Promise<RefundAnswer> {
  if (!r.provider_payment_id) return { providerRefundId: null, status: 'failed', failure: 'no PaymentIntent recorded for this payment' };
  const made = await stripe().refunds.create(
    { payment_intent: r.provider_payment_id, amount: r.amount, metadata: { refund_id: r.refund_id, reference: r.payment_reference } },
    { idempotencyKey: `refund:${r.refund_id}` },
  );
  // An answer that names no refund proves nothing was made: the refund stays pending, to be asked again.
  if (typeof made.id !== 'string' || !made.id) throw new Error('Stripe answered the refund without a refund id');
  return { providerRefundId: made.id, status: stripeRefundStatus(made.status), failure: made.failure_reason ?? undefined };
}

export function refundAtProvider(r: CardRefund): Promise<RefundAnswer> {
  return r.provider === 'paystack' ? refundAtPaystack(r) : refundAtStripe(r);
}
