// The notification outbox in SQL: which deliveries a notification queues (per
// preferences, type and channel, and only where there is a destination), the
// sender's claim/complete protocol with backoff and leases, and the device
// token RPCs, including what a hostile caller tries.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asAnon, asService, asUser, createUser, serviceSql } from '../helpers/db.ts';
import { makeDue, notifyHeld } from '../helpers/outbox.ts';

const sql = () => serviceSql();

async function withEmail(userId: string, email = `${userId}@example.test`): Promise<void> {
  await sql()`update auth.users set email = ${email}, email_confirmed_at = now() where id = ${userId}`;
}

async function device(userId: string, token = `tok_${randomUUID()}`): Promise<string> {
  await asUser(userId, (tx) => tx`select public.register_device(${token}, 'android')`);
  return token;
}

async function notify(userId: string, type = 'order_update'): Promise<string> {
  const [n] = await sql()`insert into public.notifications (user_id, type, title, body) values (${userId}, ${type}, 'Title', 'Body') returning id`;
  return n.id;
}

async function channels(notificationId: string): Promise<string[]> {
  const rows = await sql()`select channel from public.notification_deliveries where notification_id = ${notificationId} order by channel`;
  return rows.map((r) => r.channel);
}

/** A user reachable on every channel: a phone (every test user has one), an email and a device. */
async function reachableUser(): Promise<{ id: string; token: string }> {
  const u = await createUser();
  await withEmail(u.id);
  return { id: u.id, token: await device(u.id) };
}

/** The delivery ids of a new notification, due now and claimed by nobody yet. */
async function dueDeliveries(userId: string, type = 'order_update'): Promise<Record<string, string>> {
  const [{ deliveries }] = await notifyHeld(userId, type);
  await makeDue(Object.values(deliveries));
  return deliveries;
}

async function claim(ids: string[], lease = 120) {
  return asService((tx) => tx`select * from public.claim_notification_deliveries(50, ${ids}::uuid[], ${lease})`);
}

async function complete(id: string, claimId: string, outcome: string, error: string | null = null) {
  const [r] = await asService((tx) => tx`select public.complete_notification_delivery(${id}, ${claimId}, ${outcome}, ${error}, ${outcome === 'sent' ? 'msg-1' : null}) as status`);
  return r.status as string;
}

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return p.then(() => ({ message: 'no error' }), (e) => e);
}

