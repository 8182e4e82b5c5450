// Fake Stripe (https://docs.stripe.com/api/payment_intents,
// https://docs.stripe.com/api/refunds): PaymentIntents and Refunds created with
// form-encoded bodies and the secret key as Bearer token, replayed for a
// repeated Idempotency-Key, as Stripe does; refunds listed by charge or
// PaymentIntent. A refund succeeds at once unless its amount ends in 13 (then
// it is pending, as a bank refund can be). Webhook events are built and signed
// by tests (`stripeSignature`), as Stripe signs them.
import { createHmac, randomBytes } from 'node:crypto';
import { sendJson, startFake, type FakeServer } from './recorder.ts';

type Params = Record<string, unknown>;

/** Stripe's form encoding: `metadata[payment_id]=x`, `automatic_payment_methods[enabled]=true`. */
function parseForm(body: string): Params {
  const out: Params = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(/\[|\]\[|\]/).filter(Boolean);
    let node = out;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) node[p] = value;
      else node = (node[p] ??= {}) as Params;
    });
  }
  return out;
}

export function startFakeStripe(secretKey: string, port = 0): Promise<FakeServer> {
  const intents = new Map<string, Params>();
  const refunds = new Map<string, Params>();
  const idempotent = new Map<string, { params: string; status: number; body: unknown }>();
  const chargeOf = (intentId: string) => `ch_${intentId.slice(3)}`;
  return startFake('Stripe', (req, res, body, url) => {
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      sendJson(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      return true;
    }
    const key = req.method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) : undefined;
    const seen = key ? idempotent.get(`${url.pathname}:${key}`) : undefined;
    if (seen) {
      if (seen.params !== body) {
        sendJson(res, 400, { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.' } });
      } else sendJson(res, seen.status, seen.body);
      return true;
    }
    if (url.pathname === '/v1/refunds' && req.method === 'POST') {
      const p = parseForm(body);
      const intentId = (p.payment_intent as string | undefined) ?? [...intents.keys()].find((id) => chargeOf(id) === p.charge);
      const intent = intentId ? intents.get(intentId) : undefined;
      if (!intent) {
        sendJson(res, 404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such payment_intent or charge' } });
        return true;
      }
      const already = [...refunds.values()].filter((r) => r.payment_intent === intentId && r.status !== 'failed').reduce((sum, r) => sum + Number(r.amount), 0);
      const amount = p.amount === undefined ? Number(intent.amount) - already : Number(p.amount);
      if (!Number.isInteger(amount) || amount < 1 || already + amount > Number(intent.amount)) {
        sendJson(res, 400, { error: { type: 'invalid_request_error', code: 'amount_too_large', message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${Number(intent.amount) - already})` } });
        return true;
      }
      const refund = {
        id: `re_${randomBytes(12).toString('hex')}`, object: 'refund', amount, currency: intent.currency, payment_intent: intentId, charge: chargeOf(intentId!),
        status: amount % 100 === 13 ? 'pending' : 'succeeded', reason: p.reason ?? null, failure_reason: null, metadata: p.metadata ?? {}, created: Math.floor(Date.now() / 1000),
      };
      refunds.set(refund.id, refund);
      if (key) idempotent.set(`${url.pathname}:${key}`, { params: body, status: 200, body: refund });
      sendJson(res, 200, refund);
      return true;
    }
    if (url.pathname === '/v1/refunds' && req.method === 'GET') {
      const charge = url.searchParams.get('charge');
      const intent = url.searchParams.get('payment_intent');
      const data = [...refunds.values()].filter((r) => (!charge || r.charge === charge) && (!intent || r.payment_intent === intent));
      sendJson(res, 200, { object: 'list', data, has_more: false, url: '/v1/refunds' });
      return true;
    }
    const getRefund = /^\/v1\/refunds\/([^/]+)$/.exec(url.pathname);
    if (getRefund && req.method === 'GET') {
      const refund = refunds.get(getRefund[1]);
      if (!refund) sendJson(res, 404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such refund: '${getRefund[1]}'` } });
      else sendJson(res, 200, refund);
      return true;
    }
    if (url.pathname === '/v1/payment_intents' && req.method === 'POST') {
      const p = parseForm(body);
      const amount = Number(p.amount);
      if (!Number.isInteger(amount) || amount < 1 || typeof p.currency !== 'string') {
        sendJson(res, 400, { error: { type: 'invalid_request_error', message: 'Missing required param: amount or currency.' } });
        return true;
      }
      const id = `pi_${randomBytes(12).toString('hex')}`;
      const intent = {
        id, object: 'payment_intent', amount, amount_received: 0, currency: p.currency.toLowerCase(), status: 'requires_payment_method',
        client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`, metadata: p.metadata ?? {}, created: Math.floor(Date.now() / 1000), livemode: false,
      };
      intents.set(id, intent);
      if (key) idempotent.set(`${url.pathname}:${key}`, { params: body, status: 200, body: intent });
      sendJson(res, 200, intent);
      return true;
    }
    const get = /^\/v1\/payment_intents\/([^/]+)$/.exec(url.pathname);
    if (get && req.method === 'GET') {
      const intent = intents.get(get[1]);
      if (!intent) sendJson(res, 404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such payment_intent: '${get[1]}'` } });
      else sendJson(res, 200, intent);
      return true;
    }
    return false;
  }, port);
}

/** The `Stripe-Signature` header Stripe puts on a webhook: `t=<ts>,v1=<HMAC-SHA256 hex of "t.body">`. */
export function stripeSignature(rawBody: string, webhookSecret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', webhookSecret).update(`${timestamp}.${rawBody}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}
