// Realtime: (1) latency from an order status change's commit to its receipt
// (a trigger's realtime.send → logical replication → socket) with 1, 100 and
// 1,000 sockets subscribed to the topic; (2) client-to-client broadcast
// messages/s beside a raw `ws` echo server; (3) postgres_changes with RLS:
// changes/s delivered with 500 subscribers (distinct users) all checked
// against RLS, beside the rate the writer alone achieves.
// The latency sockets live in worker threads; the other clients share the
// stack's event loop, so those figures include the clients' own work.
import { randomUUID } from 'node:crypto';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import { Worker } from 'node:worker_threads';
import ws, { WebSocketServer } from 'ws';
import { signJwt } from '../../stack/keys.ts';
import { freePort } from '../../stack/postgres.ts';
import { printComparison, runConcurrent, type BenchContext, type RunResult } from './harness.ts';

const SOCKET_COUNTS = [1, 100, 1000];
const LATENCY_UPDATES = 200;
const BROADCAST_PAIRS = 10;
const BROADCAST_OPS = 5000;
const RLS_SUBSCRIBERS = 500;
const RLS_CHANGES = 3000;
const MAX_SECONDS = 30;

const FIXTURE = `
create schema if not exists rt_bench;
grant usage on schema rt_bench to authenticated;
create table if not exists rt_bench.orders (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null,
  status text not null default 'new',
  total bigint not null default 0,
  sent_at double precision
);
create index if not exists orders_customer_idx on rt_bench.orders (customer_id);
alter table rt_bench.orders enable row level security;
grant select on rt_bench.orders to authenticated;
drop policy if exists "customers read their orders" on rt_bench.orders;
create policy "customers read their orders" on rt_bench.orders for select to authenticated using (customer_id = (select auth.uid()));
create or replace function rt_bench.publish_status() returns trigger language plpgsql as $$
begin
  if new.status is distinct from old.status then
    perform realtime.send(jsonb_build_object('order_id', new.id, 'status', new.status, 'sent_at', new.sent_at), 'status_changed', 'order:' || new.id, false);
  end if;
  return null;
end $$;
drop trigger if exists publish_status on rt_bench.orders;
create trigger publish_status after update of status on rt_bench.orders for each row execute function rt_bench.publish_status();
do $$ begin
  if not exists (select from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'rt_bench') then
    alter publication supabase_realtime add table rt_bench.orders;
  end if;
end $$;
`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function result(label: string, clients: number, ops: number, seconds: number, latencies: number[]): RunResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { label, clients, ops, seconds, opsPerSec: ops / seconds, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

function subscribed(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) => channel.subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : reject(new Error(`${status} ${err?.message ?? ''}`)))));
}