describe('queueing deliveries', () => {
  it('follows the defaults: push and email on, SMS off except critical types', async () => {
    const u = await reachableUser();
    expect(await channels(await notify(u.id, 'order_update'))).toEqual(['email', 'push']);
    expect(await channels(await notify(u.id, 'payment_failed'))).toEqual(['email', 'push', 'sms']);
    expect(await channels(await notify(u.id, 'security_alert'))).toEqual(['email', 'push', 'sms']);
    expect(await channels(await notify(u.id, 'account_suspended'))).toEqual(['email', 'push', 'sms']);
    // As queued, seen inside the transaction (after commit notify starts on them at once).
    const [row] = await sql().begin(async (tx) => {
      const [n] = await tx`insert into public.notifications (user_id, type, title, body) values (${u.id}, 'account', 'Title', 'Body') returning id`;
      return tx`select status, attempts, last_error, next_attempt_at <= now() as due from public.notification_deliveries where notification_id = ${n.id} and channel = 'push'`;
    });
    expect(row).toEqual({ status: 'queued', attempts: 0, last_error: null, due: true });
  });

  it('queues nothing for a channel without a destination, and marks such notifications skipped', async () => {
    const u = await createUser();
    const id = await notify(u.id, 'order_update');
    expect(await channels(id)).toEqual([]);
    const [n] = await sql()`select delivery_status from public.notifications where id = ${id}`;
    expect(n.delivery_status).toBe('skipped');
    // A deactivated device is no destination either.
    const token = await device(u.id);
    await asService((tx) => tx`select public.deactivate_device_tokens(${[token]}, 'messaging/registration-token-not-registered')`);
    expect(await channels(await notify(u.id, 'account'))).toEqual([]);
    // An email address that is not confirmed may be someone else's: no email.
    await sql()`update auth.users set email = ${`x${u.id.slice(0, 8)}@example.test`}, email_confirmed_at = null where id = ${u.id}`;
    expect(await channels(await notify(u.id, 'account'))).toEqual([]);
  });

  it('follows the channel and category switches, and per-type choices over both', async () => {
    const u = await reachableUser();
    await asUser(u.id, (tx) => tx`insert into public.notification_preferences (sms_enabled, email_enabled, order_updates) values (true, false, false)`);
    expect(await channels(await notify(u.id, 'order_update'))).toEqual([]);
    expect(await channels(await notify(u.id, 'announcement'))).toEqual(['push', 'sms']);
    await asUser(u.id, (tx) => tx`insert into public.notification_type_preferences (type, channel, enabled)
      values ('order_update', 'email', true), ('announcement', 'push', false), ('security_alert', 'sms', false)`);
    expect(await channels(await notify(u.id, 'order_update'))).toEqual(['email']);
    expect(await channels(await notify(u.id, 'announcement'))).toEqual(['sms']);
    expect(await channels(await notify(u.id, 'security_alert'))).toEqual(['push']);
  });

  it('queues every notification of one statement (a broadcast)', async () => {
    const [a, b] = [await reachableUser(), await reachableUser()];
    const rows = await sql()`insert into public.notifications (user_id, type, title, body)
      select id, 'announcement', 'News', 'Hello' from unnest(${[a.id, b.id]}::uuid[]) as id returning id`;
    for (const r of rows) expect(await channels(r.id)).toEqual(['email', 'push']);
  });

  it('lets users read their own deliveries only, and never write them', async () => {
    const [a, b] = [await reachableUser(), await reachableUser()];
    const id = await notify(a.id);
    expect(await asUser(a.id, (tx) => tx`select id from public.notification_deliveries where notification_id = ${id}`)).toHaveLength(2);
    expect(await asUser(b.id, (tx) => tx`select id from public.notification_deliveries where notification_id = ${id}`)).toHaveLength(0);
    const err = await errorOf(asUser(a.id, (tx) => tx`update public.notification_deliveries set status = 'sent' where notification_id = ${id}`));
    expect(err.code).toBe('42501');
  });
});

