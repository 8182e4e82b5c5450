// Fake Paystack Transfers (https://paystack.com/docs/transfers/): the bank list
// (GET /bank), account resolution (GET /bank/resolve), transfer recipients
// (POST /transferrecipient), transfers (POST /transfer, GET
// /transfer/verify/:reference), in Paystack's `{ status, message, data }`
// envelope. New transfers are `pending`, as in live mode with OTP off; tests
// decide the outcome through POST /__fake/paystack/transfer/settle, and the fake
// then sends the signed webhook Paystack would send (transfer.success,
// transfer.failed, transfer.reversed) to the URL given.
// Control routes (no key):
//   POST /__fake/paystack/accounts {bank_code, account_number, account_name}: a bank account that resolves.
//   POST /__fake/paystack/transfer/settle {reference, status, gateway_response?, webhook_url?}: the outcome, and its
//     signed webhook posted to webhook_url (without one, only answered, for tests that deliver it themselves).
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './recorder.ts';

interface Recipient {
  id: number;
  recipient_code: string;
  name: string;
  account_number: string;
  bank_code: string;
  currency: string;
  createdAt: string;
}

interface Transfer {
  id: number;
  transfer_code: string;
  reference: string;
  amount: number;
  currency: string;
  reason: string | null;
  recipient: Recipient;
  status: 'pending' | 'success' | 'failed' | 'reversed';
  gateway_response: string | null;
  createdAt: string;
  updatedAt: string;
  transferred_at: string | null;
}

const BANKS = [
  { name: 'Access Bank', code: '044', id: 1 },
  { name: 'First Bank of Nigeria', code: '011', id: 7 },
  { name: 'Guaranty Trust Bank', code: '058', id: 9 },
  { name: 'Zenith Bank', code: '057', id: 21 },
  { name: 'Kuda Bank', code: '50211', id: 67 },
  { name: 'OPay Digital Services Limited (OPay)', code: '999992', id: 171 },
].map((b) => ({
  ...b, slug: b.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''), longcode: '', gateway: null,
  pay_with_bank: false, active: true, is_deleted: false, country: 'Nigeria', currency: 'NGN', type: 'nuban',
  createdAt: '2020-12-07T16:19:09.000Z', updatedAt: '2020-12-07T16:19:19.000Z',
}));

type Handler = (req: IncomingMessage, res: ServerResponse, body: string, url: URL) => Promise<boolean> | boolean;

