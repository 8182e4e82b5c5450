// One WebSocket connection speaking Phoenix channels, and the channels joined
// on it: join (token, private-channel policies, postgres_changes), broadcast,
// presence, access-token refresh, leave. Errors use Realtime's messages.
import type { WebSocket } from 'ws';
import { checkToken, topicPolicies, type Policies } from './authorization.ts';
import type { ChangeData, Subscriber, Subscription } from './changes.ts';
import { parseFilters, type Filter } from './filters.ts';
import type { Hub } from './hub.ts';
import * as limits from './limits.ts';
import { broadcastSize, decodeBinary, decodeText, encode, encodeBroadcast, FrameError, type Frame, type UserBroadcast, type Vsn } from './serializer.ts';

/** How often a joined channel re-checks its token (Realtime: every 5 minutes, or at expiry). */
const CONFIRM_TOKEN_MS = 5 * 60_000;
/** Realtime's `replication_ready_timeout`. */
const REPLICATION_READY_TIMEOUT_MS = 60_000;

export class Connection {
  readonly channels = new Map<string, Channel>();
  lastSeen = Date.now();
  private pending = new Map<string, Promise<void>>();
  /** Joins run one at a time per socket, as a Phoenix socket process handles them. */
  private joins: Promise<void> = Promise.resolve();
  private readonly joinRate = new limits.RateCounter(limits.MAX_JOINS_PER_SECOND);
  readonly eventRate = new limits.RateCounter(limits.MAX_EVENTS_PER_SECOND);

  constructor(
    readonly hub: Hub,
    private ws: WebSocket,
    readonly vsn: Vsn,
    /** The API key the socket connected with: the token when a join carries none. */
    readonly apiKey: string,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.lastSeen = Date.now();
      void this.onFrame(data, isBinary).catch((err: Error) => this.hub.log(`realtime: error handling a frame: ${err.stack ?? err}`));
    });
    ws.on('close', () => this.closed());
    ws.on('error', () => ws.terminate());
  }

  send(data: string | Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(data);
  }

  push(frame: Frame): void {
    this.send(encode(frame, this.vsn));
  }

  reply(frame: Frame, status: 'ok' | 'error', response: Record<string, unknown> = {}): void {
    this.push({ joinRef: frame.joinRef, ref: frame.ref, topic: frame.topic, event: 'phx_reply', payload: { status, response } });
  }

  terminate(): void {
    this.ws.terminate();
  }

  private async onFrame(data: Buffer, isBinary: boolean): Promise<void> {
    let frame: Frame;
    let broadcast: UserBroadcast | undefined;
    try {
      if (isBinary) ({ frame, broadcast } = decodeBinary(data));
      else frame = decodeText(data.toString('utf8'), this.vsn);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      // Phoenix drops undecodable frames; we also tell the client why.
      this.push({ joinRef: null, ref: null, topic: 'phoenix', event: 'phx_error', payload: { reason: `malformed frame: ${err.message}` } });
      return;
    }
    if (frame.topic === 'phoenix' && frame.event === 'heartbeat') {
      this.reply(frame, 'ok');
      return;
    }
    // Like a Phoenix channel process: the frames of one topic are handled in
    // order (a push right after phx_join waits for the join), topics in parallel.
    const previous = this.pending.get(frame.topic) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(() => this.onTopicFrame(frame, broadcast));
    this.pending.set(frame.topic, current);
    await current.finally(() => {
      if (this.pending.get(frame.topic) === current) this.pending.delete(frame.topic);
    });
  }

  private async onTopicFrame(frame: Frame, broadcast: UserBroadcast | undefined): Promise<void> {
    if (frame.event === 'phx_join') {
      // A socket already closed (by the join limit or the client) does no more of its queued joins.
      const joined = this.joins.then(() => (this.ws.readyState === this.ws.OPEN ? this.join(frame) : undefined));
      this.joins = joined.catch(() => {});
      await joined;
      return;
    }
    const channel = this.channels.get(frame.topic);
    if (!channel || (frame.joinRef && channel.joinRef !== frame.joinRef)) {
      // Phoenix's answer to a push on a topic this socket has not joined.
      this.push({ joinRef: frame.joinRef, ref: frame.ref, topic: frame.topic, event: 'phx_reply', payload: { status: 'error', response: { reason: 'unmatched topic' } } });
      return;
    }
    await channel.handle(frame, broadcast);
  }

  private async join(frame: Frame): Promise<void> {
    const existing = this.channels.get(frame.topic);
    // A rejoin of a topic replaces the previous channel, as Phoenix does.
    if (existing) existing.leave(false);
    if (!this.joinRate.add()) {
      // Realtime refuses the join and disconnects the socket.
      this.reply(frame, 'error', { reason: limits.TOO_MANY_JOINS });
      this.ws.close(1000);
      return;
    }
    if (!frame.topic.startsWith('realtime:')) {
      this.reply(frame, 'error', { reason: 'unmatched topic' });
      return;
    }
    if (this.channels.size >= limits.MAX_CHANNELS_PER_CLIENT) {
      this.reply(frame, 'error', { reason: limits.TOO_MANY_CHANNELS });
      return;
    }
    const channel = new Channel(this, frame.topic, frame.joinRef ?? frame.ref ?? '');
    this.channels.set(frame.topic, channel);
    const error = await channel.join(frame).catch((err: Error) => {
      this.hub.log(`realtime: join of ${frame.topic} failed: ${err.stack ?? err}`);
      return 'UnknownErrorOnChannel: Unknown Error on Channel';
    });
    if (error) {
      if (this.channels.get(frame.topic) === channel) this.channels.delete(frame.topic);
      channel.dispose();
      this.reply(frame, 'error', { reason: error });
    }
  }

  private closed(): void {
    for (const channel of this.channels.values()) channel.dispose();
    this.channels.clear();
    this.hub.connections.delete(this);
  }
}

