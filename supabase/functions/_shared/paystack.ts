// Paystack API client (https://paystack.com/docs/api/transaction/): the secret
// key as Bearer token, `{ status, message, data }` answers. PAYSTACK_BASE_URL
// selects the server (https://api.paystack.co unless set).
import { envOr, requireEnv } from './env.ts';
import { HttpError } from './http.ts';

export interface PaystackTransaction {
  id: number;
  status: string;
  reference: string;
  amount: number;
  currency: string;
  paid_at: string | null;
}

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${envOr('PAYSTACK_BASE_URL', 'https://api.paystack.co')}${path}`, {
      method,
      headers: { authorization: `Bearer ${requireEnv('PAYSTACK_SECRET_KEY')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new HttpError(502, 'payment_provider_unavailable', `Paystack could not be reached: ${(err as Error).message}`);
  }
  const text = await res.text();
  let parsed: { status?: boolean; message?: string; data?: T } = {};
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON: reported below */ }
  if (res.status === 400 && /duplicate transaction reference/i.test(parsed.message ?? '')) {
    throw new HttpError(409, 'duplicate_reference', 'Paystack already has a transaction with this reference');
  }
  if (!res.ok || parsed.status !== true || parsed.data === undefined) {
    throw new HttpError(502, 'payment_provider_error', `Paystack answered ${res.status}: ${parsed.message ?? text.slice(0, 200)}`,
      { provider_status: res.status, provider_message: parsed.message ?? null });
  }
  return parsed.data;
}

export function initializeTransaction(input: { email: string; amount: number; currency: string; reference: string; callback_url?: string; metadata?: Record<string, unknown> }) {
  return call<{ authorization_url: string; access_code: string; reference: string }>('POST', '/transaction/initialize', input);
}

export function verifyTransaction(reference: string) {
  return call<PaystackTransaction>('GET', `/transaction/verify/${encodeURIComponent(reference)}`);
}

/** verifyTransaction, or null when Paystack has no transaction with this reference (it was never initialized). */
export function verifyTransactionIfKnown(reference: string): Promise<PaystackTransaction | null> {
  return verifyTransaction(reference).catch((err) => {
    if (err instanceof HttpError && /answered 400: .*reference not found/i.test(err.message)) return null;
    throw err;
  });
}
