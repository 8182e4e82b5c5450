// Realtime's per-client limits (issue 13, finding 11): channels per client, joins
// per second, messages per second, presence calls and bindings per join, each
// answered with Realtime's text; a join flood on one socket delays nobody else.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCustomer } from '../db/fixtures.ts';
import { stackEnv } from '../helpers/env.ts';
import { Inbox, realtimeClient, subscribed, userToken } from './clients.ts';

interface Frame {
  topic: string;
  event: string;
  payload: any;
  ref: string | null;
  join_ref?: string | null;
}

/** A raw Phoenix socket (vsn 1.0.0), as a hostile client would drive it. */
async function rawSocket(): Promise<{ ws: WebSocket; frames: Inbox<Frame>; closed: Promise<void>; send: (f: Frame) => void }> {
  const env = stackEnv();
  const ws = new WebSocket(`${env.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${env.anonKey}&vsn=1.0.0`);
  const frames = new Inbox<Frame>();
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, frames, closed, send: (f) => ws.send(JSON.stringify({ join_ref: f.ref, ...f })) };
}

const joinReplies = (frames: Frame[]) => frames.filter((f) => f.event === 'phx_reply' && f.topic !== 'phoenix');
const reasons = (frames: Frame[]) => frames.map((f) => f.payload?.response?.reason).filter(Boolean);

describe.runIf(stackEnv().embedded)('Realtime limits (finding 11)', () => {
  it("a flood of 1,500 private joins is cut off with Realtime's error and delays no other user's join", async () => {
    const attacker = await createCustomer();
    const victim = await createCustomer();
    const token = await userToken(attacker.id);
    const raw = await rawSocket();
    for (let i = 0; i < 1500; i++) {
      raw.send({ topic: `realtime:order:${crypto.randomUUID()}`, event: 'phx_join', payload: { config: { private: true }, access_token: token }, ref: String(i) });
    }
    raw.send({
      topic: 'realtime:bindings', event: 'phx_join', ref: 'b',
      payload: { config: { postgres_changes: Array.from({ length: 2000 }, (_, i) => ({ event: '*', schema: 'public', table: 'orders', filter: `number=eq.${i}` })) }, access_token: token },
    });
    const channel = (realtimeClient({ accessToken: await userToken(victim.id) })).channel(`user:${victim.id}`, { config: { private: true } });
    await subscribed(channel);
    // The victim's join did not wait behind the attacker's: most of those were not worked on yet.
    expect(joinReplies(raw.frames.items).length).toBeLessThan(100);
    // The flood goes on: once the average over Realtime's 5 s ticks is past 100 joins per second, the socket is cut off.
    let n = 0;
    const more = setInterval(() => {
      if (raw.ws.readyState !== WebSocket.OPEN) return;
      for (let i = 0; i < 100; i++) raw.send({ topic: `realtime:more-${n++}`, event: 'phx_join', payload: { config: {} }, ref: `m${n}` });
    }, 250);
    await raw.closed;
    clearInterval(more);
    expect(reasons(raw.frames.items)).toContain('ClientJoinRateLimitReached: Too many joins per second');
  }, 30_000);

  it('refuses a join with more than 100 postgres_changes bindings', async () => {
    const raw = await rawSocket();
    raw.send({
      topic: 'realtime:many-bindings', event: 'phx_join', ref: '1',
      payload: { config: { postgres_changes: Array.from({ length: 101 }, () => ({ event: '*', schema: 'public', table: 'orders' })) } },
    });
    const [reply] = await raw.frames.until((fs) => joinReplies(fs).length > 0);
    expect(reply.payload).toEqual({ status: 'error', response: { reason: 'InvalidJoinPayload: at most 100 postgres_changes bindings per channel' } });
    raw.ws.close();
  });

  it('refuses a 101st channel on one socket: ChannelRateLimitReached', async () => {
    const raw = await rawSocket();
    const join = (i: number) => raw.send({ topic: `realtime:room-${i}`, event: 'phx_join', payload: { config: {} }, ref: String(i) });
    // Under 100 joins per second, so only the channel count applies.
    for (let i = 0; i < 60; i++) join(i);
    await raw.frames.until((fs) => joinReplies(fs).length === 60);
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 60; i < 101; i++) join(i);
    const replies = joinReplies(await raw.frames.until((fs) => joinReplies(fs).length === 101));
    expect(replies.filter((r) => r.payload.status === 'ok')).toHaveLength(100);
    expect(replies.find((r) => r.topic === 'realtime:room-100')!.payload.response).toEqual({ reason: 'ChannelRateLimitReached: Too many channels' });
    raw.ws.close();
  });

  it('lets a burst through, and closes a channel that keeps sending more than 100 messages per second: "Too many messages per second"', async () => {
    const raw = await rawSocket();
    raw.send({ topic: 'realtime:chatty', event: 'phx_join', payload: { config: { broadcast: { ack: true } } }, ref: 'j' });
    await raw.frames.until((fs) => joinReplies(fs).length === 1);
    let i = 0;
    const burst = () => {
      for (let k = 0; k < 50; k++, i++) raw.send({ topic: 'realtime:chatty', event: 'broadcast', payload: { event: 'm', payload: { i } }, ref: String(i), join_ref: 'j' });
    };
    // 250 at once are acked: Realtime judges the average, not a burst.
    for (let k = 0; k < 5; k++) burst();
    await raw.frames.until((fs) => joinReplies(fs).length === 251);
    expect(raw.frames.items.some((f) => f.event === 'phx_close')).toBe(false);
    // 500 a second for longer than a tick is not.
    const flood = setInterval(burst, 100);
    const frames = await raw.frames.until((fs) => fs.some((f) => f.event === 'phx_close'));
    clearInterval(flood);
    expect(frames.find((f) => f.event === 'system')!.payload).toMatchObject({ status: 'error', message: 'Too many messages per second' });
    raw.ws.close();
  });

  it('closes a channel after more than 5 presence calls in 30 s: "Client presence rate limit exceeded"', async () => {
    const raw = await rawSocket();
    raw.send({ topic: 'realtime:lobby', event: 'phx_join', payload: { config: { presence: { key: 'me' } } }, ref: 'j' });
    await raw.frames.until((fs) => joinReplies(fs).length === 1);
    for (let i = 0; i < 6; i++) raw.send({ topic: 'realtime:lobby', event: 'presence', payload: { type: 'presence', event: 'track', payload: { i } }, ref: String(i), join_ref: 'j' });
    const frames = await raw.frames.until((fs) => fs.some((f) => f.event === 'phx_close'));
    expect(frames.find((f) => f.event === 'system')!.payload).toMatchObject({ status: 'error', message: 'Client presence rate limit exceeded' });
    expect(joinReplies(frames).filter((r) => r.payload.status === 'ok')).toHaveLength(6); // the join and 5 tracks
    raw.ws.close();
  });
});