describe('claiming and completing', () => {
  it('gives each due delivery to one claimer at a time', async () => {
    const u = await reachableUser();
    const [held] = await notifyHeld(u.id, 'order_update');
    const ids = Object.values(held.deliveries);
    await makeDue(ids);
    const results = await Promise.all([claim(ids), claim(ids), claim(ids), claim(ids)]);
    const claimed = results.flat().map((r) => r.id).sort();
    expect(claimed).toEqual([...ids].sort());
    const push = results.flat().find((r) => r.channel === 'push')!;
    expect(push).toMatchObject({ attempts: 1, title: held.title, body: 'Your order is on its way.', type: 'order_update', tokens: [u.token], data: { order_number: 'R-1042' } });
    expect(push.email).toBe(`${u.id}@example.test`);
    // Claimed rows are not due again while the lease runs.
    expect(await claim(ids)).toHaveLength(0);
  });

  it('retries with backoff 1 min, 5 min, 30 min, 2 h, 12 h, then marks the delivery dead', async () => {
    const u = await reachableUser();
    // Only the push delivery is made due: a due email would be sent by any sweep that
    // another test file runs meanwhile, and change the summary asserted at the end.
    const [{ deliveries }] = await notifyHeld(u.id, 'order_update');
    const id = deliveries.push;
    await makeDue([id]);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const [c] = await claim([id]);
      expect(c.attempts).toBe(attempt);
      const status = await complete(id, c.claim_id, 'retry', 'fcm: HTTP 503');
      const [row] = await sql()`select status, last_error, extract(epoch from next_attempt_at - updated_at)::int as delay from public.notification_deliveries where id = ${id}`;
      if (attempt < 6) {
        expect(status).toBe('failed');
        delays.push(row.delay);
      } else {
        expect(status).toBe('dead');
        expect(row.status).toBe('dead');
      }
      expect(row.last_error).toBe('fcm: HTTP 503');
      // Make it due now instead of waiting for the backoff.
      await sql()`update public.notification_deliveries set next_attempt_at = now() where id = ${id}`;
    }
    expect(delays).toEqual([60, 300, 1800, 7200, 43200]);
    expect(await claim([id])).toHaveLength(0);
    const [n] = await sql()`select n.delivery_status, n.delivery_attempts from public.notifications n join public.notification_deliveries d on d.notification_id = n.id where d.id = ${id}`;
    expect(n).toMatchObject({ delivery_status: 'pending', delivery_attempts: 6 });
  });

  it('summarises the outcome on the notification', async () => {
    const u = await reachableUser();
    const deliveries = await dueDeliveries(u.id);
    const rows = await claim(Object.values(deliveries));
    const [{ nid }] = await sql()`select notification_id as nid from public.notification_deliveries where id = ${deliveries.push}`;
    await complete(rows[0].id, rows[0].claim_id, 'sent');
    await complete(rows[1].id, rows[1].claim_id, 'dead', 'no_active_devices');
    const [n] = await sql()`select delivery_status, delivery_attempts from public.notifications where id = ${nid}`;
    expect(n).toMatchObject({ delivery_status: 'sent', delivery_attempts: 2 });
    const [sent] = await sql()`select status, provider_message_id, sent_at from public.notification_deliveries where id = ${rows[0].id}`;
    expect(sent.status).toBe('sent');
    expect(sent.provider_message_id).toBe('msg-1');
    expect(sent.sent_at).not.toBeNull();
  });

  it('refuses an outcome from an attempt that no longer holds the row', async () => {
    const u = await reachableUser();
    const id = (await dueDeliveries(u.id)).email;
    const [first] = await claim([id], 10);
    // The first sender's lease ends (it died or hung); another claims the row.
    await sql()`update public.notification_deliveries set next_attempt_at = now() where id = ${id}`;
    const [second] = await claim([id]);
    expect(second.attempts).toBe(2);
    const late = await errorOf(complete(id, first.claim_id, 'sent'));
    expect(late.message).toBe('claim_lost');
    expect(await complete(id, second.claim_id, 'sent')).toBe('sent');
    expect((await errorOf(complete(id, second.claim_id, 'sent'))).message).toBe('claim_lost');
    expect((await errorOf(complete(randomUUID(), randomUUID(), 'sent'))).message).toBe('claim_lost');
  });

  it('is for service_role only, with bounded input', async () => {
    const u = await reachableUser();
    for (const run of [asAnon, (fn: Parameters<typeof asAnon>[0]) => asUser(u.id, fn)]) {
      expect((await errorOf(run((tx) => tx`select * from public.claim_notification_deliveries(10)`))).code).toBe('42501');
      expect((await errorOf(run((tx) => tx`select public.complete_notification_delivery(${randomUUID()}, ${randomUUID()}, 'sent')`))).code).toBe('42501');
      expect((await errorOf(run((tx) => tx`select public.deactivate_device_tokens(${[u.token]}, 'x')`))).code).toBe('42501');
    }
    expect((await errorOf(asService((tx) => tx`select * from public.claim_notification_deliveries(0)`))).message).toBe('invalid_limit');
    expect((await errorOf(asService((tx) => tx`select * from public.claim_notification_deliveries(10, null, 1)`))).message).toBe('invalid_lease');
    expect((await errorOf(asService((tx) => tx`select public.complete_notification_delivery(${randomUUID()}, ${randomUUID()}, 'maybe')`))).message).toBe('invalid_outcome');
  });
});