export function paystackTransfers(secretKey: string): { control: Handler; api: Handler } {
  const accounts = new Map<string, string>(); // `${bank_code}:${account_number}` -> account name
  const recipients = new Map<string, Recipient>();
  const transfers = new Map<string, Transfer>();
  let nextId = 860_000_000;
  const code = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex').slice(0, 15)}`;
  const bankName = (c: string) => BANKS.find((b) => b.code === c)?.name;

  const recipientData = (r: Recipient) => ({
    active: true, createdAt: r.createdAt, currency: r.currency, description: null, domain: 'test', email: null, id: r.id,
    integration: 463433, metadata: null, name: r.name, recipient_code: r.recipient_code, type: 'nuban', updatedAt: r.createdAt,
    is_deleted: false,
    details: { authorization_code: null, account_number: r.account_number, account_name: accounts.get(`${r.bank_code}:${r.account_number}`) ?? null, bank_code: r.bank_code, bank_name: bankName(r.bank_code) },
  });
  const transferData = (t: Transfer) => ({
    amount: t.amount, createdAt: t.createdAt, currency: t.currency, domain: 'test', failures: null, id: t.id, integration: 463433,
    reason: t.reason, reference: t.reference, source: 'balance', source_details: null, status: t.status, titan_code: null,
    transfer_code: t.transfer_code, transferred_at: t.transferred_at, updatedAt: t.updatedAt, recipient: t.recipient.id,
    fee_charged: 0, gateway_response: t.gateway_response,
  });
  const fail = (res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}) => {
    sendJson(res, status, { status: false, message, ...extra });
    return true;
  };

  const control: Handler = async (req, res, body, url) => {
    if (url.pathname === '/__fake/paystack/accounts' && req.method === 'POST') {
      const { bank_code, account_number, account_name } = JSON.parse(body);
      accounts.set(`${bank_code}:${account_number}`, account_name);
      sendJson(res, 200, { ok: true });
      return true;
    }
    if (url.pathname === '/__fake/paystack/transfer/settle' && req.method === 'POST') {
      const { reference, status, gateway_response, webhook_url: webhookUrl } = JSON.parse(body);
      const t = transfers.get(reference);
      if (!t) return fail(res, 404, 'no such transfer');
      t.status = status;
      t.gateway_response = gateway_response ?? (status === 'success' ? 'Approved' : null);
      t.updatedAt = new Date().toISOString();
      if (status === 'success') t.transferred_at = t.updatedAt;
      // The webhook carries the transfer with its recipient expanded, as Paystack sends it.
      const event = { event: `transfer.${status}`, data: { ...transferData(t), integration: { id: 463433, is_live: false, business_name: 'Rambini' }, recipient: recipientData(t.recipient), session: { provider: 'nip', id: null } } };
      const raw = JSON.stringify(event);
      const signature = createHmac('sha512', secretKey).update(raw).digest('hex');
      let delivery: { status: number; body: unknown } | null = null;
      if (webhookUrl) {
        const answer = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paystack-signature': signature }, body: raw });
        delivery = { status: answer.status, body: await answer.json().catch(() => null) };
      }
      sendJson(res, 200, { event, signature, delivery });
      return true;
    }
    return false;
  };

  const api: Handler = (req, res, body, url) => {
    if (url.pathname === '/bank' && req.method === 'GET') {
      const currency = url.searchParams.get('currency') ?? 'NGN';
      sendJson(res, 200, { status: true, message: 'Banks retrieved', data: BANKS.filter((b) => b.currency === currency) });
      return true;
    }
    if (url.pathname === '/bank/resolve' && req.method === 'GET') {
      const accountNumber = url.searchParams.get('account_number') ?? '';
      const bankCode = url.searchParams.get('bank_code') ?? '';
      const name = accounts.get(`${bankCode}:${accountNumber}`);
      if (!name) return fail(res, 422, 'Could not resolve account name. Check parameters or try again.');
      sendJson(res, 200, { status: true, message: 'Account number resolved', data: { account_number: accountNumber, account_name: name, bank_id: BANKS.find((b) => b.code === bankCode)?.id } });
      return true;
    }
    if (url.pathname === '/transferrecipient' && req.method === 'POST') {
      const input = JSON.parse(body || '{}');
      if (input.type !== 'nuban') return fail(res, 400, 'Invalid recipient type');
      if (!input.name) return fail(res, 400, 'Name is required');
      if (!bankName(input.bank_code)) return fail(res, 400, 'Invalid bank code');
      if (!accounts.has(`${input.bank_code}:${input.account_number}`)) return fail(res, 400, 'Cannot resolve account');
      // A duplicate account number gives back the existing recipient.
      let r = [...recipients.values()].find((x) => x.bank_code === input.bank_code && x.account_number === input.account_number);
      if (!r) {
        r = { id: nextId++, recipient_code: code('RCP'), name: input.name, account_number: input.account_number, bank_code: input.bank_code, currency: input.currency ?? 'NGN', createdAt: new Date().toISOString() };
        recipients.set(r.recipient_code, r);
      }
      sendJson(res, 200, { status: true, message: 'Transfer recipient created successfully', data: recipientData(r) });
      return true;
    }
    if (url.pathname === '/transfer' && req.method === 'POST') {
      const input = JSON.parse(body || '{}');
      if (input.source !== 'balance') return fail(res, 400, 'Invalid transfer source');
      const amount = Number(input.amount);
      if (!Number.isInteger(amount) || amount <= 0) return fail(res, 400, 'Invalid amount');
      const recipient = recipients.get(input.recipient);
      if (!recipient) return fail(res, 400, 'Recipient specified is invalid', { type: 'validation_error', code: 'invalid_transfer_recipient' });
      const reference = String(input.reference ?? '');
      if (!/^[a-z0-9_-]{16,50}$/.test(reference)) return fail(res, 400, 'Invalid reference');
      const existing = transfers.get(reference);
      if (existing) {
        // The reference is the idempotency key: a retry is the same transfer, never a second one.
        if (existing.amount !== amount || existing.recipient.recipient_code !== recipient.recipient_code) return fail(res, 400, 'Duplicate Transfer Reference');
        sendJson(res, 200, { status: true, message: 'Transfer has been queued', data: transferData(existing) });
        return true;
      }
      const now = new Date().toISOString();
      const t: Transfer = {
        id: nextId++, transfer_code: code('TRF'), reference, amount, currency: input.currency ?? 'NGN', reason: input.reason ?? null,
        recipient, status: 'pending', gateway_response: null, createdAt: now, updatedAt: now, transferred_at: null,
      };
      transfers.set(reference, t);
      sendJson(res, 200, { status: true, message: 'Transfer has been queued', data: transferData(t) });
      return true;
    }
    const verify = /^\/transfer\/verify\/([^/]+)$/.exec(url.pathname);
    if (verify && req.method === 'GET') {
      const t = transfers.get(decodeURIComponent(verify[1]));
      if (!t) return fail(res, 404, 'Transfer not found');
      sendJson(res, 200, { status: true, message: 'Transfer retrieved', data: { ...transferData(t), recipient: recipientData(t.recipient) } });
      return true;
    }
    return false;
  };

  return { control, api };
}
