// Broadcast and presence through supabase-js, several clients at once; and the
// protocol's robustness against bad frames, seen through a raw WebSocket.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stackEnv } from '../helpers/env.ts';
import { Inbox, realtimeClient, subscribed } from './clients.ts';

const topic = () => `room-${randomUUID()}`;

describe('broadcast', () => {
  it('delivers to the other subscribers, to the sender only with self, and acks with ack', async () => {
    const name = topic();
    const a = realtimeClient().channel(name, { config: { broadcast: { self: false, ack: true } } });
    const b = realtimeClient().channel(name, { config: { broadcast: { self: true } } });
    const aInbox = new Inbox();
    const bInbox = new Inbox();
    a.on('broadcast', { event: '*' }, aInbox.push);
    b.on('broadcast', { event: '*' }, bInbox.push);
    await Promise.all([subscribed(a), subscribed(b)]);

    expect(await a.send({ type: 'broadcast', event: 'hello', payload: { n: 1, text: 'ẹ kú àárọ̀' } })).toBe('ok');
    const [first] = await bInbox.next(1);
    expect(first).toMatchObject({ type: 'broadcast', event: 'hello', payload: { n: 1, text: 'ẹ kú àárọ̀' } });

    // b has self: it hears its own message; a (no self) hears it once, and never its own.
    await b.send({ type: 'broadcast', event: 'fence', payload: {} });
    await bInbox.next(2);
    const heard = await aInbox.next(1);
    expect(heard.map((m) => m.event)).toEqual(['fence']);
  });

  it('speaks the 1.0.0 JSON serializer as well as 2.0.0', async () => {
    const name = topic();
    const v1 = realtimeClient({ vsn: '1.0.0' }).channel(name);
    const v2 = realtimeClient().channel(name);
    const v1Inbox = new Inbox();
    const v2Inbox = new Inbox();
    v1.on('broadcast', { event: 'ping' }, v1Inbox.push);
    v2.on('broadcast', { event: 'pong' }, v2Inbox.push);
    await Promise.all([subscribed(v1), subscribed(v2)]);
    await v2.send({ type: 'broadcast', event: 'ping', payload: { from: 'v2' } });
    expect((await v1Inbox.next(1))[0].payload).toEqual({ from: 'v2' });
    await v1.send({ type: 'broadcast', event: 'pong', payload: { from: 'v1' } });
    expect((await v2Inbox.next(1))[0].payload).toEqual({ from: 'v1' });
  });

  it('delivers REST broadcasts (send() before subscribing, and httpSend) to subscribers', async () => {
    const name = topic();
    const listener = realtimeClient().channel(name);
    const inbox = new Inbox();
    listener.on('broadcast', { event: '*' }, inbox.push);
    await subscribed(listener);

    const sender = realtimeClient().channel(name);
    expect(await sender.send({ type: 'broadcast', event: 'rest', payload: { via: 'api/broadcast' } })).toBe('ok');
    expect(await sender.httpSend('single', { via: 'events endpoint' })).toEqual({ success: true });
    const got = await inbox.next(2);
    expect(got.map((m) => [m.event, m.payload])).toEqual([
      ['rest', { via: 'api/broadcast' }],
      ['single', { via: 'events endpoint' }],
    ]);

    const bad = await fetch(`${stackEnv().url}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: { apikey: stackEnv().anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ topic: name }] }),
    });
    expect(bad.status).toBe(422);
  });
});

describe('presence', () => {
  it('syncs state, announces joins and leaves, and cleans up when a socket drops', async () => {
    const name = topic();
    const aClient = realtimeClient();
    const bClient = realtimeClient();
    const a = aClient.channel(name, { config: { presence: { key: 'ada' } } });
    const b = bClient.channel(name, { config: { presence: { key: 'bola' } } });
    const aJoins = new Inbox();
    const aLeaves = new Inbox();
    a.on('presence', { event: 'join' }, aJoins.push).on('presence', { event: 'leave' }, aLeaves.push);
    b.on('presence', { event: 'sync' }, () => {});
    await subscribed(a);
    await a.track({ status: 'online' });
    await subscribed(b);
    await b.track({ status: 'away' });

    await aJoins.until((js) => js.some((j) => j.key === 'bola'));
    expect(Object.keys(a.presenceState()).sort()).toEqual(['ada', 'bola']);
    expect(a.presenceState().bola[0]).toMatchObject({ status: 'away' });
    expect(a.presenceState().bola[0].presence_ref).toEqual(expect.any(String));

    // b's socket goes away without leaving: its presence is removed for a.
    await bClient.realtime.disconnect();
    const leaves = await aLeaves.until((ls) => ls.some((l) => l.key === 'bola'));
    expect(leaves.find((l) => l.key === 'bola').leftPresences[0]).toMatchObject({ status: 'away' });
    expect(Object.keys(a.presenceState())).toEqual(['ada']);
  });
});

describe('protocol errors', () => {
  function rawSocket(vsn = '2.0.0'): Promise<{ ws: WebSocket; inbox: Inbox<any>; closed: Promise<number> }> {
    const env = stackEnv();
    const ws = new WebSocket(`${env.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${env.anonKey}&vsn=${vsn}`);
    const inbox = new Inbox<any>();
    ws.on('message', (data, isBinary) => inbox.push(isBinary ? data : JSON.parse(String(data))));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, inbox, closed }));
      ws.once('error', reject);
    });
  }

  it('answers malformed frames, unknown topics and unjoined pushes with errors and keeps serving', async () => {
    const { ws, inbox } = await rawSocket();
    ws.send('not json');
    ws.send(JSON.stringify({ topic: 'x' }));
    ws.send(Buffer.from([9, 9, 9]));
    ws.send(JSON.stringify(['1', '1', 'elsewhere', 'phx_join', {}]));
    ws.send(JSON.stringify([null, '2', 'realtime:never-joined', 'broadcast', { type: 'broadcast', event: 'x', payload: {} }]));
    ws.send(JSON.stringify(['3', '3', 'realtime:', 'phx_join', {}]));
    ws.send(JSON.stringify([null, '4', 'phoenix', 'heartbeat', {}]));
    const frames = await inbox.until((fs) => ['1', '2', '3', '4'].every((ref) => fs.some((f) => f[1] === ref)) && fs.filter((f) => f[3] === 'phx_error').length === 3);
    expect(frames.filter((f) => f[3] === 'phx_error' && f[2] === 'phoenix')).toHaveLength(3);
    expect(frames.find((f) => f[1] === '1')[4]).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    expect(frames.find((f) => f[1] === '2')[4]).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    expect(frames.find((f) => f[1] === '3')[4]).toEqual({ status: 'error', response: { reason: 'TopicNameRequired: You must provide a topic name' } });
    expect(frames.find((f) => f[1] === '4')[4]).toEqual({ status: 'ok', response: {} });
    ws.close();
  });

  it('refuses oversized payloads: an ack error for a large broadcast, a close for a huge frame', async () => {
    const { ws, inbox, closed } = await rawSocket();
    ws.send(JSON.stringify(['1', '1', 'realtime:big', 'phx_join', { config: { broadcast: { ack: true } } }]));
    await inbox.until((fs) => fs.some((f) => f[1] === '1'));
    ws.send(JSON.stringify(['1', '2', 'realtime:big', 'broadcast', { type: 'broadcast', event: 'x', payload: { blob: 'x'.repeat(3000 * 1024) } }]));
    const frames = await inbox.until((fs) => fs.some((f) => f[1] === '2'));
    expect(frames.find((f) => f[1] === '2')[4]).toEqual({ status: 'error', response: { reason: 'payload_size_exceeded' } });
    // ws closes with 1009; the client may see 1006 when the close races its own upload.
    ws.send('x'.repeat(4 << 20));
    expect([1009, 1006]).toContain(await closed);

    // The server is still there for everyone else.
    const { ws: other, inbox: otherInbox } = await rawSocket('1.0.0');
    other.send(JSON.stringify({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '9' }));
    const [reply] = await otherInbox.next(1);
    expect(reply).toMatchObject({ topic: 'phoenix', event: 'phx_reply', ref: '9', payload: { status: 'ok' } });
    other.close();
  });
});
