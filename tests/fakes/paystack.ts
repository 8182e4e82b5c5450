// Fake Paystack (https://paystack.com/docs/api/transaction/): initialize and
// verify transactions, create and list refunds, with the secret key as Bearer
// token, answers in Paystack's `{ status, message, data }` envelope. Tests
// "pay" a transaction through the control route POST /__fake/paystack/charge,
// then send the signed webhook Paystack would send (HMAC-SHA512 of the raw body
// with the secret key). A refund stays pending until the control route POST
// /__fake/paystack/refunds/:id/settle settles it and posts the signed
// `refund.processed` or `refund.failed` webhook to the URL given, as Paystack
// does. Transfers (banks, account resolution, recipients, transfers and their
// webhooks) are in paystack-transfers.ts.
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

interface Refund {
  id: number;
  transaction: Transaction;
  amount: number;
  currency: string;
  status: 'pending' | 'processed' | 'failed';
  merchant_note: string | null;
  customer_note: string | null;
  refunded_at: string | null;
  createdAt: string;
}

function refundData(r: Refund) {
  return {
    id: r.id, integration: 1, domain: 'test', transaction: r.transaction.id, dispute: null, amount: r.amount, deducted_amount: r.amount,
    currency: r.currency, channel: 'card', fully_deducted: true, status: r.status, refunded_by: 'api', refunded_at: r.refunded_at,
    expected_at: r.createdAt, merchant_note: r.merchant_note, customer_note: r.customer_note, createdAt: r.createdAt, updatedAt: r.createdAt,
  };
}

export function startFakePaystack(secretKey: string, port = 0): Promise<FakeServer> {
  const transactions = new Map<string, Transaction>();
  const refunds = new Map<number, Refund>();
  let nextRefundId = 9_000_000;
  let nextId = 4_000_000_000;
  let base = '';
  const transfers = paystackTransfers(secretKey);
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
    const settle = /^\/__fake\/paystack\/refunds\/(\d+)\/settle$/.exec(url.pathname);
    if (settle && req.method === 'POST') {
      const { status, webhook_url: webhookUrl } = JSON.parse(body || '{}');
      const refund = refunds.get(Number(settle[1]));
      if (!refund || (status !== 'processed' && status !== 'failed')) {
        sendJson(res, 404, { message: 'no such refund, or status is not processed|failed' });
        return true;
      }
      refund.status = status;
      refund.refunded_at = status === 'processed' ? new Date().toISOString() : null;
      const event = JSON.stringify({
        event: `refund.${status}`,
        data: {
          id: refund.id, status, transaction_reference: refund.transaction.reference, refund_reference: `RFD${refund.id}`,
          amount: String(refund.amount), currency: refund.currency, merchant_note: refund.merchant_note, customer_note: refund.customer_note,
          processor: 'fake', customer: { email: refund.transaction.email }, integration: 1, domain: 'test',
        },
      });
      void (async () => {
        const answer = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(event, secretKey) }, body: event });
        sendJson(res, 200, { webhook_status: answer.status, webhook_body: await answer.json().catch(() => null) });
      })().catch((err) => sendJson(res, 502, { message: (err as Error).message }));
      return true;
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      sendJson(res, 401, { status: false, message: 'Invalid key' });
      return true;
    }
    if (await transfers.api(req, res, body, url)) return true;
    if (url.pathname === '/refund' && req.method === 'POST') {
      const input = JSON.parse(body || '{}');
      const tx = transactions.get(String(input.transaction)) ?? [...transactions.values()].find((t) => String(t.id) === String(input.transaction));
      if (!tx || tx.status !== 'success') {
        sendJson(res, 400, { status: false, message: 'Transaction not found or not successful' });
        return true;
      }
      const already = [...refunds.values()].filter((r) => r.transaction === tx && r.status !== 'failed').reduce((sum, r) => sum + r.amount, 0);
      const amount = input.amount === undefined ? tx.amount - already : Number(input.amount);
      if (!Number.isInteger(amount) || amount <= 0 || already + amount > tx.amount) {
        sendJson(res, 400, { status: false, message: 'Refund amount cannot be more than the transaction amount' });
        return true;
      }
      const refund: Refund = {
        id: nextRefundId++, transaction: tx, amount, currency: input.currency ?? tx.currency, status: 'pending',
        merchant_note: input.merchant_note ?? null, customer_note: input.customer_note ?? null, refunded_at: null, createdAt: new Date().toISOString(),
      };
      refunds.set(refund.id, refund);
      sendJson(res, 200, { status: true, message: 'Refund has been queued for processing', data: { ...refundData(refund), transaction: transactionData(tx) } });
      return true;
    }
    if (url.pathname === '/refund' && req.method === 'GET') {
      const wanted = url.searchParams.get('transaction');
      const list = [...refunds.values()].filter((r) => !wanted || String(r.transaction.id) === wanted || r.transaction.reference === wanted);
      sendJson(res, 200, { status: true, message: 'Refunds retrieved', data: list.map(refundData), meta: { total: list.length } });
      return true;
    }
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
