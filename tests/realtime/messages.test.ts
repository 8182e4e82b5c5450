// realtime.messages as on Supabase: partitioned by day and kept by the janitor,
// binary messages (realtime.send_binary) stored, delivered and replayed, the
// `replication_ready` join option, and the binary frames current clients send.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { maintainMessagePartitions } from '../../stack/services/realtime/janitor.ts';
import { platformSql, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { Inbox, realtimeClient, subscribed, userToken } from './clients.ts';
import { realtimeFixtures } from './fixtures.ts';

beforeAll(() => realtimeFixtures());

const DAY_MS = 24 * 60 * 60_000;
const utcDay = (offsetDays: number, from = Date.now()) => {
  const d = new Date(from);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + offsetDays * DAY_MS);
};
const partitionOf = (day: Date) => `messages_${day.toISOString().slice(0, 10).replaceAll('-', '_')}`;

/** A user's private topic, readable by that user through the fixture's policy. */
async function privateListener(options: { vsn?: string } = {}) {
  const user = randomUUID();
  const topic = `rtfx:user:${user}`;
  const channel = realtimeClient({ accessToken: await userToken(user), ...options }).channel(topic, { config: { private: true } });
  const inbox = new Inbox();
  channel.on('broadcast', { event: '*' }, inbox.push);
  await subscribed(channel);
  return { topic, inbox };
}

describe('realtime.messages', () => {
  it('is partitioned by day on inserted_at, owned by supabase_realtime_admin, with binary_payload', async () => {
    const sql = serviceSql();
    const [table] = await sql`
      select c.relowner::regrole::text as owner, p.partstrat,
             (select array_agg(a.attname::text) from pg_attribute a where a.attrelid = c.oid and a.attnum = any(p.partattrs)) as keys,
             (select format_type(atttypid, atttypmod) from pg_attribute where attrelid = c.oid and attname = 'binary_payload') as binary_type,
             (select pg_get_constraintdef(oid) from pg_constraint where conrelid = c.oid and conname = 'messages_payload_exclusive') as exclusive
      from pg_class c join pg_partitioned_table p on p.partrelid = c.oid
      where c.oid = 'realtime.messages'::regclass`;
    expect(table).toEqual({ owner: 'supabase_realtime_admin', partstrat: 'r', keys: ['inserted_at'], binary_type: 'bytea', exclusive: 'CHECK (((payload IS NULL) OR (binary_payload IS NULL))) NOT VALID' });
    const partitions = await sql`
      select c.relname::text as name, c.relowner::regrole::text as owner, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'realtime.messages'::regclass`;
    for (let d = -1; d <= 3; d++) {
      const day = utcDay(d);
      expect(partitions).toContainEqual({
        name: partitionOf(day),
        owner: 'supabase_realtime_admin',
        bound: `FOR VALUES FROM ('${day.toISOString().slice(0, 10)} 00:00:00') TO ('${utcDay(d + 1).toISOString().slice(0, 10)} 00:00:00')`,
      });
    }
    // A message is one or the other: JSON payload or bytes.
    await expect(sql`insert into realtime.messages (topic, extension, payload, binary_payload) values ('x', 'broadcast', '{}', '\\x00')`).rejects.toMatchObject({ code: '23514' });
  });

  it('delivers a message sent just after midnight UTC, from the partition of the new day', async () => {
    const { topic, inbox } = await privateListener();
    const justAfterMidnight = new Date(utcDay(1).getTime() + 1000);
    const [row] = await serviceSql()`
      insert into realtime.messages (topic, extension, event, payload, private, inserted_at)
      values (${topic}, 'broadcast', 'midnight', '{"n": 1}', true, ${justAfterMidnight.toISOString().replace('Z', '')}::timestamp)
      returning id, tableoid::regclass::text as partition`;
    expect(row.partition).toBe(`realtime.${partitionOf(utcDay(1))}`);
    const [message] = await inbox.next(1);
    expect(message).toMatchObject({ event: 'midnight', payload: { n: 1 }, meta: { id: row.id } });
  });

  it.runIf(stackEnv().embedded)('janitor: drops partitions older than 72 hours and keeps yesterday to today+3 as days pass', async () => {
    // The janitor is the platform's (Realtime's), as is creating partitions: postgres may not.
    const sql = platformSql();
    await sql`create table if not exists realtime.messages_2020_01_01 partition of realtime.messages for values from ('2020-01-01') to ('2020-01-02')`;
    // Just after the next midnight: the new day's window reaches one day further.
    const tomorrow = new Date(utcDay(1).getTime() + 1000);
    await maintainMessagePartitions(sql, tomorrow);
    const names = (await sql`select c.relname::text as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'realtime.messages'::regclass`).map((r) => r.name);
    expect(names).not.toContain('messages_2020_01_01');
    for (let d = 0; d <= 4; d++) expect(names).toContain(partitionOf(utcDay(d)));
    // Today's own run changes nothing that exists (its window is a subset).
    await maintainMessagePartitions(sql);
    const after = (await sql`select c.relname::text as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'realtime.messages'::regclass`).map((r) => r.name);
    expect(after.sort()).toEqual(names.sort());
  });
});

