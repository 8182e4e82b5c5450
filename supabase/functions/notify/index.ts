// Sends the notification outbox (notification_deliveries): claims due rows
// through claim_notification_deliveries (for update skip locked, so concurrent
// runs never share a row), sends each by its channel (push: FCM via
// firebase-admin; SMS: the providers of _shared/sms.ts; email: Resend) and
// records the outcome with complete_notification_delivery, which schedules
// retries (1 min, 5 min, 30 min, 2 h, 12 h) and then gives up (dead).
// Called with the service_role key: right after a notification commits (with
// the ids it queued) and every minute by the notify-sweep job (without ids).
import { decodeJwt } from 'jose';
import { asServiceRole } from '../_shared/db.ts';
import { EmailError, EmailNotConfigured, sendEmail } from '../_shared/email.ts';
import { errorJson, HttpError, json, serve } from '../_shared/http.ts';
import { PushNotConfigured, sendPush } from '../_shared/push.ts';
import { NotifyRequest } from '../_shared/schemas.ts';
import { sendSms, SmsError } from '../_shared/sms.ts';

interface Claimed {
  id: string;
  claim_id: string;
  channel: 'push' | 'sms' | 'email';
  attempts: number;
  notification_id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  phone: string | null;
  email: string | null;
  tokens: string[];
}

type Outcome = { outcome: 'sent'; messageId: string } | { outcome: 'retry' | 'dead'; error: string };

/** How long a run keeps claiming new batches; the sweep picks up whatever is left. */
const RUN_BUDGET_MS = 25_000;
/** Deliveries sent at once within a batch. */
const PARALLEL = 8;
/**
 * How long a claimed row stays ours: longer than the platform lets a request
 * run (150 s idle), so a row is only claimed again once its sender is gone.
 */
const LEASE_SECONDS = 300;

async function deliverPush(d: Claimed): Promise<Outcome> {
  if (d.tokens.length === 0) return { outcome: 'dead', error: 'no_active_devices' };
  // FCM data values must be strings.
  const data: Record<string, string> = { notification_id: d.notification_id, type: d.type };
  for (const [k, v] of Object.entries(d.data ?? {})) data[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const result = await sendPush(d.tokens, { title: d.title, body: d.body, data });
  const byCode = Map.groupBy(result.invalid, (i) => i.code);
  for (const [code, invalid] of byCode) {
    await asServiceRole((sql) => sql`select public.deactivate_device_tokens(${invalid.map((i) => i.token)}::text[], ${code})`);
  }
  if (result.sent.length > 0) return { outcome: 'sent', messageId: result.sent.join(' ') };
  if (result.errors.length > 0) return { outcome: 'retry', error: result.errors[0] };
  return { outcome: 'dead', error: `no_active_devices: ${[...byCode.keys()].join(', ')}` };
}

async function deliverSms(d: Claimed): Promise<Outcome> {
  if (!d.phone) return { outcome: 'dead', error: 'no_phone' };
  if (!Deno.env.get('SMS_PROVIDER')) return { outcome: 'retry', error: 'sms_not_configured: SMS_PROVIDER is not set' };
  try {
    const sent = await sendSms(d.phone, `${d.title}: ${d.body}`.slice(0, 480));
    return { outcome: 'sent', messageId: `${sent.provider}:${sent.messageId}` };
  } catch (err) {
    if (err instanceof HttpError) return { outcome: 'retry', error: `sms_not_configured: ${err.message}` };
    if (err instanceof SmsError) {
      // A refused number will be refused again; the provider's outages and our keys are worth retrying.
      const final = err.status >= 400 && err.status < 500 && ![401, 403, 429].includes(err.status);
      return { outcome: final ? 'dead' : 'retry', error: err.message };
    }
    // fetch rejects with a TypeError when the provider cannot be reached.
    if (err instanceof TypeError) return { outcome: 'retry', error: `sms_unreachable: ${err.message.slice(0, 200)}` };
    throw err;
  }
}

async function deliverEmail(d: Claimed): Promise<Outcome> {
  if (!d.email) return { outcome: 'dead', error: 'no_email' };
  try {
    return { outcome: 'sent', messageId: await sendEmail(d.email, d.title, d.body, `delivery-${d.id}`) };
  } catch (err) {
    if (err instanceof EmailError) return { outcome: err.retryable ? 'retry' : 'dead', error: err.message };
    throw err;
  }
}

const SENDERS = { push: deliverPush, sms: deliverSms, email: deliverEmail };

async function deliver(d: Claimed): Promise<string> {
  let result: Outcome;
  try {
    result = await SENDERS[d.channel](d);
  } catch (err) {
    // Unconfigured channels fail their rows on the normal backoff, so they never spin.
    if (err instanceof PushNotConfigured || err instanceof EmailNotConfigured) result = { outcome: 'retry', error: err.message };
    else {
      console.error(`notify: delivery ${d.id} (${d.channel}) failed unexpectedly`, err);
      result = { outcome: 'retry', error: `internal: ${String((err as Error)?.message ?? err).slice(0, 200)}` };
    }
  }
  const [{ status }] = await asServiceRole((sql) => sql`
    select public.complete_notification_delivery(${d.id}::uuid, ${d.claim_id}::uuid, ${result.outcome},
      ${result.outcome === 'sent' ? null : result.error}, ${result.outcome === 'sent' ? result.messageId : null}) as status`);
  return status;
}

async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

function requireServiceRole(req: Request): void {
  const token = /^bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  let role: unknown;
  try {
    role = token ? decodeJwt(token).role : undefined;
  } catch { /* not a JWT: refused below */ }
  if (role !== 'service_role') throw new HttpError(403, 'forbidden', 'notify is called with the service_role key only');
}

serve('notify', async (req) => {
  requireServiceRole(req);
  const raw = await req.text();
  let body: unknown = {};
  if (raw.trim()) {
    try {
      body = JSON.parse(raw);
    } catch {
      return errorJson(400, 'invalid_json', 'The request body must be JSON');
    }
  }
  const parsed = NotifyRequest.safeParse(body);
  if (!parsed.success) {
    return errorJson(400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  const { delivery_ids: ids, limit = 100 } = parsed.data;
  const counts: Record<string, number> = { claimed: 0, sent: 0, failed: 0, dead: 0 };
  const started = Date.now();
  do {
    const batch = await asServiceRole((sql) => sql<Claimed[]>`
      select * from public.claim_notification_deliveries(${limit}::integer, ${ids ?? null}::uuid[], ${LEASE_SECONDS}::integer)`);
    if (batch.length === 0) break;
    counts.claimed += batch.length;
    for (const status of await inParallel(batch, PARALLEL, deliver)) counts[status] = (counts[status] ?? 0) + 1;
    // A short batch of named rows was all of them that were due. A row that
    // failed is due again only after its backoff, so a sweep ends when the due rows are done.
    if (ids && batch.length < limit) break;
  } while (Date.now() - started < RUN_BUDGET_MS);
  return json(counts);
});
