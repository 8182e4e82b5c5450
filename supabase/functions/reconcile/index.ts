// Reconciles card payments whose webhook never came: the reconcile-payments
// cron job calls this (through pg_net, with the service_role key) when pending
// payments are more than 5 minutes old. Each is verified with its provider
// (Paystack GET /transaction/verify/:reference, Stripe PaymentIntent retrieve):
// a charge the provider took goes through confirm_payment with the event id the
// webhook uses where the provider gives one (Paystack), so a webhook arriving
// later is a replay and changes nothing; payments still unpaid 30 minutes after
// they started fail. A provider that cannot be reached leaves the payment for
// the next run.
import { decodeJwt } from 'jose';
import { asServiceRole } from '../_shared/db.ts';
import { HttpError, json, readJson, serve } from '../_shared/http.ts';
import { verifyTransactionIfKnown } from '../_shared/paystack.ts';
import { ReconcileRequest } from '../_shared/schemas.ts';
import { stripe } from '../_shared/stripe.ts';

const CONCURRENCY = 8;

interface Candidate {
  payment_id: string;
  provider: 'paystack' | 'stripe';
  reference: string;
  provider_payment_id: string | null;
  amount: number;
  currency: string;
  abandoned: boolean;
}

interface Outcome {
  payment_id: string;
  outcome: string;
  provider_status?: string;
  error?: string;
}

/** Only the platform (the service_role key) may run this; the platform has verified the JWT (verify_jwt). */
function requireServiceRole(req: Request): void {
  const token = /^bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  let role: unknown;
  try {
    role = token ? decodeJwt(token).role : undefined;
  } catch {
    role = undefined;
  }
  if (role !== 'service_role') throw new HttpError(403, 'forbidden', 'Only the service role may reconcile payments');
}

async function confirm(p: Candidate, eventId: string, amount: number, currency: string, providerPaymentId: string, payload: unknown) {
  const [{ result }] = await asServiceRole((sql) => sql`
    select public.confirm_payment(
      p_provider => ${p.provider}, p_provider_event_id => ${eventId}, p_reference => ${p.reference},
      p_amount => ${amount}::bigint, p_currency => ${currency}, p_provider_payment_id => ${providerPaymentId},
      p_payload => ${sql.json({ source: 'reconcile', provider: payload } as never)}) as result`);
  return result.outcome as string;
}

async function fail(p: Candidate, eventId: string, reason: string) {
  const [{ result }] = await asServiceRole((sql) => sql`
    select public.record_payment_failure(
      p_provider => ${p.provider}, p_provider_event_id => ${eventId}, p_reference => ${p.reference},
      p_reason => ${reason}, p_payload => ${sql.json({ source: 'reconcile' } as never)}) as result`);
  return result.outcome as string;
}

async function reconcilePaystack(p: Candidate): Promise<Outcome> {
  const tx = await verifyTransactionIfKnown(p.reference);
  if (tx?.status === 'success') {
    // The id the paystack-webhook gives this charge: whichever comes second is a replay.
    const outcome = await confirm(p, `charge.success:${tx.id}`, tx.amount, tx.currency, String(tx.id), tx);
    return { payment_id: p.payment_id, outcome, provider_status: tx.status };
  }
  if (p.abandoned) {
    const outcome = await fail(p, `reconcile:abandoned:${p.payment_id}`, `abandoned: Paystack status ${tx?.status ?? 'unknown reference'}`);
    return { payment_id: p.payment_id, outcome, provider_status: tx?.status ?? 'not_found' };
  }
  return { payment_id: p.payment_id, outcome: 'pending', provider_status: tx?.status ?? 'not_found' };
}

async function reconcileStripe(p: Candidate): Promise<Outcome> {
  if (!p.provider_payment_id) {
    // The PaymentIntent was never created (or its id never stored): nothing to verify.
    if (!p.abandoned) return { payment_id: p.payment_id, outcome: 'pending' };
    const outcome = await fail(p, `reconcile:abandoned:${p.payment_id}`, 'abandoned: no PaymentIntent');
    return { payment_id: p.payment_id, outcome };
  }
  const intent = await stripe().paymentIntents.retrieve(p.provider_payment_id);
  if (intent.metadata?.reference !== p.reference) {
    return { payment_id: p.payment_id, outcome: 'reference_mismatch', provider_status: intent.status };
  }
  if (intent.status === 'succeeded') {
    const outcome = await confirm(p, `reconcile:${intent.id}`, intent.amount_received || intent.amount, intent.currency, intent.id, intent);
    return { payment_id: p.payment_id, outcome, provider_status: intent.status };
  }
  if (intent.status === 'canceled' || (p.abandoned && intent.status !== 'processing')) {
    const outcome = await fail(p, `reconcile:${intent.status}:${intent.id}`, `abandoned: Stripe status ${intent.status}`);
    return { payment_id: p.payment_id, outcome, provider_status: intent.status };
  }
  return { payment_id: p.payment_id, outcome: 'pending', provider_status: intent.status };
}

serve('reconcile', async (req) => {
  requireServiceRole(req);
  const { limit } = await readJson(req, ReconcileRequest);
  const candidates = await asServiceRole((sql) => sql<Candidate[]>`select * from public.payments_to_reconcile(${limit ?? 25})`);
  const results: Outcome[] = [];
  // A few provider calls at a time, so a run of 25 ends inside the request limit (150 s) even when every call times out.
  const queue = [...candidates];
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      try {
        results.push(p.provider === 'paystack' ? await reconcilePaystack(p) : await reconcileStripe(p));
      } catch (err) {
        // Provider down or an unexpected answer: the next run tries again.
        console.warn(`reconcile: payment ${p.payment_id}: ${(err as Error).message}`);
        results.push({ payment_id: p.payment_id, outcome: 'error', error: (err as Error).message });
      }
    }
  }));
  return json({ checked: candidates.length, results });
});