describe('realtime.send_binary', () => {
  it('stores the bytes, delivers them as a binary broadcast, and skips 1.0.0 clients', async () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    const v2 = await privateListener();
    const sql = serviceSql();
    await sql`select realtime.send_binary(${bytes}, 'blob', ${v2.topic}, true)`;
    const [message] = await v2.inbox.next(1);
    expect(message.event).toBe('blob');
    expect(Buffer.from(new Uint8Array(message.payload))).toEqual(bytes);
    const [stored] = await sql`select binary_payload, payload, private, extension from realtime.messages where id = ${message.meta.id}`;
    expect(stored).toEqual({ binary_payload: bytes, payload: null, private: true, extension: 'broadcast' });

    // Realtime cannot turn bytes into a 1.0.0 JSON frame, so such a client gets only JSON messages.
    const v1 = await privateListener({ vsn: '1.0.0' });
    await sql`select realtime.send_binary(${bytes}, 'blob', ${v1.topic}, true)`;
    await sql`select realtime.send('{"after": "blob"}', 'json', ${v1.topic}, true)`;
    const got = await v1.inbox.next(1);
    expect(got.map((m) => m.event)).toEqual(['json']);
  });

  it('warns instead of failing the caller when the message cannot be written, as send() does', async () => {
    const sql = serviceSql();
    const event = randomUUID();
    // No topic: the row violates topic's not-null, and the caller's statement still succeeds.
    await expect(sql`select realtime.send_binary('\\x01', ${event}, null)`).resolves.toHaveLength(1);
    expect(await sql`select 1 from realtime.messages where event = ${event}`).toHaveLength(0);
  });
});

describe('replication_ready', () => {
  it('sends the system message once the change feed is live, only to channels that ask', async () => {
    const name = `ready-${randomUUID()}`;
    const asking = realtimeClient().channel(name, { config: { broadcast: { replication_ready: true } } } as never);
    const quiet = realtimeClient().channel(name, { config: { broadcast: { self: true } } });
    const askingSystem = new Inbox();
    const quietSystem = new Inbox();
    asking.on('system', {}, askingSystem.push);
    quiet.on('system', {}, quietSystem.push);
    const fence = new Inbox();
    quiet.on('broadcast', { event: 'fence' }, fence.push);
    await Promise.all([subscribed(asking), subscribed(quiet)]);
    const [message] = await askingSystem.next(1);
    expect(message).toEqual({ extension: 'system', status: 'ok', message: 'Replication connection established', channel: name });
    // Frames of one socket arrive in order: after its own broadcast, the quiet channel has had everything of its join.
    await quiet.send({ type: 'broadcast', event: 'fence', payload: {} });
    await fence.next(1);
    expect(quietSystem.items).toEqual([]);
  });
});

describe('binary frames of current clients', () => {
  /** A "user broadcast push" (kind 3) as realtime-js 2.119 encodes it: UTF-8 byte lengths, `persist` in the metadata. */
  function userBroadcastPush(joinRef: string, topic: string, event: string, metadata: string, payload: Buffer, json: boolean): Buffer {
    const parts = [joinRef, '2', topic, event, metadata].map((s) => Buffer.from(s, 'utf8'));
    return Buffer.concat([Buffer.from([3, ...parts.map((p) => p.length), json ? 1 : 0]), ...parts, payload]);
  }

  it('accepts multi-byte topics and events and send options in the metadata, which receivers do not get', async () => {
    const name = `kitchen-ọ̀yọ́-${randomUUID()}`;
    const receiver = realtimeClient().channel(name);
    const inbox = new Inbox();
    receiver.on('broadcast', { event: '*' }, inbox.push);
    await subscribed(receiver);

    const env = stackEnv();
    const ws = new WebSocket(`${env.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${env.anonKey}&vsn=2.0.0`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const replies = new Inbox<any>();
    ws.on('message', (data, isBinary) => replies.push(isBinary ? data : JSON.parse(String(data))));
    ws.send(JSON.stringify(['1', '1', `realtime:${name}`, 'phx_join', { config: { broadcast: { ack: true } } }]));
    await replies.until((fs) => fs.some((f) => f[1] === '1'));
    ws.send(userBroadcastPush('1', `realtime:${name}`, 'ẹ̀bẹ̀', '{"persist":true}', Buffer.from(JSON.stringify({ dish: 'àmàlà' })), true));
    ws.send(userBroadcastPush('1', `realtime:${name}`, 'bytes', '{"persist":true}', Buffer.from([1, 2, 3]), false));
    const [json, binary] = await inbox.next(2);
    expect(json).toEqual({ type: 'broadcast', event: 'ẹ̀bẹ̀', payload: { dish: 'àmàlà' } });
    expect(binary.event).toBe('bytes');
    expect(Buffer.from(new Uint8Array(binary.payload))).toEqual(Buffer.from([1, 2, 3]));
    expect(binary.meta).toBeUndefined();
    ws.close();
  });
});
