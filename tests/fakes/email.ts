// Fake Resend (https://resend.com/docs/api-reference/emails/send-email):
// POST /emails with `Authorization: Bearer <key>`, JSON {from, to, subject,
// html|text}; 200 {id}. Errors are Resend's {statusCode, name, message}. An
// `Idempotency-Key` seen before answers the first response again (Resend keeps
// keys for 24 hours); with another body it is 409 invalid_idempotent_request.
import { randomUUID } from 'node:crypto';
import { sendJson, startFake, type FakeServer } from './recorder.ts';

export function startFakeEmail(apiKey: string, port = 0): Promise<FakeServer> {
  const seen = new Map<string, { body: string; id: string }>();
  return startFake('Resend', (req, res, body, url) => {
    if (req.method !== 'POST' || url.pathname !== '/emails') return false;
    const error = (statusCode: number, name: string, message: string) => sendJson(res, statusCode, { statusCode, name, message });
    const auth = req.headers.authorization;
    if (!auth) return (error(401, 'missing_api_key', 'Missing API key in the authorization header.'), true);
    if (auth !== `Bearer ${apiKey}`) return (error(403, 'invalid_api_key', 'API key is invalid'), true);
    let email: { from?: unknown; to?: unknown; subject?: unknown; html?: unknown; text?: unknown };
    try {
      email = JSON.parse(body);
    } catch {
      return (error(422, 'validation_error', 'Invalid JSON body'), true);
    }
    const to = Array.isArray(email.to) ? email.to : [email.to];
    if (typeof email.from !== 'string' || !email.from) return (error(422, 'validation_error', 'Missing `from` field.'), true);
    if (to.length === 0 || to.length > 50 || !to.every((t) => typeof t === 'string' && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(t))) {
      return (error(422, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'), true);
    }
    if (typeof email.subject !== 'string' || !email.subject) return (error(422, 'validation_error', 'Missing `subject` field.'), true);
    if (typeof email.html !== 'string' && typeof email.text !== 'string') return (error(422, 'validation_error', 'Missing `html` or `text` field.'), true);
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') {
      const first = seen.get(key);
      if (first && first.body !== body) return (error(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.'), true);
      if (first) return (sendJson(res, 200, { id: first.id }), true);
    }
    const id = randomUUID();
    if (typeof key === 'string') seen.set(key, { body, id });
    sendJson(res, 200, { id });
    return true;
  }, port);
}
