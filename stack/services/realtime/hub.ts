// The shared state of the Realtime service: which channels listen on which
// topic, presence per topic, and delivery of broadcasts (from clients, from the
// REST endpoint, and from realtime.messages rows in commit order).
import type postgres from 'postgres';
import type { StackConfig } from '../../config.ts';
import type { Channel, Connection } from './channel.ts';
import type { ChangeDispatcher } from './changes.ts';
import { TopicPresence, type PresenceDiff } from './presence.ts';
import type { Transaction } from './replication.ts';
import { encodeBroadcast, type UserBroadcast, type Vsn } from './serializer.ts';

export class Hub {
  readonly connections = new Set<Connection>();
  private topics = new Map<string, Set<Channel>>();
  private presence = new Map<string, TopicPresence>();

  constructor(
    readonly config: StackConfig,
    readonly sql: postgres.Sql,
    readonly changes: ChangeDispatcher,
    readonly maxPayloadBytes: number,
    readonly log: (line: string) => void,
  ) {}

  subscribe(channel: Channel): void {
    let set = this.topics.get(channel.hubTopic);
    if (!set) this.topics.set(channel.hubTopic, (set = new Set()));
    set.add(channel);
  }

  unsubscribe(channel: Channel): void {
    this.untrack(channel);
    const set = this.topics.get(channel.hubTopic);
    set?.delete(channel);
    if (set?.size === 0) this.topics.delete(channel.hubTopic);
  }

  /** Sends to every channel on the topic allowed to read broadcasts, except `except`. */
  broadcast(hubTopic: string, b: UserBroadcast, except: Channel | null): void {
    // Every channel of a topic gets the same bytes per serializer: encode once.
    const frames = new Map<Vsn, string | Buffer>();
    for (const channel of this.topics.get(hubTopic) ?? []) {
      if (channel === except || !channel.canRead('broadcast')) continue;
      const vsn = channel.conn.vsn;
      let frame = frames.get(vsn);
      if (frame === undefined) frames.set(vsn, (frame = encodeBroadcast(channel.topic, b, vsn)));
      channel.conn.send(frame);
    }
  }

  presenceOf(hubTopic: string): TopicPresence {
    let p = this.presence.get(hubTopic);
    if (!p) this.presence.set(hubTopic, (p = new TopicPresence()));
    return p;
  }

  track(channel: Channel, payload: Record<string, unknown>): void {
    this.presenceDiff(channel.hubTopic, this.presenceOf(channel.hubTopic).track(channel, channel.presenceKey, payload));
  }

  untrack(channel: Channel): void {
    const p = this.presence.get(channel.hubTopic);
    const diff = p?.untrack(channel);
    if (p && p.size === 0) this.presence.delete(channel.hubTopic);
    if (diff) this.presenceDiff(channel.hubTopic, diff);
  }

  private presenceDiff(hubTopic: string, diff: PresenceDiff): void {
    for (const channel of this.topics.get(hubTopic) ?? []) {
      if (channel.presenceEnabled && channel.canRead('presence')) channel.pushToClient('presence_diff', diff);
    }
  }

  /** Broadcast messages written to realtime.messages, then postgres_changes, in commit order. */
  async onTransactions(txs: Transaction[]): Promise<void> {
    for (const tx of txs) {
      for (const change of tx.changes) {
        const { relation, record } = change;
        if (relation.schema !== 'realtime' || relation.table !== 'messages' || change.type !== 'INSERT' || !record) continue;
        if (record.extension !== 'broadcast' || record.event === null || record.topic === null) continue;
        const hubTopic = `${record.private === 't' ? 'private' : 'public'}:${record.topic}`;
        this.broadcast(hubTopic, { event: record.event, body: record.payload ?? '{}', meta: { id: record.id } }, null);
      }
    }
    await this.changes.dispatch(txs);
  }

  /** Realtime's replay for private channels: up to 25 stored messages since `since` (ms). */
  async replay(channel: Channel, since: number, limit: number): Promise<void> {
    const n = Math.max(1, Math.min(25, Math.floor(limit)));
    const rows = await this.sql`
      select id, event, payload::text as payload from (
        select id, event, payload, inserted_at from realtime.messages
        where topic = ${channel.subTopic} and private and extension = 'broadcast'
          and inserted_at >= to_timestamp(${since / 1000}) at time zone 'UTC'
          and inserted_at < now() at time zone 'UTC' + interval '1 minute'
        order by inserted_at desc limit ${n}) m
      order by inserted_at`;
    for (const r of rows) channel.sendBroadcast({ event: r.event ?? '', body: r.payload ?? '{}', meta: { replayed: true, id: r.id } });
  }
}
