// Signs a request the way Supabase Auth signs its HTTP hooks (Standard
// Webhooks: HMAC-SHA256, base64, of "<id>.<timestamp>.<body>" with the
// base64-decoded part of the `v1,whsec_<base64>` secret).
import { createHmac, randomUUID } from 'node:crypto';

export function standardWebhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^v1,/, '').replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export function standardWebhookHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const id = `msg_${randomUUID()}`;
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardWebhookSignature(secret, id, timestamp, body),
  };
}
