// Paystack Transfers API (https://paystack.com/docs/transfers/): the bank list,
// account resolution, transfer recipients and transfers, through the same
// client as payments (secret key as Bearer token, PAYSTACK_BASE_URL).
import { call } from './paystack.ts';
import { HttpError } from './http.ts';

export interface PaystackBank {
  name: string;
  slug: string;
  code: string;
  active: boolean;
  currency: string;
  type: string;
}

export interface PaystackRecipient {
  recipient_code: string;
  name: string;
  details: { account_number: string; account_name: string | null; bank_code: string; bank_name: string };
}

export interface PaystackTransfer {
  id: number;
  reference: string;
  transfer_code: string;
  amount: number;
  currency: string;
  status: string;
  reason?: string | null;
}

/** The HTTP status Paystack answered with, when `err` is its refusal (not an outage). */
export function providerStatus(err: unknown): number | null {
  if (!(err instanceof HttpError) || err.code !== 'payment_provider_error') return null;
  const status = (err.details as { provider_status?: number } | undefined)?.provider_status;
  return typeof status === 'number' ? status : null;
}

export function listBanks(currency = 'NGN') {
  return call<PaystackBank[]>('GET', `/bank?currency=${encodeURIComponent(currency)}&type=nuban&perPage=100`);
}

/** The account holder's name for a bank account; Paystack answers 422 when it cannot resolve it. */
export async function resolveAccount(accountNumber: string, bankCode: string): Promise<{ account_number: string; account_name: string }> {
  try {
    return await call('GET', `/bank/resolve?account_number=${encodeURIComponent(accountNumber)}&bank_code=${encodeURIComponent(bankCode)}`);
  } catch (err) {
    const status = providerStatus(err);
    if (status !== null && status >= 400 && status < 500) {
      throw new HttpError(400, 'account_not_resolved', 'Paystack could not resolve this account number at this bank; check both.');
    }
    throw err;
  }
}

export function createRecipient(input: { name: string; account_number: string; bank_code: string; currency: string }) {
  return call<PaystackRecipient>('POST', '/transferrecipient', { type: 'nuban', ...input });
}

/** Starts a transfer from the balance; `reference` makes a retry the same transfer. */
export function initiateTransfer(input: { amount: number; recipient: string; reference: string; reason: string; currency: string }) {
  return call<PaystackTransfer>('POST', '/transfer', { source: 'balance', ...input });
}

/** The transfer with our reference, or null when Paystack has none. */
export async function verifyTransfer(reference: string): Promise<PaystackTransfer | null> {
  try {
    return await call<PaystackTransfer>('GET', `/transfer/verify/${encodeURIComponent(reference)}`);
  } catch (err) {
    const status = providerStatus(err);
    if (status === 404 || status === 400) return null;
    throw err;
  }
}
