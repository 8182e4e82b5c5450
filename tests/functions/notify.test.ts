// The notify function under real Deno: it sends the outbox to the fake FCM
// (through firebase-admin, by name through the fakes' HTTPS proxy), the fake
// SMS providers and the fake Resend, per preference; retries with backoff then
// gives up; deactivates the tokens FCM rejects; never sends a delivery twice,
// even with four runs at once; and fails unconfigured channels without spinning.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../stack/config.ts';
import { createGateway, type Gateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createFunctionsService } from '../../stack/services/functions/index.ts';
import type { Service } from '../../stack/services/service.ts';
import { fakesEnv } from '../fakes/env.ts';
import { FIREBASE_PROJECT_ID, fcmError } from '../fakes/google.ts';
import { failCalls, fakeCalls } from '../fakes/recorder.ts';
import { asUser, createUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { makeDue, notifyHeld, waitFor, type HeldNotification } from '../helpers/outbox.ts';
import { testClient, userAccessToken } from '../helpers/supabase.ts';

const env = stackEnv();
const fakes = fakesEnv();
const sql = () => serviceSql();

interface Recipient {
  id: string;
  phone: string;
  email: string;
  tokens: string[];
}

async function recipient(tokenCount = 1): Promise<Recipient> {
  const u = await createUser();
  const email = `u${u.id.slice(0, 8)}@example.test`;
  await sql()`update auth.users set email = ${email}, email_confirmed_at = now() where id = ${u.id}`;
  const tokens = Array.from({ length: tokenCount }, () => `fcm_${randomUUID()}`);
  for (const t of tokens) await asUser(u.id, (tx) => tx`select public.register_device(${t}, 'android')`);
  return { id: u.id, phone: `+${u.phone}`, email, tokens };
}

async function notifyUser(userId: string, type: string): Promise<HeldNotification> {
  return (await notifyHeld(userId, type))[0];
}

async function invoke(body: unknown, url = `${env.url}/functions/v1/notify`, key = env.serviceRoleKey): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, apikey: key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function delivery(id: string) {
  const [row] = await sql()`select *, extract(epoch from next_attempt_at - updated_at)::int as delay from public.notification_deliveries where id = ${id}`;
  return row;
}

/** Makes the deliveries due and runs notify for them. */
async function sendNow(ids: string[], url?: string) {
  await makeDue(ids);
  return invoke({ delivery_ids: ids }, url);
}

// The every-minute sweep would race the runs these tests make themselves.
const sweep = (active: boolean) => sql()`select cron.alter_job(jobid, active => ${active}) from cron.job where jobname = 'notify-sweep'`;
beforeAll(() => sweep(false));
afterAll(() => sweep(true));

describe.runIf(env.embedded)('notify', () => {
  it('delivers each channel the recipient wants: FCM v1 through firebase-admin, SMS, Resend', async () => {
    const r = await recipient();
    const critical = await notifyUser(r.id, 'payment_failed');
    const update = await notifyUser(r.id, 'order_update');
    expect(Object.keys(critical.deliveries).sort()).toEqual(['email', 'push', 'sms']);
    expect(Object.keys(update.deliveries).sort()).toEqual(['email', 'push']);
    const ids = [...Object.values(critical.deliveries), ...Object.values(update.deliveries)];

    const run = await sendNow(ids);
    expect(run).toEqual({ status: 200, body: { claimed: 5, sent: 5, failed: 0, dead: 0 } });

    // Push: firebase-admin got a token from Google's token endpoint and called FCM by its real name.
    const pushes = await fakeCalls(fakes.fcmUrl, r.tokens[0]);
    expect(pushes).toHaveLength(2);
    expect(pushes[0].path).toBe(`/v1/projects/${FIREBASE_PROJECT_ID}/messages:send`);
    expect(pushes[0].headers.host).toBe('fcm.googleapis.com');
    expect(pushes[0].headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    const sent = pushes.map((p) => JSON.parse(p.body).message).find((m) => m.notification.title === critical.title);
    expect(sent).toMatchObject({ token: r.tokens[0], notification: { body: 'Your order is on its way.' }, data: { notification_id: critical.id, type: 'payment_failed', order_number: 'R-1042', total: '250000' } });
    const grants = await fakeCalls(fakes.googleOAuthUrl, 'jwt-bearer');
    expect(grants.length).toBeGreaterThan(0);
    expect(grants[0].headers.host).toBe('oauth2.googleapis.com');

    // SMS for the critical type only (SMS is off by default), through Termii.
    const texts = await fakeCalls(fakes.smsUrl, r.phone.slice(1));
    expect(texts).toHaveLength(1);
    expect(JSON.parse(texts[0].body).sms).toBe(`${critical.title}: Your order is on its way.`);

    // Email through Resend, with the delivery as idempotency key.
    const emails = await fakeCalls(fakes.emailUrl, r.email);
    expect(emails).toHaveLength(2);
    const mail = emails.find((e) => JSON.parse(e.body).subject === critical.title)!;
    expect(JSON.parse(mail.body)).toMatchObject({ from: fakes.secrets.EMAIL_FROM, to: [r.email], text: 'Your order is on its way.' });
    expect(mail.headers['idempotency-key']).toBe(`delivery-${critical.deliveries.email}`);

    for (const id of ids) expect(await delivery(id)).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
    expect((await delivery(critical.deliveries.push)).provider_message_id).toMatch(new RegExp(`^projects/${FIREBASE_PROJECT_ID}/messages/`));
    expect((await delivery(critical.deliveries.sms)).provider_message_id).toMatch(/^termii:/);
    const [n] = await sql()`select delivery_status, delivery_attempts from public.notifications where id = ${critical.id}`;
    expect(n).toEqual({ delivery_status: 'sent', delivery_attempts: 3 });

    // The recipient reads their own delivery rows through the API; another user sees none.
    const mine = testClient({ global: { headers: { authorization: `Bearer ${await userAccessToken(r.id)}` } } });
    const { data, error } = await mine.from('notification_deliveries').select('channel, status').eq('notification_id', critical.id).order('channel');
    expect(error).toBeNull();
    expect(data).toEqual([{ channel: 'email', status: 'sent' }, { channel: 'push', status: 'sent' }, { channel: 'sms', status: 'sent' }]);
    const other = testClient({ global: { headers: { authorization: `Bearer ${await userAccessToken((await createUser()).id)}` } } });
    expect((await other.from('notification_deliveries').select('id').eq('notification_id', critical.id)).data).toEqual([]);
  });

  it('retries a failing delivery after 1 min, 5 min, 30 min, 2 h and 12 h, then marks it dead', async () => {
    const r = await recipient();
    const { deliveries } = await notifyUser(r.id, 'account');
    await failCalls(fakes.fcmUrl, { match: r.tokens[0], status: 500, body: fcmError(500, 'INTERNAL'), times: 6 });
    await makeDue([deliveries.push]);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect((await invoke({ delivery_ids: [deliveries.push] })).body).toMatchObject({ claimed: 1, sent: 0 });
      const row = await delivery(deliveries.push);
      expect(row.attempts).toBe(attempt);
      expect(row.last_error).toMatch(/^messaging\/internal-error/);
      if (attempt < 6) {
        expect(row.status).toBe('failed');
        delays.push(row.delay);
        // Not due before its backoff: another run takes nothing.
        expect((await invoke({ delivery_ids: [deliveries.push] })).body).toMatchObject({ claimed: 0 });
        await makeDue([deliveries.push]);
      } else {
        expect(row.status).toBe('dead');
      }
    }
    expect(delays).toEqual([60, 300, 1800, 7200, 43200]);
    await makeDue([deliveries.push]);
    expect((await invoke({ delivery_ids: [deliveries.push] })).body).toMatchObject({ claimed: 0 });
    expect(await fakeCalls(fakes.fcmUrl, r.tokens[0])).toHaveLength(6);
  });

  it('deactivates the tokens FCM answers as unregistered or invalid, and still delivers to the good one', async () => {
    const r = await recipient(3);
    const [good, unregistered, invalid] = r.tokens;
    await failCalls(fakes.fcmUrl, { match: unregistered, status: 404, body: fcmError(404, 'UNREGISTERED'), times: 1 });
    await failCalls(fakes.fcmUrl, { match: invalid, status: 400, body: fcmError(400, 'INVALID_ARGUMENT'), times: 1 });
    const { deliveries } = await notifyUser(r.id, 'order_update');
    expect((await sendNow([deliveries.push])).body).toMatchObject({ claimed: 1, sent: 1 });
    const tokens = await sql()`select token, active, deactivated_reason from public.device_tokens where user_id = ${r.id} order by token`;
    expect(Object.fromEntries(tokens.map((t) => [t.token, [t.active, t.deactivated_reason]]))).toEqual({
      [good]: [true, null],
      [unregistered]: [false, 'messaging/registration-token-not-registered'],
      [invalid]: [false, 'messaging/invalid-argument'],
    });
    // Only the good token is used from now on.
    const next = await notifyUser(r.id, 'order_update');
    await sendNow([next.deliveries.push]);
    expect(await fakeCalls(fakes.fcmUrl, unregistered)).toHaveLength(1);
    expect(await fakeCalls(fakes.fcmUrl, good)).toHaveLength(2);
  });

  it('gives up at once when every token of the recipient is dead', async () => {
    const r = await recipient();
    await failCalls(fakes.fcmUrl, { match: r.tokens[0], status: 404, body: fcmError(404, 'UNREGISTERED'), times: 1 });
    const { deliveries } = await notifyUser(r.id, 'account');
    expect((await sendNow([deliveries.push])).body).toMatchObject({ claimed: 1, dead: 1 });
    expect(await delivery(deliveries.push)).toMatchObject({ status: 'dead', attempts: 1, last_error: 'no_active_devices: messaging/registration-token-not-registered' });
    // With no active device left, new notifications queue no push at all.
    expect(Object.keys((await notifyUser(r.id, 'account')).deliveries).sort()).toEqual(['email']);
  });

  it('sends each delivery exactly once with four runs at the same time', async () => {
    const r = await recipient();
    const notes = await notifyHeld(r.id, 'security_alert', 10);
    const ids = notes.flatMap((n) => Object.values(n.deliveries));
    expect(ids).toHaveLength(30);
    await makeDue(ids);
    const runs = await Promise.all([0, 1, 2, 3].map(() => invoke({ delivery_ids: ids, limit: 5 })));
    for (const run of runs) expect(run.status).toBe(200);
    expect(runs.reduce((sum, run) => sum + Number(run.body.claimed), 0)).toBe(30);
    expect(runs.reduce((sum, run) => sum + Number(run.body.sent), 0)).toBe(30);
    expect(await fakeCalls(fakes.fcmUrl, r.tokens[0])).toHaveLength(10);
    expect(await fakeCalls(fakes.smsUrl, r.phone.slice(1))).toHaveLength(10);
    const emails = await fakeCalls(fakes.emailUrl, r.email);
    expect(emails).toHaveLength(10);
    expect(new Set(emails.map((e) => e.headers['idempotency-key'])).size).toBe(10);
    const rows = await sql()`select status, attempts, count(*)::int as n from public.notification_deliveries where id = any(${ids}::uuid[]) group by 1, 2`;
    expect(rows).toEqual([{ status: 'sent', attempts: 1, n: 30 }]);
  });

  it('refuses callers without the service_role key, and bad bodies', async () => {
    const user = await createUser();
    expect((await invoke({}, undefined, env.anonKey)).status).toBe(403);
    expect((await invoke({}, undefined, await userAccessToken(user.id))).body).toMatchObject({ code: 'forbidden' });
    expect((await invoke({ delivery_ids: ['not-a-uuid'] })).status).toBe(400);
    expect((await invoke({ delivery_ids: Array.from({ length: 501 }, () => randomUUID()) })).status).toBe(400);
    expect((await invoke({ limit: 0 })).status).toBe(400);
    expect((await invoke({ surprise: true })).body).toMatchObject({ code: 'invalid_request' });
    const res = await fetch(`${env.url}/functions/v1/notify`, { method: 'POST', headers: { authorization: `Bearer ${env.serviceRoleKey}` }, body: '{not json' });
    expect(res.status).toBe(400);
  });
});

// What starts notify: the database, right after commit, and the notify-sweep job.
describe.runIf(env.embedded)('starting notify', () => {
  const sentTitles = async (token: string) => (await fakeCalls(fakes.fcmUrl, token)).map((c) => JSON.parse(c.body).message.notification.title);

  it('delivers right after the notification commits, with no call from anyone', async () => {
    const r = await recipient();
    const [n] = await sql()`insert into public.notifications (user_id, type, title, body) values (${r.id}, 'order_update', 'On its way', 'Rider left') returning id`;
    await waitFor(async () => (await sql()`select 1 from public.notification_deliveries where notification_id = ${n.id} and status = 'sent'`).length === 2, 'both deliveries sent');
    expect(await sentTitles(r.tokens[0])).toEqual(['On its way']);
    expect(await fakeCalls(fakes.emailUrl, r.email)).toHaveLength(1);
  });

  it('sends nothing for a notification whose transaction rolled back', async () => {
    const r = await recipient();
    await sql().begin(async (tx) => {
      await tx`insert into public.notifications (user_id, type, title, body) values (${r.id}, 'order_update', 'Never happened', 'x')`;
      await tx`select 1 / 0`;
    }).catch(() => {});
    await sql()`insert into public.notifications (user_id, type, title, body) values (${r.id}, 'order_update', 'Committed', 'x')`;
    await waitFor(async () => (await sentTitles(r.tokens[0])).includes('Committed'), 'the committed push');
    expect(await sentTitles(r.tokens[0])).toEqual(['Committed']);
  });

  it('never fails the transaction that makes the notification, even without the Vault secrets', async () => {
    const r = await recipient();
    let seen: { calls: number; deliveries: number } | undefined;
    await sql().begin(async (tx) => {
      await tx`delete from vault.secrets where name in ('project_url', 'service_role_key')`;
      const [n] = await tx`insert into public.notifications (user_id, type, title, body) values (${r.id}, 'order_update', 'Quiet', 'x') returning id`;
      // Requests this transaction queued (the HTTP worker takes other tests' rows meanwhile).
      const [mine] = await tx`select count(*)::int as n from net.http_request_queue where xmin::text::bigint = txid_current() % 4294967296`;
      const rows = await tx`select 1 from public.notification_deliveries where notification_id = ${n.id}`;
      seen = { calls: mine.n, deliveries: rows.length };
      throw new Error('roll back: the secrets stay');
    }).catch(() => {});
    // Queued for the sweep, no call without a URL and key, and the insert went through.
    expect(seen).toEqual({ calls: 0, deliveries: 2 });
  });

  it('runs the notify-sweep command every minute, which sends what is due (retries)', async () => {
    const jobs = await sql()`select jobname, schedule, command, username from cron.job where jobname in ('notify-sweep', 'cleanup-notifications', 'weekly-vendor-report') order by jobname`;
    expect(jobs.map((j) => [j.jobname, j.schedule, j.username])).toEqual([
      ['cleanup-notifications', '30 2 * * *', 'postgres'],
      ['notify-sweep', '* * * * *', 'postgres'],
      ['weekly-vendor-report', '0 8 * * 1', 'postgres'],
    ]);
    const r = await recipient();
    const { deliveries } = await notifyUser(r.id, 'account');
    await makeDue(Object.values(deliveries));
    const sweepCommand = jobs.find((j) => j.jobname === 'notify-sweep')!.command as string;
    await sql().unsafe(sweepCommand);
    await waitFor(async () => (await sql()`select 1 from public.notification_deliveries where id = any(${Object.values(deliveries)}::uuid[]) and status = 'sent'`).length === 2, 'the swept deliveries sent');
    expect(await fakeCalls(fakes.fcmUrl, r.tokens[0])).toHaveLength(1);
  });
});

// The same function deployed without any channel's secrets, and with providers that cannot be reached.
describe.runIf(env.embedded)('notify without its providers', () => {
  const deployed: Array<{ gateway: Gateway; service: Service }> = [];
  let url: string;
  let unreachableUrl: string;

  async function deploy(functionsEnv: Record<string, string>): Promise<string> {
    const config = loadConfig({ apiPort: await freePort(), dbPort: Number(new URL(env.dbUrl).port), functionsEnv });
    const service = createFunctionsService({ config, log: () => {} });
    const gateway = createGateway(config, [service], async () => ({ ok: true }), () => {});
    await new Promise<void>((resolve) => gateway.server.listen(config.apiPort, config.host, resolve));
    deployed.push({ gateway, service });
    return `${config.apiUrl}/functions/v1/notify`;
  }

  beforeAll(async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    [url, unreachableUrl] = await Promise.all([
      deploy({ FIREBASE_SERVICE_ACCOUNT: '', RESEND_API_KEY: '', SMS_PROVIDER: '', TERMII_BASE_URL: fakes.smsUrl, RESEND_BASE_URL: fakes.emailUrl }),
      deploy({ FIREBASE_SERVICE_ACCOUNT: '', TERMII_BASE_URL: closed, RESEND_BASE_URL: closed }),
    ]);
  });
  afterAll(async () => {
    for (const d of deployed) {
      await d.gateway.close();
      await d.service.close();
    }
  });

  it('retries when a provider cannot be reached', async () => {
    const r = await recipient();
    const { deliveries } = await notifyUser(r.id, 'security_alert');
    const ids = [deliveries.sms, deliveries.email];
    expect((await sendNow(ids, unreachableUrl)).body).toEqual({ claimed: 2, sent: 0, failed: 2, dead: 0 });
    expect(await delivery(deliveries.sms)).toMatchObject({ status: 'failed', delay: 60, last_error: expect.stringMatching(/^sms_unreachable: /) });
    expect(await delivery(deliveries.email)).toMatchObject({ status: 'failed', delay: 60, last_error: expect.stringMatching(/^resend: application_error: Unable to fetch data/) });
  });

  it('fails each delivery with the channel named in last_error, on the normal backoff, so it does not spin', async () => {
    const r = await recipient();
    const { deliveries } = await notifyUser(r.id, 'security_alert');
    const ids = Object.values(deliveries);
    expect((await sendNow(ids, url)).body).toEqual({ claimed: 3, sent: 0, failed: 3, dead: 0 });
    expect(await delivery(deliveries.push)).toMatchObject({ status: 'failed', attempts: 1, delay: 60, last_error: 'push_not_configured: FIREBASE_SERVICE_ACCOUNT is not set' });
    expect(await delivery(deliveries.email)).toMatchObject({ status: 'failed', attempts: 1, delay: 60, last_error: 'email_not_configured: RESEND_API_KEY is not set' });
    expect(await delivery(deliveries.sms)).toMatchObject({ status: 'failed', attempts: 1, delay: 60, last_error: 'sms_not_configured: SMS_PROVIDER is not set' });
    expect((await invoke({ delivery_ids: ids }, url)).body).toMatchObject({ claimed: 0 });
    expect(await fakeCalls(fakes.fcmUrl, r.tokens[0])).toHaveLength(0);
    expect(await fakeCalls(fakes.emailUrl, r.email)).toHaveLength(0);
    expect(await fakeCalls(fakes.smsUrl, r.phone.slice(1))).toHaveLength(0);

    // Configured later (the stack's own notify has the secrets): the retry delivers.
    expect((await sendNow(ids)).body).toMatchObject({ claimed: 3, sent: 3 });
  });
});
