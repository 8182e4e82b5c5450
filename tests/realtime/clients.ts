// supabase-js clients for Realtime tests, and small waiting helpers (bounded by
// the test timeout, never by sleeps).
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import { afterAll } from 'vitest';
import { testClient, userAccessToken } from '../helpers/supabase.ts';

const open: SupabaseClient[] = [];
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.removeAllChannels()));
});

/** A client as an app builds it; `accessToken` makes Realtime act as that user. */
export function realtimeClient(options: { accessToken?: string; url?: string; vsn?: string } = {}): SupabaseClient {
  const client = testClient({ url: options.url, realtime: options.vsn ? { vsn: options.vsn } : {} });
  if (options.accessToken) client.realtime.setAuth(options.accessToken);
  open.push(client);
  return client;
}

/** An access token for a user, as Auth would issue it. */
export function userToken(userId: string, expiresInSeconds = 3600): Promise<string> {
  return userAccessToken(userId, {}, expiresInSeconds);
}

/** Subscribes and resolves with the final status (SUBSCRIBED, or the error). */
export function subscribe(channel: RealtimeChannel): Promise<{ status: string; error?: Error }> {
  return new Promise((resolve) => {
    channel.subscribe((status, error) => resolve({ status, error }));
  });
}

export async function subscribed(channel: RealtimeChannel): Promise<RealtimeChannel> {
  const { status, error } = await subscribe(channel);
  if (status !== 'SUBSCRIBED') throw new Error(`channel ${channel.topic}: ${status} ${error?.message ?? ''}`);
  return channel;
}

/** Collects values pushed by a callback; `next(n)` waits until n have arrived. */
export class Inbox<T = any> {
  readonly items: T[] = [];
  private waiters: Array<() => void> = [];
  push = (item: T): void => {
    this.items.push(item);
    for (const w of this.waiters.splice(0)) w();
  };
  async next(count = this.items.length + 1): Promise<T[]> {
    while (this.items.length < count) await new Promise<void>((r) => this.waiters.push(r));
    return this.items;
  }
  async until(pred: (items: T[]) => boolean): Promise<T[]> {
    while (!pred(this.items)) await new Promise<void>((r) => this.waiters.push(r));
    return this.items;
  }
}