export class Channel implements Subscriber {
  readonly subTopic: string;
  private: boolean = false;
  policies: Policies | null = null;
  selfBroadcast = false;
  ackBroadcast = false;
  presenceKey = '';
  presenceEnabled = false;
  private token = '';
  private claimsValue: Record<string, unknown> & { role: string } = { role: 'anon' };
  private subscriptions: Subscription[] = [];
  private readonly presenceCalls = new limits.RateWindow(limits.PRESENCE_MAX_CALLS, limits.PRESENCE_WINDOW_MS);
  /** Ids of the stored messages replayed on join: their live copies are not sent again. */
  readonly replayedIds = new Set<string>();
  private confirmTimer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(
    readonly conn: Connection,
    readonly topic: string,
    readonly joinRef: string,
  ) {
    this.subTopic = topic.slice('realtime:'.length);
  }

  /** The hub key: private and public channels of one name are separate, as on Supabase. */
  get hubTopic(): string {
    return `${this.private ? 'private' : 'public'}:${this.subTopic}`;
  }

  role(): string {
    return this.claimsValue.role;
  }

  claims(): Record<string, unknown> {
    return this.claimsValue;
  }

  canRead(extension: 'broadcast' | 'presence'): boolean {
    return !this.private || !!this.policies?.[extension].read;
  }

