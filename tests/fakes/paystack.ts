// Fake Paystack (https://paystack.com/docs/api/transaction/): initialize and
// verify transactions with the secret key as Bearer token, answers in Paystack's
// `{ status, message, data }` envelope. Tests "pay" a transaction through the
// control route POST /__fake/paystack/charge, then send the signed webhook
// Paystack would send (HMAC-SHA512 of the raw body with the secret key).
import { createHmac, randomBytes } from 'node:crypto';
import { paystackTransfers } from './paystack-transfers.ts';
import { sendJson, startFake, type FakeServer } from './recorder.ts';

interface Transaction {
  id: number;
  reference: string;
  amount: number;
  currency: string;
  email: string;
  status: 'ongoing' | 'success' | 'failed' | 'abandoned';
  paid_at: string | null;
  metadata: unknown;
  created_at: string;
}

/** `webhookUrl`: where the fake sends the webhooks it originates (transfers). */
export function startFakePaystack(secretKey: string, port = 0, webhookUrl?: string): Promise<FakeServer> {
  const transactions = new Map<string, Transaction>();
  const transfers = paystackTransfers(secretKey, webhookUrl);
  let nextId = 4_000_000_000;
  let base = '';
  const fake = startFake('Paystack', async (req, res, body, url) => {
    if (await transfers.control(req, res, body, url)) return true;
    if (url.pathname === '/__fake/paystack/charge' && req.method === 'POST') {
      const { reference, amount, currency, status } = JSON.parse(body);
      const tx = transactions.get(reference);
      if (!tx) {
        sendJson(res, 404, { message: 'no such transaction' });
        return true;
      }
      // What the customer actually paid may differ from what was initialized (tests of the amount check).
      tx.amount = amount ?? tx.amount;
      tx.currency = currency ?? tx.currency;
      tx.status = status ?? 'success';
      tx.paid_at = tx.status === 'success' ? new Date().toISOString() : null;
      sendJson(res, 200, transactionData(tx));
      return true;
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      sendJson(res, 401, { status: false, message: 'Invalid key' });
      return true;
    }
    if (await transfers.api(req, res, body, url)) return true;
    if (url.pathname === '/transaction/initialize' && req.method === 'POST') {
      const input = JSON.parse(body || '{}');
      const amount = Number(input.amount);
      if (!input.email || !Number.isInteger(amount) || amount <= 0) {
        sendJson(res, 400, { status: false, message: 'Invalid Amount Sent' });
        return true;
      }
      const reference = String(input.reference ?? randomBytes(6).toString('hex'));
      if (transactions.has(reference)) {
        sendJson(res, 400, { status: false, message: 'Duplicate Transaction Reference' });
        return true;
      }
      const accessCode = randomBytes(8).toString('hex');
      transactions.set(reference, {
        id: nextId++, reference, amount, currency: input.currency ?? 'NGN', email: input.email,
        status: 'ongoing', paid_at: null, metadata: input.metadata ?? null, created_at: new Date().toISOString(),
      });
      sendJson(res, 200, { status: true, message: 'Authorization URL created', data: { authorization_url: `${base}/checkout/${accessCode}`, access_code: accessCode, reference } });
      return true;
    }
    const verify = /^\/transaction\/verify\/([^/]+)$/.exec(url.pathname);
    if (verify && req.method === 'GET') {
      const tx = transactions.get(decodeURIComponent(verify[1]));
      if (!tx) sendJson(res, 400, { status: false, message: 'Transaction reference not found' });
      else sendJson(res, 200, { status: true, message: 'Verification successful', data: transactionData(tx) });
      return true;
    }
    return false;
  }, port);
  return fake.then((f) => {
    base = f.url;
    return f;
  });
}

function transactionData(tx: Transaction) {
  return {
    id: tx.id, domain: 'test', status: tx.status, reference: tx.reference, amount: tx.amount, currency: tx.currency,
    gateway_response: tx.status === 'success' ? 'Successful' : 'Declined', paid_at: tx.paid_at, created_at: tx.created_at,
    channel: 'card', metadata: tx.metadata, customer: { email: tx.email },
  };
}

/** The `x-paystack-signature` Paystack puts on a webhook: HMAC-SHA512 (hex) of the raw body. */
export function paystackSignature(rawBody: string, secretKey: string): string {
  return createHmac('sha512', secretKey).update(rawBody).digest('hex');
}
