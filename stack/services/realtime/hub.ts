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
  /** Whether the change feed is connected (for `broadcast.replication_ready`); set by the service. */
  replicationLive: () => boolean = () => true;

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
    const frames = new Map<Vsn, string | Buffer | null>();
    const id = b.meta?.id === undefined ? null : String(b.meta.id);
    for (const channel of this.topics.get(hubTopic) ?? []) {
      if (channel === except || !channel.canRead('broadcast')) continue;
      // Delivered once: a message replayed on join is not sent again live.
      if (id !== null && channel.replayedIds.has(id)) continue;
      const vsn = channel.conn.vsn;
      let frame = frames.get(vsn);
      if (frame === undefined) frames.set(vsn, (frame = encodeBroadcast(channel.topic, b, vsn)));
      if (frame !== null) channel.conn.send(frame);
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
        // Rows arrive from the day's partition (messages_YYYY_MM_DD), as Realtime receives them.
        if (relation.schema !== 'realtime' || !relation.table.startsWith('messages') || change.type !== 'INSERT' || !record) continue;
        if (record.extension !== 'broadcast' || record.event === null || record.topic === null) continue;
        const body = messageBody(record.payload, record.binary_payload);
        if (body === null) continue;
        const hubTopic = `${record.private === 't' ? 'private' : 'public'}:${record.topic}`;
        this.broadcast(hubTopic, { event: record.event, body, meta: { id: record.id } }, null);
      }
    }
    await this.changes.dispatch(txs);
  }

  /** Realtime's replay for private channels: up to 25 stored messages since `since` (ms), oldest first. */
  async replayMessages(channel: Channel, since: number, limit: number): Promise<UserBroadcast[]> {
    const n = Math.max(1, Math.min(25, Math.floor(limit)));
    const rows = await this.sql`
      select id, event, payload::text as payload, binary_payload from (
        select id, event, payload, binary_payload, inserted_at from realtime.messages
        where topic = ${channel.subTopic} and private and extension = 'broadcast'
          and inserted_at >= to_timestamp(${since / 1000}) at time zone 'UTC'
          and inserted_at < now() at time zone 'UTC' + interval '1 minute'
        order by inserted_at desc limit ${n}) m
      order by inserted_at`;
    return rows.map((r) => ({ event: r.event ?? '', body: r.binary_payload ?? r.payload ?? '{}', meta: { replayed: true, id: r.id } }));
  }
}

/** The user payload of a stored message: JSON text, or bytes (pgoutput sends bytea as `\\x…` hex). */
function messageBody(payload: string | null | undefined, binary: string | null | undefined): string | Buffer | null {
  if (typeof binary === 'string') return binary.startsWith('\\x') ? Buffer.from(binary.slice(2), 'hex') : null;
  return payload ?? null;
}