  /** Returns an error reason for the join reply, or null once joined and replied. */
  async join(frame: Frame): Promise<string | null> {
    const hub = this.conn.hub;
    if (this.subTopic === '') return 'TopicNameRequired: You must provide a topic name';
    const params = (frame.payload && typeof frame.payload === 'object' ? frame.payload : {}) as Record<string, any>;
    const config = (params.config && typeof params.config === 'object' ? params.config : {}) as Record<string, any>;
    this.private = config.private === true || config.private === 'true';
    this.selfBroadcast = !!config.broadcast?.self;
    this.ackBroadcast = !!config.broadcast?.ack;
    this.presenceKey = typeof config.presence?.key === 'string' && config.presence.key ? config.presence.key : crypto.randomUUID();
    this.presenceEnabled = !!config.presence?.enabled;

    // `user_token` is the older name of `access_token`; new-style `sb_` keys mean "no user".
    const given = params.access_token ?? params.user_token;
    const token = typeof given === 'string' && given && !given.startsWith('sb_') ? given : this.conn.apiKey;
    const checked = await checkToken(token, hub.config.keys);
    if (!checked.ok) return `${checked.code}: ${checked.message}`;
    this.token = token;
    this.claimsValue = checked.claims;

    if (this.private) {
      const policies = await topicPolicies(hub.sql, this.subTopic, checked.claims);
      if (!policies.broadcast.read && !policies.presence.read) return `Unauthorized: You do not have permissions to read from this Channel topic: ${this.subTopic}`;
      this.policies = policies;
    }

    const replay = config.broadcast?.replay;
    if (replay !== undefined) {
      if (!this.private) return 'UnableToReplayMessages: Replay is not allowed for public channels';
      if (!replay || typeof replay.since !== 'number' || (replay.limit !== undefined && typeof replay.limit !== 'number')) return 'UnableToReplayMessages: Replay params are not valid';
      if (!this.canRead('broadcast')) return `Unauthorized: You do not have permissions to read from this Channel topic: ${this.subTopic}`;
    }

    // postgres_changes: validated and registered before the reply, so every
    // change committed after the client sees SUBSCRIBED reaches it.
    const requested: Array<Record<string, unknown>> = Array.isArray(config.postgres_changes) ? config.postgres_changes.filter((p: unknown) => p && typeof p === 'object') : [];
    if (requested.length > limits.MAX_BINDINGS_PER_JOIN) return limits.TOO_MANY_BINDINGS;
    const accepted: Array<Record<string, unknown>> = [];
    let pgError: string | null = null;
    const subs: Subscription[] = [];
    for (const p of requested) {
      const id = hashParams(p);
      accepted.push({ ...p, id });
      if (pgError) continue;
      try {
        const binding = parseBinding(p);
        await hub.changes.validate(binding, checked.claims.role);
        subs.push({ id, ...binding, subscriber: this });
      } catch (err) {
        pgError = (err as Error).message;
      }
    }
    // Replayed before the channel listens, as Realtime does; the live copies of
    // these messages are then skipped (they are delivered once).
    const replayed = replay ? await hub.replayMessages(this, replay.since, replay.limit ?? 25) : [];
    for (const m of replayed) if (m.meta?.id) this.replayedIds.add(String(m.meta.id));
    if (this.disposed || this.conn.channels.get(this.topic) !== this) return null;
    if (!pgError) for (const s of subs) hub.changes.add(s);
    this.subscriptions = pgError ? [] : subs;
    hub.subscribe(this);
    this.scheduleConfirm(checked.claims.exp);
    this.conn.reply(frame, 'ok', { postgres_changes: accepted });
    if (requested.length) {
      this.system('postgres_changes', pgError ? 'error' : 'ok', pgError ?? 'Subscribed to PostgreSQL');
    }
    if (this.presenceEnabled && this.canRead('presence')) this.pushToClient('presence_state', hub.presenceOf(this.hubTopic).state());
    for (const m of replayed) this.sendBroadcast(m);
    // `broadcast.replication_ready`: tell the client once the change feed is live (any truthy value, as Realtime reads it).
    const ready = config.broadcast?.replication_ready;
    if (ready !== undefined && ready !== null && ready !== false) this.notifyReplicationReady(Date.now() + REPLICATION_READY_TIMEOUT_MS);
    return null;
  }

  /** Realtime's `:notify_replication_ready`: checked every 500 ms until the replication connection is up, for at most a minute. */
  private notifyReplicationReady(deadline: number): void {
    if (this.disposed) return;
    if (this.conn.hub.replicationLive()) return this.system('system', 'ok', 'Replication connection established');
    if (Date.now() >= deadline) return this.shutdown('Replication connection was not established in time');
    setTimeout(() => this.notifyReplicationReady(deadline), 500).unref();
  }

