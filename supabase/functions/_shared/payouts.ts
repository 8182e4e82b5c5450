// Vendor payouts with Paystack Transfers: sending claimed payouts (the payouts
// function) and applying transfer webhooks (the paystack-webhook function).
// Every state change is one SQL call (apply_transfer_status), so a send and a
// webhook racing for the same payout apply in some order, each exactly once.
import { asServiceRole, type Tables } from './db.ts';
import { HttpError } from './http.ts';
import { initiateTransfer, providerStatus, verifyTransfer } from './paystack-transfers.ts';

export type Payout = Tables<'payouts'>;

export interface TransferOutcome {
  outcome: string;
  duplicate?: boolean;
  payout_id: string | null;
  payout_status: string | null;
  [key: string]: unknown;
}

function applyStatus(input: {
  reference: string;
  status: string;
  transferCode?: string | null;
  amount?: number | null;
  currency?: string | null;
  reason?: string | null;
  eventId?: string | null;
  payload?: unknown;
}): Promise<TransferOutcome> {
  return asServiceRole(async (sql) => {
    const [{ result }] = await sql`
      select public.apply_transfer_status(
        p_reference => ${input.reference}, p_status => ${input.status}, p_transfer_code => ${input.transferCode ?? null},
        p_amount => ${input.amount ?? null}::bigint, p_currency => ${input.currency ?? null}, p_reason => ${input.reason ?? null},
        p_provider_event_id => ${input.eventId ?? null},
        p_payload => ${input.payload === undefined ? null : sql.json(input.payload as never)}) as result`;
    return result as TransferOutcome;
  });
}

/**
 * Marks the payout (or, for an admin or the platform without one, every due
 * payout) processing; refusals are the caller's 4xx. userId null: the platform.
 */
export function claimPayouts(userId: string | null, payoutId: string | null): Promise<Payout[]> {
  return asServiceRole((sql) => sql<Payout[]>`
    select * from public.claim_payouts(p_user_id => ${userId}::uuid, p_payout_id => ${payoutId}::uuid)`);
}

/**
 * Sends one claimed payout with POST /transfer. Paystack's answer is applied at
 * once (test mode answers success, live mode pending until the webhook). A
 * refusal (400, 422) fails the payout, unless Paystack already has a transfer
 * with our reference (a retry); an outage leaves it processing, to be sent
 * again with the same reference.
 */
export async function sendPayout(p: Payout): Promise<TransferOutcome> {
  try {
    const t = await initiateTransfer({
      amount: p.amount, recipient: p.recipient_code, reference: p.reference, currency: p.currency,
      reason: `Rambini payout ${p.reference}`,
    });
    return await applyStatus({ reference: p.reference, status: t.status, transferCode: t.transfer_code, amount: t.amount, currency: t.currency });
  } catch (err) {
    const status = providerStatus(err);
    if (status === 400 || status === 422) {
      const known = await verifyTransfer(p.reference);
      if (known) {
        return applyStatus({ reference: p.reference, status: known.status, transferCode: known.transfer_code, amount: known.amount, currency: known.currency });
      }
      const message = (err as HttpError).details as { provider_message?: string } | undefined;
      return applyStatus({ reference: p.reference, status: 'failed', reason: `Paystack refused the transfer: ${message?.provider_message ?? 'no reason given'}` });
    }
    const error = err instanceof Error ? err.message : String(err);
    await asServiceRole((sql) => sql`select public.record_payout_send_error(${p.reference}, ${error})`);
    return { outcome: 'retry_later', payout_id: p.id, payout_status: 'processing', error };
  }
}

const TRANSFER_EVENTS: Record<string, string> = { 'transfer.success': 'success', 'transfer.failed': 'failed', 'transfer.reversed': 'reversed' };

export const isTransferEvent = (name: string): boolean => name in TRANSFER_EVENTS;

/**
 * Applies a verified transfer webhook once per event (its name and transfer
 * id). An event for a reference we do not know is recorded and acknowledged,
 * as is one without the fields we need (logged).
 */
export function applyTransferEvent(event: { event: string; data: Record<string, unknown> }, payload: unknown): Promise<TransferOutcome> {
  const d = event.data as { id?: number | string; reference?: string; transfer_code?: string; amount?: number | string; currency?: string; gateway_response?: unknown };
  const amount = Number(d.amount);
  if (d.id === undefined || typeof d.reference !== 'string' || !d.reference || !Number.isSafeInteger(amount)) {
    // Acknowledged so Paystack stops resending it; the payout stays processing and the next send learns its status.
    console.warn(`paystack-webhook: ${event.event} without data.id, data.reference or an integer data.amount; ignored`);
    return Promise.resolve({ outcome: 'ignored', payout_id: null, payout_status: null });
  }
  return applyStatus({
    reference: d.reference, status: TRANSFER_EVENTS[event.event], transferCode: d.transfer_code ?? null, amount,
    currency: d.currency ?? null, reason: typeof d.gateway_response === 'string' ? d.gateway_response : null,
    eventId: `${event.event}:${d.id}`, payload,
  });
}