export default async function realtimeBench(ctx: BenchContext): Promise<void> {
  const { apiUrl, keys, dbUrl } = ctx.config;
  const sql = postgres(dbUrl, { max: 4, onnotice: () => {} });
  const clients: SupabaseClient[] = [];
  const newClient = (accessToken?: string) => {
    const c = createClient(apiUrl, keys.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: ws as never } });
    if (accessToken) c.realtime.setAuth(accessToken);
    clients.push(c);
    return c;
  };
  const closeAll = async () => {
    await Promise.all(clients.splice(0).map((c) => c.removeAllChannels()));
  };
  try {
    await sql.unsafe(FIXTURE);

    // (1) Commit-to-receipt latency of an order status change, fanned out to N
    // sockets held by two worker threads (receiving 1,000 sockets is work of
    // its own). The writer commits synchronously, as on hosted Supabase (the
    // local stack defaults to synchronous_commit=off).
    const latencyRuns: RunResult[] = [];
    // tsx's loader is not inherited by workers: register it, then load the TypeScript module.
    const workerUrl = new URL('./realtime-sockets.worker.ts', import.meta.url).href;
    const workers = Array.from({ length: 2 }, () => new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); });`, { eval: true }));
    const fromWorker = (worker: Worker, type: string) => new Promise<any>((resolve) => {
      const on = (msg: { type: string }) => {
        if (msg.type !== type) return;
        worker.off('message', on);
        resolve(msg);
      };
      worker.on('message', on);
    });
    const fromAll = (type: string, active: Worker[]) => Promise.all(active.map((w) => fromWorker(w, type)));
    try {
      for (const n of SOCKET_COUNTS) {
        const [order] = await sql`insert into rt_bench.orders (customer_id) values (${randomUUID()}) returning id`;
        const shares = workers.map((_, w) => Math.floor(n / workers.length) + (w < n % workers.length ? 1 : 0));
        const active = workers.filter((_, w) => shares[w] > 0);
        const ready = fromAll('ready', active);
        workers.forEach((w, i) => shares[i] > 0 && w.postMessage({ type: 'open', apiUrl, anonKey: keys.anonKey, topic: `order:${order.id}`, count: shares[i] }));
        await ready;
        const latencies: number[] = [];
        const started = performance.now();
        let updates = 0;
        while (updates < LATENCY_UPDATES && performance.now() - started < MAX_SECONDS * 1000) {
          const received = fromAll('received', active);
          await sql.begin(async (tx) => {
            await tx`set local synchronous_commit = on`;
            await tx`update rt_bench.orders set status = ${`s${updates}`}, sent_at = ${performance.timeOrigin + performance.now()} where id = ${order.id}`;
          });
          for (const r of await received) latencies.push(...r.latencies);
          updates++;
        }
        latencyRuns.push(result(`status change → receipt, ${n} socket(s)`, n, updates, (performance.now() - started) / 1000, latencies));
        const closed = fromAll('closed', active);
        for (const w of active) w.postMessage({ type: 'close' });
        await closed;
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    printComparison('Realtime: commit of an order status change → receipt (p50/p99 over every receipt; ops = status changes)', latencyRuns[0], latencyRuns.slice(1), ctx.log);

    // (2) Client-to-client broadcast beside a raw ws echo.
    const echoPort = await freePort();
    const echo = new WebSocketServer({ port: echoPort, host: '127.0.0.1' });
    echo.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    const echoSockets = await Promise.all(
      Array.from({ length: BROADCAST_PAIRS }, () => new Promise<ws>((resolve) => {
        const s = new ws(`ws://127.0.0.1:${echoPort}`);
        s.once('open', () => resolve(s));
      })),
    );
    const baseline = await runConcurrent('raw ws echo (baseline)', { clients: BROADCAST_PAIRS, totalOps: BROADCAST_OPS, maxSeconds: MAX_SECONDS }, (client, i) => new Promise((resolve) => {
      echoSockets[client].once('message', resolve);
      echoSockets[client].send(JSON.stringify({ event: 'm', payload: { i } }));
    }));
    for (const s of echoSockets) s.close();
    await new Promise<void>((r) => echo.close(() => r()));

    const pairs = await Promise.all(
      Array.from({ length: BROADCAST_PAIRS }, async (_, p) => {
        const topic = `bench-${p}-${randomUUID()}`;
        const sender = newClient().channel(topic);
        const receiver = newClient().channel(topic);
        let resolveNext: (() => void) | null = null;
        receiver.on('broadcast', { event: 'm' }, () => resolveNext?.());
        await Promise.all([subscribed(sender), subscribed(receiver)]);
        return {
          send: (i: number) => new Promise<void>((resolve) => {
            resolveNext = resolve;
            void sender.send({ type: 'broadcast', event: 'm', payload: { i } });
          }),
        };
      }),
    );
    const broadcast = await runConcurrent('client → Realtime → client', { clients: BROADCAST_PAIRS, totalOps: BROADCAST_OPS, maxSeconds: MAX_SECONDS }, (client, i) => pairs[client].send(i));
    await closeAll();
    printComparison('Realtime: client-to-client broadcast messages/s (one message in flight per pair)', baseline, [broadcast], ctx.log);

    // (3) postgres_changes with 500 RLS-checked subscribers.
    const users = Array.from({ length: RLS_SUBSCRIBERS }, () => randomUUID());
    const secret = new TextEncoder().encode(keys.jwtSecret);
    const now = Math.floor(Date.now() / 1000);
    let delivered = 0;
    let done: (() => void) | null = null;
    const channels = await Promise.all(users.map(async (user) => {
      const token = await signJwt({ sub: user, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 3600 }, secret);
      const ch = newClient(token).channel(`rls-${user}`);
      ch.on('postgres_changes', { event: 'INSERT', schema: 'rt_bench', table: 'orders' }, () => {
        if (++delivered === RLS_CHANGES) done?.();
      });
      return ch;
    }));
    for (let i = 0; i < channels.length; i += 100) await Promise.all(channels.slice(i, i + 100).map(subscribed));

    const writeRows = async (label: string, owners: string[]) => {
      const started = performance.now();
      for (let i = 0; i < RLS_CHANGES; i += 50) {
        const batch = owners.slice(i, i + 50).map((customer_id) => ({ customer_id }));
        await sql`insert into rt_bench.orders ${sql(batch)}`;
      }
      return { label, started, seconds: (performance.now() - started) / 1000 };
    };
    // Baseline: the same inserts into a table nobody listens to... the writer alone.
    await sql`create table if not exists rt_bench.unheard (like rt_bench.orders including all)`;
    const writerStarted = performance.now();
    for (let i = 0; i < RLS_CHANGES; i += 50) {
      await sql`insert into rt_bench.unheard (customer_id) select unnest(${users.slice(0, 50)}::uuid[])`;
    }
    const writerSeconds = (performance.now() - writerStarted) / 1000;
    const writer: RunResult = { label: 'writer alone (50-row inserts, no subscribers)', clients: 1, ops: RLS_CHANGES, seconds: writerSeconds, opsPerSec: RLS_CHANGES / writerSeconds, p50Ms: NaN, p99Ms: NaN };

    const owners = Array.from({ length: RLS_CHANGES }, (_, i) => users[i % users.length]);
    const all = new Promise<void>((r) => (done = r));
    const write = await writeRows('inserts', owners);
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), MAX_SECONDS * 1000).unref());
    const outcome = await Promise.race([all.then(() => 'ok' as const), timeout]);
    const seconds = (performance.now() - write.started) / 1000;
    const rls: RunResult = { label: `changes delivered, ${RLS_SUBSCRIBERS} RLS subscribers${outcome === 'timeout' ? ' (timed out)' : ''}`, clients: RLS_SUBSCRIBERS, ops: delivered, seconds, opsPerSec: delivered / seconds, p50Ms: NaN, p99Ms: NaN };
    printComparison(`Realtime: postgres_changes with RLS (each change checked for all ${RLS_SUBSCRIBERS} subscribers; Supabase reference ≈ 30 changes/s)`, writer, [rls], ctx.log);
    ctx.log(`  ${(rls.opsPerSec / 30).toFixed(1)}× the Supabase reference of 30 changes/s`);
    await closeAll();
  } finally {
    await closeAll();
    await sql.end();
  }
}