  async handle(frame: Frame, broadcast?: UserBroadcast): Promise<void> {
    const hub = this.conn.hub;
    if ((frame.event === 'broadcast' || frame.event === 'presence') && !this.conn.eventRate.add()) return this.shutdown(limits.TOO_MANY_EVENTS);
    switch (frame.event) {
      case 'broadcast': {
        const b = broadcast ?? jsonBroadcast(frame.payload);
        if (!b) {
          if (this.ackBroadcast) this.conn.reply(frame, 'error', { reason: 'invalid broadcast payload' });
          return;
        }
        if (broadcastSize(b) > hub.maxPayloadBytes) {
          if (this.ackBroadcast) this.conn.reply(frame, 'error', { reason: 'payload_size_exceeded' });
          return;
        }
        // A private channel without the write policy: dropped, as Realtime does.
        if (this.private && !this.policies?.broadcast.write) return;
        hub.broadcast(this.hubTopic, b, this.selfBroadcast ? null : this);
        if (this.ackBroadcast) this.conn.reply(frame, 'ok');
        return;
      }
      case 'presence': {
        const p = frame.payload as { event?: string; payload?: unknown };
        if ((p?.event === 'track' || p?.event === 'untrack') && !this.presenceCalls.hit()) return this.shutdown(limits.TOO_MANY_PRESENCE_CALLS);
        if (p?.event === 'track') {
          if (!p.payload || typeof p.payload !== 'object' || Array.isArray(p.payload)) {
            this.conn.reply(frame, 'error', { reason: 'Presence track payload must be a map' });
            return;
          }
          if (this.private && !this.policies?.presence.write) {
            this.conn.reply(frame, 'error', {});
            return;
          }
          if (JSON.stringify(p.payload).length > hub.maxPayloadBytes) {
            this.system('system', 'error', 'Track message size exceeded');
            this.leave(true);
            return;
          }
          if (!this.presenceEnabled) {
            // Tracking turns presence on for the channel, as on Realtime.
            this.presenceEnabled = true;
            if (this.canRead('presence')) this.pushToClient('presence_state', hub.presenceOf(this.hubTopic).state());
          }
          hub.track(this, p.payload as Record<string, unknown>);
          this.conn.reply(frame, 'ok');
        } else if (p?.event === 'untrack') {
          hub.untrack(this);
          this.conn.reply(frame, 'ok');
        } else {
          this.conn.reply(frame, 'error', { reason: 'unknown presence event' });
        }
        return;
      }
      case 'access_token':
        await this.refreshToken(frame.payload?.access_token);
        return;
      case 'phx_leave':
        this.conn.reply(frame, 'ok');
        this.leave(false);
        return;
      default:
        // Realtime ignores unexpected client events (it only logs them).
        return;
    }
  }

  private async refreshToken(token: unknown): Promise<void> {
    if (typeof token !== 'string' || token.startsWith('sb_') || token === this.token) return;
    const checked = await checkToken(token, this.conn.hub.config.keys);
    if (!checked.ok) return this.shutdown(checked.message);
    this.token = token;
    this.claimsValue = checked.claims;
    if (this.private) {
      const before = this.policies;
      let after: Policies;
      try {
        after = await topicPolicies(this.conn.hub.sql, this.subTopic, checked.claims);
      } catch {
        return this.shutdown('Realtime was unable to connect to the project database');
      }
      this.policies = after;
      if ((before?.broadcast.read && !after.broadcast.read) || (before?.presence.read && !after.presence.read)) {
        return this.shutdown(`You no longer have permission to read from this Channel topic: ${this.subTopic}`);
      }
    }
    this.scheduleConfirm(checked.claims.exp);
  }

  private scheduleConfirm(exp: number): void {
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    const untilExpiry = exp * 1000 - Date.now();
    this.confirmTimer = setTimeout(() => void this.confirmToken(), Math.max(0, Math.min(CONFIRM_TOKEN_MS, untilExpiry + 1000)));
    this.confirmTimer.unref();
  }

