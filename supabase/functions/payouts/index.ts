// Vendor payouts (JWT required). Vendor owners list banks, resolve and save the
// account they are paid to (Paystack resolves the holder's name and registers a
// transfer recipient; the secret key stays here), and send a payout they
// requested with request_payout; admins send any queued payout, or all of them,
// as does the platform with the service_role key (pg_net right after the
// commit that queued a payout, and the send-payouts job).
import { callerOf, isServiceRole, type Caller } from '../_shared/caller.ts';
import { asServiceRole, type Tables } from '../_shared/db.ts';
import { errorJson, HttpError, json, readJson, serve } from '../_shared/http.ts';
import { createRecipient, listBanks, resolveAccount } from '../_shared/paystack-transfers.ts';
import { claimPayouts, sendPayout } from '../_shared/payouts.ts';
import { PayoutRequest } from '../_shared/schemas.ts';

/** Account look-ups reveal a holder's name: only owners of active vendors may make them (as save_payout_account rules). */
async function requireVendorOwner(caller: Caller): Promise<void> {
  const [vendor] = await asServiceRole((sql) => sql`select status from public.vendors where owner_id = ${caller.userId}::uuid`);
  if (!vendor) throw new HttpError(403, 'not_a_vendor', 'Only a vendor owner has a payout account.');
  if (vendor.status !== 'active') throw new HttpError(403, 'vendor_not_active', 'Only an active vendor can add a payout account.');
}

/** Sends one payout, or every due one (admins, the platform: userId null). */
async function send(userId: string | null, payoutId: string | null): Promise<Response> {
  const claimed = await claimPayouts(userId, payoutId);
  const results = [];
  // One at a time: Paystack rate-limits transfers, and each answer is applied before the next.
  for (const payout of claimed) results.push(await sendPayout(payout));
  if (!payoutId) return json({ results });
  const [result] = results;
  if (result.outcome === 'retry_later') {
    return errorJson(502, 'payout_send_pending', 'Paystack could not be reached; the payout stays processing and is sent again later.', result);
  }
  return json(result);
}

serve('payouts', async (req) => {
  const request = await readJson(req, PayoutRequest);
  // The platform (service_role key) only sends; everything else is a user's.
  if (request.action === 'send' && isServiceRole(req)) return send(null, request.payout_id ?? null);
  const caller = await callerOf(req);
  switch (request.action) {
    case 'send':
      return send(caller.userId, request.payout_id ?? null);
    case 'list_banks': {
      const banks = await listBanks();
      return json({ banks: banks.filter((b) => b.active).map(({ name, code, slug }) => ({ name, code, slug })) });
    }
    case 'resolve_account': {
      await requireVendorOwner(caller);
      const resolved = await resolveAccount(request.account_number, request.bank_code);
      return json({ bank_code: request.bank_code, account_number: resolved.account_number, account_name: resolved.account_name });
    }
    case 'save_account': {
      await requireVendorOwner(caller);
      const resolved = await resolveAccount(request.account_number, request.bank_code);
      const recipient = await createRecipient({
        name: resolved.account_name, account_number: request.account_number, bank_code: request.bank_code, currency: 'NGN',
      });
      const [account] = await asServiceRole((sql) => sql<Tables<'payout_accounts'>[]>`
        select * from public.save_payout_account(
          p_user_id => ${caller.userId}::uuid, p_bank_code => ${request.bank_code}, p_bank_name => ${recipient.details.bank_name},
          p_account_number => ${request.account_number}, p_account_name => ${resolved.account_name},
          p_recipient_code => ${recipient.recipient_code})`);
      return json(account);
    }
  }
});
