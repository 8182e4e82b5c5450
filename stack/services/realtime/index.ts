// `/realtime/v1`: Supabase Realtime for the local stack. The WebSocket at
// /realtime/v1/websocket (Phoenix channels) and the REST broadcast endpoints
// /realtime/v1/api/broadcast[/<topic>/events/<event>].
import type { IncomingMessage, ServerResponse } from 'node:http';
import postgres from 'postgres';
import { WebSocketServer } from 'ws';
import { BodyTooLargeError, bearerToken, readBody, sendJson } from '../../http.ts';
import type { Service, ServiceContext } from '../service.ts';
import { checkToken, topicPolicies } from './authorization.ts';
import { Connection } from './channel.ts';
import { ChangeDispatcher } from './changes.ts';
import { Hub } from './hub.ts';
import { JANITOR_INTERVAL_MS, maintainMessagePartitions } from './janitor.ts';
import { ReplicationStream } from './replication.ts';
import type { UserBroadcast, Vsn } from './serializer.ts';

export interface RealtimeOptions {
  /** Replication slot; one per service instance. Default: `stack_realtime_<api port>`. */
  slot?: string;
  /** Bound for one RLS visibility call, in ms. */
  checkTimeoutMs?: number;
}

/** Realtime's default `max_payload_size_in_kb` (3000). */
const MAX_PAYLOAD_BYTES = 3000 * 1024;
/** A socket silent for this long is closed (realtime-js heartbeats every 25 s). */
const IDLE_TIMEOUT_MS = 60_000;
const SLOT_PREFIX = 'stack_realtime_';
/** Realtime creates this publication itself for broadcasts written to realtime.messages. */
const MESSAGES_PUBLICATION = 'supabase_realtime_messages_publication';

