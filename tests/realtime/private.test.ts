// Private channels (RLS on realtime.messages), broadcasts written by database
// triggers, and token refresh/expiry, through supabase-js.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { Inbox, realtimeClient, subscribe, subscribed, userToken } from './clients.ts';
import { realtimeFixtures } from './fixtures.ts';

beforeAll(() => realtimeFixtures());

async function member(topic: string, userId: string, canWrite = false) {
  await serviceSql()`insert into rt_fixture.topic_members (topic, user_id, can_write) values (${topic}, ${userId}, ${canWrite})`;
}

describe('private channels', () => {
  it('lets a member read, refuses a stranger, and only writers can send', async () => {
    const topic = `rtfx:kitchen:${randomUUID()}`;
    const [reader, writer, stranger] = [randomUUID(), randomUUID(), randomUUID()];
    await member(topic, reader);
    await member(topic, writer, true);

    const readerCh = realtimeClient({ accessToken: await userToken(reader) }).channel(topic, { config: { private: true } });
    const writerCh = realtimeClient({ accessToken: await userToken(writer) }).channel(topic, { config: { private: true, broadcast: { self: true, ack: true } } });
    const inbox = new Inbox();
    readerCh.on('broadcast', { event: '*' }, inbox.push);
    const writerInbox = new Inbox();
    writerCh.on('broadcast', { event: '*' }, writerInbox.push);
    await Promise.all([subscribed(readerCh), subscribed(writerCh)]);

    const refused = await subscribe(realtimeClient({ accessToken: await userToken(stranger) }).channel(topic, { config: { private: true } }));
    expect(refused.status).toBe('CHANNEL_ERROR');
    expect(refused.error?.message).toBe(`Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`);

    // The public channel of the same name is a different channel.
    const publicCh = realtimeClient({ accessToken: await userToken(stranger) }).channel(topic);
    const publicInbox = new Inbox();
    publicCh.on('broadcast', { event: '*' }, publicInbox.push);
    await subscribed(publicCh);

    // The reader may not write: dropped, so the writer's later message is the first anyone sees.
    await readerCh.send({ type: 'broadcast', event: 'from-reader', payload: {} });
    expect(await writerCh.send({ type: 'broadcast', event: 'from-writer', payload: { ok: true } })).toBe('ok');
    expect((await inbox.next(1)).map((m) => m.event)).toEqual(['from-writer']);
    expect((await writerInbox.next(1)).map((m) => m.event)).toEqual(['from-writer']);
    await publicCh.send({ type: 'broadcast', event: 'public-fence', payload: {} });
    expect(publicInbox.items).toEqual([]);
  });

  it('lets only members with the write policy track presence on a private topic', async () => {
    const topic = `rtfx:kitchen:${randomUUID()}`;
    const [reader, writer] = [randomUUID(), randomUUID()];
    await member(topic, reader);
    await member(topic, writer, true);
    const readerCh = realtimeClient({ accessToken: await userToken(reader) }).channel(topic, { config: { private: true, presence: { key: 'reader' } } });
    const writerCh = realtimeClient({ accessToken: await userToken(writer) }).channel(topic, { config: { private: true, presence: { key: 'writer' } } });
    const joins = new Inbox();
    readerCh.on('presence', { event: 'join' }, joins.push);
    await Promise.all([subscribed(readerCh), subscribed(writerCh)]);
    expect(await readerCh.track({ at: 'pass' })).toBe('error');
    expect(await writerCh.track({ at: 'stove' })).toBe('ok');
    const [join] = await joins.next(1);
    expect(join.key).toBe('writer');
    expect(Object.keys(readerCh.presenceState())).toEqual(['writer']);
  });

  it("delivers a trigger's realtime.send to the right user's private topic and not to another's", async () => {
    const [ada, bola] = [randomUUID(), randomUUID()];
    const adaCh = realtimeClient({ accessToken: await userToken(ada) }).channel(`rtfx:user:${ada}`, { config: { private: true } });
    const bolaCh = realtimeClient({ accessToken: await userToken(bola) }).channel(`rtfx:user:${bola}`, { config: { private: true } });
    const adaInbox = new Inbox();
    const bolaInbox = new Inbox();
    adaCh.on('broadcast', { event: 'delivery' }, adaInbox.push);
    bolaCh.on('broadcast', { event: 'delivery' }, bolaInbox.push);
    await Promise.all([subscribed(adaCh), subscribed(bolaCh)]);

    // Bola may not even join Ada's topic.
    const peek = await subscribe(realtimeClient({ accessToken: await userToken(bola) }).channel(`rtfx:user:${ada}`, { config: { private: true } }));
    expect(peek.status).toBe('CHANNEL_ERROR');

    const sql = serviceSql();
    await sql`insert into rt_fixture.deliveries (user_id, note) values (${ada}, 'first for ada')`;
    await sql.begin(async (tx) => {
      await tx`insert into rt_fixture.deliveries (user_id, note) values (${ada}, 'second for ada')`;
      await tx`insert into rt_fixture.deliveries (user_id, note) values (${bola}, 'for bola')`;
    });
    const got = await adaInbox.next(2);
    expect(got.map((m) => m.payload.note)).toEqual(['first for ada', 'second for ada']);
    expect(got[0].meta?.id ?? got[0].payload.id).toEqual(expect.any(String));
    const bolaGot = await bolaInbox.next(1);
    expect(bolaGot.map((m) => m.payload.note)).toEqual(['for bola']);
    expect(adaInbox.items).toHaveLength(2);

    // realtime.broadcast_changes(), the trigger helper, lands the same way.
    const changes = new Inbox();
    adaCh.on('broadcast', { event: 'row_changed' }, changes.push);
    await sql`select realtime.broadcast_changes(${`rtfx:user:${ada}`}, 'row_changed', 'INSERT', 'deliveries', 'rt_fixture', d, null::record)
              from rt_fixture.deliveries d where d.user_id = ${ada} and d.note = 'first for ada'`;
    const [row] = await changes.next(1);
    expect(row.payload).toMatchObject({ operation: 'INSERT', table: 'deliveries', schema: 'rt_fixture', record: { user_id: ada, note: 'first for ada' }, old_record: null });
  });

  it('closes the channel when a refreshed token no longer grants access', async () => {
    const topic = `rtfx:kitchen:${randomUUID()}`;
    const user = randomUUID();
    await member(topic, user);
    const client = realtimeClient({ accessToken: await userToken(user) });
    const channel = client.channel(topic, { config: { private: true } });
    const system = new Inbox();
    channel.on('system', {}, system.push);
    const statuses = new Inbox<string>();
    channel.subscribe((status) => statuses.push(status));
    await statuses.until((s) => s.includes('SUBSCRIBED'));

    await serviceSql()`delete from rt_fixture.topic_members where topic = ${topic}`;
    await client.realtime.setAuth(await userToken(user, 7200));
    const [message] = await system.next(1);
    expect(message).toEqual({ extension: 'system', status: 'error', message: `You no longer have permission to read from this Channel topic: ${topic}`, channel: topic });
    await statuses.until((s) => s.includes('CLOSED'));
  });

  it('closes the channel when its token expires, with the system message Realtime sends', async () => {
    const channel = realtimeClient({ accessToken: await userToken(randomUUID(), 2) }).channel(`public-${randomUUID()}`);
    const system = new Inbox();
    channel.on('system', {}, system.push);
    await subscribed(channel);
    const [message] = await system.next(1);
    expect(message.status).toBe('error');
    expect(message.message).toMatch(/^Token has expired \d+ seconds ago$/);
  });

  it('refuses a join with an expired or forged token', async () => {
    const expired = await subscribe(realtimeClient({ accessToken: await userToken(randomUUID(), -10) }).channel('anything'));
    expect(expired.error?.message).toMatch(/^InvalidJWTToken: Token has expired \d+ seconds ago$/);
    const forged = (await userToken(randomUUID())).slice(0, -4) + 'AAAA';
    const bad = await subscribe(realtimeClient({ accessToken: forged }).channel('anything'));
    expect(bad.error?.message).toBe('JwtSignatureError: Failed to validate JWT signature');
  });
});
