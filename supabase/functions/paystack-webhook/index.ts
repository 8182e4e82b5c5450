// Paystack webhook: the signature (HMAC-SHA512 of the raw body) is checked
// first; a charge is re-verified with Paystack before confirm_payment applies it
// once per transaction; refund events (pending, processed, failed) go to
// record_provider_refund, once per Paystack refund. Any failure answers 5xx so
// Paystack retries; each SQL call is one transaction, so nothing is half-written.
import { asServiceRole } from '../_shared/db.ts';
import { requireEnv } from '../_shared/env.ts';
import { errorJson, json, readText, serve } from '../_shared/http.ts';
import { verifyTransaction } from '../_shared/paystack.ts';
import { applyTransferEvent, isTransferEvent } from '../_shared/payouts.ts';
import { applyProviderRefund, ourRefundIdIn, paystackRefundStatus } from '../_shared/refunds.ts';
import { PaystackEvent } from '../_shared/schemas.ts';
import { verifyPaystackSignature } from '../_shared/signatures.ts';

serve('paystack-webhook', async (req) => {
  const raw = await readText(req);
  if (!(await verifyPaystackSignature(raw, req.headers.get('x-paystack-signature'), requireEnv('PAYSTACK_SECRET_KEY')))) {
    return errorJson(401, 'invalid_signature', 'The x-paystack-signature header does not match the body');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return errorJson(400, 'invalid_json', 'The webhook body is not JSON');
  }
  const parsed = PaystackEvent.safeParse(body);
  if (!parsed.success) return errorJson(400, 'invalid_event', 'The webhook body is not a Paystack event');
  const event = parsed.data;

  if (event.event === 'charge.success' && event.data.reference) {
    // The webhook says paid; Paystack's own answer to verify decides what was paid.
    const tx = await verifyTransaction(event.data.reference);
    if (tx.status !== 'success') {
      console.warn(`paystack-webhook: ${tx.reference} reported paid but verifies as ${tx.status}; ignored`);
      return json({ received: true, outcome: 'not_verified' });
    }
    const [{ result }] = await asServiceRole((sql) => sql`
      select public.confirm_payment(
        p_provider => 'paystack', p_provider_event_id => ${`charge.success:${tx.id}`}, p_reference => ${tx.reference},
        p_amount => ${tx.amount}::bigint, p_currency => ${tx.currency}, p_provider_payment_id => ${String(tx.id)},
        p_payload => ${sql.json(body as never)}) as result`);
    return json({ received: true, ...result });
  }

  if (event.event.startsWith('refund.')) {
    // Paystack sends refund amounts as strings or numbers (minor units).
    const data = event.data as { id?: number | string; refund_reference?: string | null; transaction_reference?: string; amount?: number | string; currency?: string; merchant_note?: string | null };
    const amount = Number(data.amount);
    const refundId = data.id ?? data.refund_reference;
    if (refundId !== undefined && refundId !== null && data.transaction_reference && Number.isSafeInteger(amount) && data.currency) {
      const status = paystackRefundStatus(event.event.slice('refund.'.length));
      const result = await applyProviderRefund({
        provider: 'paystack', eventId: `${event.event}:${refundId}`, reference: data.transaction_reference, providerRefundId: String(refundId),
        amount, currency: data.currency, status, ourRefundId: ourRefundIdIn(data.merchant_note),
      }, body);
      return json({ received: true, ...result });
    }
  }

  // Vendor payouts (transfer.success, transfer.failed, transfer.reversed).
  if (isTransferEvent(event.event)) return json({ received: true, ...(await applyTransferEvent(event, body)) });

  // Other events are acknowledged so Paystack stops resending them.
  return json({ received: true, outcome: 'ignored', event: event.event });
});
