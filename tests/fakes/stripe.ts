// Fake Stripe (https://docs.stripe.com/api/payment_intents): PaymentIntents
// created with form-encoded bodies and the secret key as Bearer token, replayed
// for a repeated Idempotency-Key, as Stripe does, and retrieved by id. Tests
// "pay" or cancel an intent through the control route POST /__fake/stripe/settle.
// Webhook events are built and signed by tests (`stripeSignature`), as Stripe signs them.
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
  const idempotent = new Map<string, { params: string; status: number; body: unknown }>();
  return startFake('Stripe', (req, res, body, url) => {
    if (url.pathname === '/__fake/stripe/settle' && req.method === 'POST') {
      const { id, status, amount_received } = JSON.parse(body);
      const intent = intents.get(id);
      if (!intent) {
        sendJson(res, 404, { message: 'no such payment_intent' });
        return true;
      }
      intent.status = status ?? 'succeeded';
      intent.amount_received = intent.status === 'succeeded' ? amount_received ?? intent.amount : 0;
      sendJson(res, 200, intent);
      return true;
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      sendJson(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      return true;
    }
    if (url.pathname === '/v1/payment_intents' && req.method === 'POST') {
      const key = req.headers['idempotency-key'] as string | undefined;
      const seen = key ? idempotent.get(key) : undefined;
      if (seen) {
        if (seen.params !== body) {
          sendJson(res, 400, { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.' } });
        } else sendJson(res, seen.status, seen.body);
        return true;
      }
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
      if (key) idempotent.set(key, { params: body, status: 200, body: intent });
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