describe('device tokens', () => {
  it('registers, refreshes and unregisters the caller\'s device', async () => {
    const u = await createUser();
    const token = `tok_${randomUUID()}`;
    const [first] = await asUser(u.id, (tx) => tx`select * from public.register_device(${token}, 'ios')`);
    expect(first).toMatchObject({ user_id: u.id, token, platform: 'ios', active: true });
    const [again] = await asUser(u.id, (tx) => tx`select * from public.register_device(${token}, 'ios')`);
    expect(again.id).toBe(first.id);
    expect(again.created_at).toEqual(first.created_at);
    const [{ unregister_device: removed }] = await asUser(u.id, (tx) => tx`select public.unregister_device(${token})`);
    expect(removed).toBe(true);
    expect(await sql()`select 1 from public.device_tokens where token = ${token}`).toHaveLength(0);
  });

  it('moves a token another user had to the caller, and reactivates a deactivated one', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const token = await device(a.id);
    await asService((tx) => tx`select public.deactivate_device_tokens(${[token]}, 'messaging/invalid-registration-token')`);
    await asUser(b.id, (tx) => tx`select public.register_device(${token}, 'web')`);
    const rows = await sql()`select user_id, platform, active, deactivated_reason from public.device_tokens where token = ${token}`;
    expect(rows).toEqual([{ user_id: b.id, platform: 'web', active: true, deactivated_reason: null }]);
  });

  it('ends concurrent registrations of one token by several users with one owner', async () => {
    const users = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    const token = `tok_${randomUUID()}`;
    await Promise.all(users.map((u) => asUser(u.id, (tx) => tx`select public.register_device(${token}, 'android')`)));
    const rows = await sql()`select user_id from public.device_tokens where token = ${token}`;
    expect(rows).toHaveLength(1);
    expect(users.map((u) => u.id)).toContain(rows[0].user_id);
  });

  it('never lets a caller remove or change another user\'s device', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const token = await device(a.id);
    const [{ unregister_device: removed }] = await asUser(b.id, (tx) => tx`select public.unregister_device(${token})`);
    expect(removed).toBe(false);
    expect(await asUser(b.id, (tx) => tx`update public.device_tokens set active = false where token = ${token} returning 1`)).toHaveLength(0);
    expect(await asUser(b.id, (tx) => tx`select 1 from public.device_tokens where token = ${token}`)).toHaveLength(0);
    const [row] = await sql()`select user_id, active from public.device_tokens where token = ${token}`;
    expect(row).toEqual({ user_id: a.id, active: true });
  });

  it('refuses anonymous callers and malformed tokens or platforms with a clear error', async () => {
    const u = await createUser();
    expect((await errorOf(asAnon((tx) => tx`select public.register_device('tok_abcdefghijk', 'android')`))).code).toBe('42501');
    expect((await errorOf(asAnon((tx) => tx`select public.unregister_device('tok_abcdefghijk')`))).code).toBe('42501');
    for (const bad of ['short', "tok_abc'; drop table public.device_tokens; --", 'tok with spaces inside', 'x'.repeat(4097), null]) {
      const err = await errorOf(asUser(u.id, (tx) => tx`select public.register_device(${bad}, 'android')`));
      expect(err.message).toBe('invalid_token');
    }
    for (const bad of ['windows', 'ANDROID', '', null]) {
      const err = await errorOf(asUser(u.id, (tx) => tx`select public.register_device('tok_abcdefghijk', ${bad})`));
      expect(err.message).toBe('invalid_platform');
    }
    expect((await errorOf(asUser(u.id, (tx) => tx`select public.unregister_device(${'x'.repeat(4097)})`))).message).toBe('invalid_token');
    expect(await sql()`select 1 from public.device_tokens where user_id = ${u.id}`).toHaveLength(0);
  });
});
