// GoTrue's HTTP "Send SMS" hook: POST `{metadata, user, sms: {otp, phone}}`
// signed with Standard Webhooks, 5 s overall, up to 3 attempts on network errors.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { unprocessable } from './errors.ts';
import type { SendSmsHook } from './settings.ts';

const TIMEOUT_MS = 5000;
const ATTEMPTS = 3;
const BACKOFF_MS = 2000;

export interface SendSmsInput {
  user: Record<string, unknown>;
  otp: string;
  phone: string;
  ip: string | null;
}

function signatures(hook: SendSmsHook, msgId: string, at: Date, body: string): string {
  // `v1,whsec_<base64>`: the library takes the `whsec_…` part.
  return hook.secrets.map((secret) => new Webhook(secret.slice('v1,'.length)).sign(msgId, at, body)).join(' ');
}

export async function invokeSendSmsHook(hook: SendSmsHook, input: SendSmsInput): Promise<void> {
  const body = JSON.stringify({
    metadata: { uuid: randomUUID(), time: new Date().toISOString(), name: 'send-sms', ...(input.ip ? { ip_address: input.ip } : {}) },
    user: input.user,
    sms: { otp: input.otp, phone: input.phone },
  });
  const deadline = Date.now() + TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    const msgId = randomUUID();
    const at = new Date();
    let res: Response;
    try {
      res = await fetch(hook.uri, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': msgId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signatures(hook, msgId, at, body),
        },
        body,
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError' || Date.now() >= deadline;
      if (timedOut) throw unprocessable('hook_timeout', `Failed to reach hook within maximum time of ${TIMEOUT_MS / 1000} seconds`);
      if (attempt >= ATTEMPTS) throw unprocessable('hook_timeout_after_retry', 'Failed to reach hook after maximum retries');
      await new Promise((resolve) => setTimeout(resolve, Math.min(BACKOFF_MS, Math.max(0, deadline - Date.now()))));
      continue;
    }
    const text = await res.text();
    if (res.status === 204) return;
    if (res.status === 200 || res.status === 202) {
      let parsed: { error?: { message?: string } } | null = null;
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        throw unprocessable('sms_send_failed', 'Error sending confirmation OTP to provider: the Send SMS hook answered with invalid JSON');
      }
      if (parsed?.error) throw unprocessable('sms_send_failed', `Error sending confirmation OTP to provider: ${parsed.error.message ?? 'the Send SMS hook reported an error'}`);
      return;
    }
    // GoTrue answers 500 here; a 5xx would make auth-js retry as a network error, so say 422 as for a failed provider.
    let reason = `the Send SMS hook answered HTTP ${res.status}`;
    try {
      reason = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? reason;
    } catch {
      // Not JSON: the status says it all.
    }
    throw unprocessable('sms_send_failed', `Error sending confirmation OTP to provider: ${reason}`);
  }
}