export async function createRealtimeService(ctx: ServiceContext, options: RealtimeOptions = {}): Promise<Service> {
  const { config, log } = ctx;
  const slot = options.slot ?? `${SLOT_PREFIX}${config.apiPort}`;
  const sql = postgres(config.adminDbUrl, { max: 4, onnotice: () => {}, connection: { application_name: 'stack_realtime' } });
  const checkSql = postgres(config.adminDbUrl, { max: 4, onnotice: () => {}, connection: { application_name: 'stack_realtime_rls' } });
  const changes = new ChangeDispatcher({ sql: checkSql, checkTimeoutMs: options.checkTimeoutMs ?? 1000, log });
  const hub = new Hub(config, sql, changes, MAX_PAYLOAD_BYTES, log);
  const replication = new ReplicationStream({
    dbUrl: config.adminDbUrl,
    slot,
    publication: `supabase_realtime,${MESSAGES_PUBLICATION}`,
    onTransactions: (txs) => hub.onTransactions(txs),
    log,
  });
  hub.replicationLive = () => replication.isLive;
  try {
    await changes.loadTypes();
    await maintainMessagePartitions(sql);
    // As Realtime: the publication must hold realtime.messages (its partitions) and nothing else.
    const [pub] = await sql`select 1 from pg_publication where pubname = ${MESSAGES_PUBLICATION}`;
    const tables = await sql`select schemaname, tablename from pg_publication_tables where pubname = ${MESSAGES_PUBLICATION}`;
    const valid = tables.length > 0 && tables.every((t) => t.schemaname === 'realtime' && (t.tablename === 'messages' || t.tablename.startsWith('messages_')));
    if (!pub || !valid) {
      await sql.begin(async (tx) => {
        await tx.unsafe(`drop publication if exists ${MESSAGES_PUBLICATION}`);
        await tx.unsafe(`create publication ${MESSAGES_PUBLICATION} for table realtime.messages`);
      }).catch((err: { code?: string }) => {
        if (err.code !== '42710') throw err; // created meanwhile by another stack on this database
      });
    }
    // Slots of stacks that no longer run would keep WAL forever.
    await sql`select pg_drop_replication_slot(slot_name) from pg_replication_slots
              where slot_name like ${SLOT_PREFIX + '%'} and slot_name <> ${slot} and not active`;
    await replication.start(sql);
  } catch (err) {
    await Promise.all([sql.end(), checkSql.end(), replication.stop()]);
    throw err;
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES + 64 * 1024 });
  const sweep = setInterval(() => {
    const cutoff = Date.now() - IDLE_TIMEOUT_MS;
    for (const conn of hub.connections) if (conn.lastSeen < cutoff) conn.terminate();
  }, 15_000);
  sweep.unref();
  const janitor = setInterval(() => {
    maintainMessagePartitions(sql).catch((err: Error) => log(`realtime: partition maintenance failed: ${err.message}`));
  }, JANITOR_INTERVAL_MS);
  janitor.unref();

  async function restBroadcast(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const token = bearerToken(req) ?? '';
    const checked = await checkToken(token, config.keys);
    if (!checked.ok) return sendJson(res, 401, { message: checked.message });
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_PAYLOAD_BYTES + 64 * 1024);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendJson(res, 413, { message: 'Payload too large' });
      throw err;
    }
    const messages: Array<{ topic: string; event: string; body: string | Buffer; private: boolean }> = [];
    const single = /^\/api\/broadcast\/([^/]+)\/events\/([^/]+)$/.exec(path);
    if (single) {
      const binary = (req.headers['content-type'] ?? '').startsWith('application/octet-stream');
      const text = raw.toString('utf8');
      if (!binary) {
        try {
          JSON.parse(text);
        } catch {
          return sendJson(res, 422, { errors: { payload: ['is invalid'] } });
        }
      }
      messages.push({ topic: decodeURIComponent(single[1]), event: decodeURIComponent(single[2]), body: binary ? raw : text, private: url.searchParams.get('private') === 'true' });
    } else {
      let body: any;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return sendJson(res, 422, { errors: { messages: ["can't be blank"] } });
      }
      if (!body || !Array.isArray(body.messages) || body.messages.length === 0) return sendJson(res, 422, { errors: { messages: ["can't be blank"] } });
      for (const m of body.messages) {
        if (!m || typeof m.topic !== 'string' || !m.topic || typeof m.event !== 'string' || m.payload === undefined) {
          return sendJson(res, 422, { errors: { messages: [{ topic: ["can't be blank"], event: ["can't be blank"], payload: ["can't be blank"] }] } });
        }
        messages.push({ topic: m.topic, event: m.event, body: JSON.stringify(m.payload), private: m.private === true });
      }
    }
    for (const m of messages) {
      if ((typeof m.body === 'string' ? Buffer.byteLength(m.body) : m.body.length) > MAX_PAYLOAD_BYTES) return sendJson(res, 422, { errors: { messages: ['Payload size exceeds tenant limit'] } });
    }
    // Private messages need the sender's broadcast write policy; others are skipped, as on Realtime.
    const allowed = new Map<string, boolean>();
    for (const m of messages) {
      if (m.private && !allowed.has(m.topic)) allowed.set(m.topic, (await topicPolicies(sql, m.topic, checked.claims)).broadcast.write);
      if (m.private && !allowed.get(m.topic)) continue;
      const b: UserBroadcast = { event: m.event, body: m.body };
      hub.broadcast(`${m.private ? 'private' : 'public'}:${m.topic}`, b, null);
    }
    res.writeHead(202, { 'content-length': '0' });
    res.end();
  }

  return {
    mount: '/realtime/v1',
    async handle(req, res, gw) {
      if (req.method === 'POST' && (gw.path === '/api/broadcast' || gw.path.startsWith('/api/broadcast/'))) return restBroadcast(req, res, gw.path, gw.url);
      sendJson(res, 404, { message: 'Not found' });
    },
    upgrade(req, socket, head, gw) {
      if (gw.path !== '/websocket' && gw.path !== '/websocket/') {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
        return;
      }
      const vsnParam = gw.url.searchParams.get('vsn') ?? '1.0.0';
      if (vsnParam !== '1.0.0' && vsnParam !== '2.0.0') {
        socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        hub.connections.add(new Connection(hub, ws, vsnParam as Vsn, gw.apiKey ?? ''));
      });
    },
    async health() {
      return replication.isLive ? { ok: true } : { ok: false, detail: 'replication stream reconnecting' };
    },
    async close() {
      clearInterval(sweep);
      clearInterval(janitor);
      for (const conn of hub.connections) conn.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await replication.stop();
      await Promise.all([sql.end({ timeout: 1 }), checkSql.end({ timeout: 1 })]);
    },
  };
}
