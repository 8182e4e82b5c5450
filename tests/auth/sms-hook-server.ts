// A Send SMS hook receiver for tests: verifies the Standard Webhooks signature
// exactly as the real hook must, and keeps the OTPs it was asked to send.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface ReceivedSms {
  phone: string;
  otp: string;
  payload: { metadata: Record<string, unknown>; user: Record<string, unknown>; sms: Record<string, unknown> };
}

export interface SmsHookServer {
  url: string;
  /** `v1,whsec_…`, as configured in `[auth.hook.send_sms] secrets`. */
  secret: string;
  received: ReceivedSms[];
  /** Requests whose signature did not verify. */
  rejected: number;
  /** What the next calls answer: `ok`, or an error status with GoTrue's hook error body. */
  mode: 'ok' | { status: number; message: string };
  lastOtp(phone: string): string;
  close(): Promise<void>;
}

export async function startSmsHookServer(): Promise<SmsHookServer> {
  const secret = `v1,whsec_${randomBytes(32).toString('base64')}`;
  const webhook = new Webhook(secret.slice('v1,'.length));
  const hook: SmsHookServer = {
    url: '',
    secret,
    received: [],
    rejected: 0,
    mode: 'ok',
    lastOtp(phone) {
      const hit = hook.received.filter((r) => r.phone === phone).at(-1);
      if (!hit) throw new Error(`the SMS hook received no OTP for ${phone}`);
      return hit.otp;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let payload: ReceivedSms['payload'];
    try {
      payload = webhook.verify(raw, req.headers as Record<string, string>) as ReceivedSms['payload'];
    } catch {
      hook.rejected += 1;
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { http_code: 401, message: 'Invalid webhook signature' } }));
      return;
    }
    if (hook.mode !== 'ok') {
      res.writeHead(hook.mode.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { http_code: hook.mode.status, message: hook.mode.message } }));
      return;
    }
    hook.received.push({ phone: String(payload.sms.phone), otp: String(payload.sms.otp), payload });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/send-sms`;
  return hook;
}
