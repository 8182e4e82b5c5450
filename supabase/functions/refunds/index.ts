// Sends our pending card refunds to the provider's Refund API. Called by the
// platform only (service_role): `{refund_id}` right after the commit that
// issued a refund, `{}` by the retry sweep. Each run claims due refunds with
// `for update skip locked` (claim_card_refunds), so concurrent runs never send
// one twice; Stripe gets our refund id as idempotency key, Paystack is asked
// for an earlier refund of ours before a retry. A provider's definitive "no"
// fails the refund, which re-issues it to the wallet; an unreachable provider
// leaves it for the next attempt (backoff in SQL).
import Stripe from 'stripe';
import { requireServiceRole } from '../_shared/caller.ts';
import { asServiceRole } from '../_shared/db.ts';
import { z } from 'zod';
import { HttpError, json, readJson, serve } from '../_shared/http.ts';
import { refundAtProvider, type CardRefund, type RefundAnswer } from '../_shared/refunds.ts';

/** A refusal that retrying cannot change (the provider answered 4xx). */
function definitive(err: unknown): string | null {
  if (err instanceof HttpError) {
    const status = (err.details as { provider_status?: number } | undefined)?.provider_status;
    return status !== undefined && status >= 400 && status < 500 ? err.message : null;
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeCardError) return err.message;
  return null;
}

const Body = z.object({ refund_id: z.uuid().optional() }).strict();

serve('refunds', async (req) => {
  requireServiceRole(req);
  // {refund_id}: the first attempt of one refund, right after the commit that issued it; {}: the retry sweep.
  const { refund_id: refundId } = await readJson(req, Body);
  const due = await asServiceRole((sql) => sql<CardRefund[]>`select * from public.claim_card_refunds(10, ${refundId ?? null}::uuid)`);
  const results = [];
  for (const refund of due) {
    let answer: RefundAnswer;
    try {
      answer = await refundAtProvider({ ...refund, amount: Number(refund.amount), attempts: Number(refund.attempts) });
    } catch (err) {
      const refusal = definitive(err);
      if (!refusal) {
        console.warn(`refunds: ${refund.refund_id} will be retried: ${(err as Error).message}`);
        results.push({ refund_id: refund.refund_id, status: 'retry' });
        continue;
      }
      answer = { providerRefundId: null, status: 'failed', failure: refusal };
    }
    const [row] = await asServiceRole((sql) => sql`
      select id, status from public.record_card_refund_result(${refund.refund_id}::uuid, ${answer.providerRefundId}, ${answer.status}, ${answer.failure ?? null})`);
    results.push({ refund_id: row.id, status: row.status, provider_refund_id: answer.providerRefundId });
  }
  return json({ refunds: results });
});