  private async confirmToken(): Promise<void> {
    if (this.disposed) return;
    const checked = await checkToken(this.token, this.conn.hub.config.keys);
    if (!checked.ok) return this.shutdown(checked.message);
    this.scheduleConfirm(checked.claims.exp);
  }

  /** Realtime's shutdown: a `system` error message, then the channel closes. */
  shutdown(message: string): void {
    if (this.disposed) return;
    this.system('system', 'error', message);
    this.leave(true);
  }

  system(extension: string, status: 'ok' | 'error', message: string): void {
    this.pushToClient('system', { extension, status, message, channel: this.subTopic });
  }

  pushToClient(event: string, payload: unknown): void {
    this.conn.push({ joinRef: this.joinRef, ref: null, topic: this.topic, event, payload });
  }

  deliver(ids: number[], data: ChangeData): void {
    if (this.disposed) return;
    this.pushToClient('postgres_changes', { ids, data });
  }

  sendBroadcast(b: UserBroadcast): void {
    const frame = this.disposed ? null : encodeBroadcast(this.topic, b, this.conn.vsn);
    if (frame !== null) this.conn.send(frame);
  }

  /** Leaves the channel; with `notify` the client is told with phx_close. */
  leave(notify: boolean): void {
    if (this.disposed) return;
    if (notify) this.pushToClient('phx_close', {});
    if (this.conn.channels.get(this.topic) === this) this.conn.channels.delete(this.topic);
    this.dispose();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    for (const s of this.subscriptions) this.conn.hub.changes.remove(s);
    this.conn.hub.unsubscribe(this);
  }
}

function jsonBroadcast(payload: unknown): UserBroadcast | null {
  const p = payload as { event?: unknown; payload?: unknown } | null;
  if (!p || typeof p !== 'object' || typeof p.event !== 'string') return null;
  return { event: p.event, body: JSON.stringify(p.payload ?? {}) };
}

/** A stable id for one postgres_changes binding (Realtime uses phash2 of the params). */
function hashParams(p: Record<string, unknown>): number {
  const text = JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) % 134217728;
}

/** A postgres_changes binding as Realtime's `parse_subscription_params` reads it; throws its messages. */
function parseBinding(p: Record<string, unknown>): Omit<Subscription, 'id' | 'subscriber'> {
  const upper = typeof p.event === 'string' ? p.event.toUpperCase() : '*';
  // An unknown event listens to every event, as on Realtime.
  const event = upper === 'INSERT' || upper === 'UPDATE' || upper === 'DELETE' ? upper : '*';
  let select: string[] | null = null;
  if (typeof p.select === 'string') throw new Error('Error parsing `select` params: expected a list of column name strings, e.g. select: ["col1", "col2"]');
  if (Array.isArray(p.select)) {
    const columns = p.select.filter((c): c is string => typeof c === 'string');
    // Sorted and without repeats: equal selections share one message, as walrus groups them.
    if (columns.length) select = [...new Set(columns)].sort();
  }
  const has = (k: string) => Object.prototype.hasOwnProperty.call(p, k);
  let schema: string;
  let table: string;
  let filters: Filter[] = [];
  if (typeof p.schema === 'string' && typeof p.table === 'string' && typeof p.filter === 'string') {
    ({ schema, table } = p as { schema: string; table: string });
    filters = parseFilters(p.filter);
  } else if (typeof p.schema === 'string' && typeof p.table === 'string' && !has('filter')) {
    ({ schema, table } = p as { schema: string; table: string });
  } else if (typeof p.schema === 'string' && !has('table') && !has('filter')) {
    schema = p.schema;
    table = '*';
  } else if (typeof p.table === 'string' && !has('schema') && !has('filter')) {
    schema = 'public';
    table = p.table;
  } else {
    const shown = has('user_token') || has('auth_token') ? '<redacted>' : JSON.stringify(p);
    throw new Error(`No subscription params provided. Please provide at least a \`schema\` or \`table\` to subscribe to: ${shown}`);
  }
  if (select && (schema === '*' || table === '*')) throw new Error('Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name.');
  return { event, schema, table: table === '*' ? null : table, filters, select };
}
