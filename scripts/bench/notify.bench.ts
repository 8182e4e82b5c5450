// Notification delivery: from an order status change's commit to the push
// request arriving at the (fake) FCM — the notification's trigger queues the
// delivery, pg_net starts `notify` after commit, notify claims the row and
// sends it with firebase-admin through the fakes' HTTPS proxy — beside the
// Realtime path for the same status changes in the same run (the notification
// broadcast on the customer's private `user:<id>` topic, received by
// supabase-js). 16 clients (vendor owners' sessions) move their orders through
// the lifecycle at once; each change is one notification and one push.
import { randomUUID } from 'node:crypto';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import ws from 'ws';
import { createGateway } from '../../stack/gateway.ts';
import { signJwt } from '../../stack/keys.ts';
import { freePort } from '../../stack/postgres.ts';
import { createFunctionsService } from '../../stack/services/functions/index.ts';
import { startFakeGoogle } from '../../tests/fakes/google.ts';
import { fakeCalls } from '../../tests/fakes/recorder.ts';
import type { BenchContext } from './harness.ts';

const CLIENTS = 16;
const ORDERS_PER_CLIENT = 8;
const STEPS = ['preparing', 'ready', 'completed'];
const WAIT_SECONDS = 120;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_SECONDS * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function user(sql: postgres.Sql, i: number, prefix: string): Promise<string> {
  const id = randomUUID();
  await sql`insert into auth.users (instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${`${prefix}${String(process.pid % 1000).padStart(3, '0')}${String(i).padStart(5, '0')}`},
                    now(), '{"provider":"phone","providers":["phone"]}', '{}', now(), now())`;
  return id;
}

const asUser = <T>(sql: postgres.Sql, id: string, fn: (tx: postgres.TransactionSql) => Promise<T>) => sql.begin(async (tx) => {
  await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: id })}, true)`;
  return fn(tx);
}) as Promise<T>;

export default async function notifyBench(ctx: BenchContext): Promise<void> {
  const { config, log } = ctx;
  const sql = postgres(config.dbUrl, { max: CLIENTS + 4, onnotice: () => {} });
  const google = await startFakeGoogle();
  // notify with the fake FCM, on a second functions gateway over the same
  // database; the database's calls go there while the bench runs (Vault's project_url).
  const fnConfig = {
    ...config,
    apiPort: await freePort(),
    functionsEnv: { ...config.functionsEnv, FIREBASE_SERVICE_ACCOUNT: google.serviceAccount, HTTPS_PROXY: google.proxyUrl, NO_PROXY: '127.0.0.1,localhost', DENO_CERT: google.caFile },
  };
  fnConfig.apiUrl = `http://${config.host}:${fnConfig.apiPort}`;
  const functions = createFunctionsService({ config: fnConfig, log });
  const gateway = createGateway(fnConfig, [functions], async () => ({ ok: true }), log);
  await new Promise<void>((resolve) => gateway.server.listen(fnConfig.apiPort, config.host, resolve));
  const [{ secret: projectUrl }] = await sql`select secret from vault.secrets where name = 'project_url'`;
  // As postgres may on hosted: through Vault's API (it has no UPDATE on vault.secrets).
  await sql`select vault.update_secret(id, ${fnConfig.apiUrl}) from vault.secrets where name = 'project_url'`;
  const clients: SupabaseClient[] = [];
  const channels: RealtimeChannel[] = [];
  try {
    // Customers (one device each), vendors with a menu, wallet orders placed and their placement pushes sent.
    const customers: { id: string; token: string }[] = [];
    const vendors: { id: string; owner: string; item: string }[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const id = await user(sql, i, '23493');
      await sql`select private.post_wallet_entry(${id}::uuid, 10000000000::bigint, 'topup', 'bench funding', ${'bench:' + id})`;
      const token = `bench_${randomUUID()}`;
      await asUser(sql, id, (tx) => tx`select public.register_device(${token}, 'android')`);
      customers.push({ id, token });
      const owner = await user(sql, i, '23494');
      const [v] = await sql`insert into public.vendors (owner_id, name, lat, lng, status, is_open) values (${owner}, ${`Notify Bench ${i + 1}`}, 6.4281, 3.4219, 'active', true) returning id`;
      const [item] = await sql`insert into public.menu_items (vendor_id, name, price) values (${v.id}, 'Suya', 150000) returning id`;
      vendors.push({ id: v.id, owner, item: item.id });
    }
    const orders: string[][] = [];
    for (let c = 0; c < CLIENTS; c++) {
      orders.push([]);
      for (let k = 0; k < ORDERS_PER_CLIENT; k++) {
        const [o] = await asUser(sql, customers[c].id, (tx) => tx`select id from public.place_order(${vendors[c].id}::uuid, ${JSON.stringify([{ menu_item_id: vendors[c].item, quantity: 1 }])}::text::jsonb, 'pickup', null, 'wallet')`);
        orders[c].push(o.id);
      }
    }
    const placed = CLIENTS * ORDERS_PER_CLIENT;
    await until(async () => (await fakeCalls(google.fcmUrl, 'bench_')).length >= placed, 'the placement pushes');
    const before = new Set((await fakeCalls(google.fcmUrl, 'bench_')).map((c) => c.body));

    // The Realtime side: each customer's app on its private user topic.
    const received = new Map<string, number>();
    for (const c of customers) {
      const now = Math.floor(Date.now() / 1000);
      const token = await signJwt({ sub: c.id, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 3600 }, new TextEncoder().encode(config.keys.jwtSecret));
      const client = createClient(config.apiUrl, config.keys.anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: ws as never } });
      await client.realtime.setAuth(token);
      clients.push(client);
      const channel = client.channel(`user:${c.id}`, { config: { private: true } });
      channel.on('broadcast', { event: 'notification' }, ({ payload }) => {
        const data = (payload as { data?: { order_id?: string; status?: string } }).data;
        if (data?.order_id && data.status) received.set(`${data.order_id}:${data.status}`, Date.now());
      });
      await new Promise<void>((resolve, reject) => channel.subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : status === 'CHANNEL_ERROR' || status === 'TIMED_OUT' ? reject(err ?? new Error(status)) : undefined)));
      channels.push(channel);
    }

    // 16 vendor sessions move their orders through the lifecycle at once.
    const committed = new Map<string, number>();
    const started = Date.now();
    await Promise.all(vendors.map(async (v, c) => {
      for (const orderId of orders[c]) {
        for (const status of STEPS) {
          await asUser(sql, v.owner, (tx) => tx`select 1 from public.update_order_status(${orderId}::uuid, ${status})`);
          committed.set(`${orderId}:${status}`, Date.now());
        }
      }
    }));
    const changesDone = Date.now();
    const changes = committed.size;
    const pushes = async () => (await fakeCalls(google.fcmUrl, 'bench_')).filter((c) => !before.has(c.body));
    await until(async () => (await pushes()).length >= changes && received.size >= changes, 'every push and broadcast');

    const pushedAt = new Map<string, number[]>();
    for (const call of await pushes()) {
      const data = JSON.parse(call.body).message.data as { order_id: string; status: string };
      const key = `${data.order_id}:${data.status}`;
      pushedAt.set(key, [...(pushedAt.get(key) ?? []), Date.parse(call.at)]);
    }
    const doubled = [...pushedAt.values()].filter((v) => v.length > 1).length;
    const lost = [...committed.keys()].filter((k) => !pushedAt.has(k)).length;
    const pushLatency = [...committed].filter(([k]) => pushedAt.has(k)).map(([k, t]) => pushedAt.get(k)![0] - t).sort((a, b) => a - b);
    const rtLatency = [...committed].filter(([k]) => received.has(k)).map(([k, t]) => received.get(k)! - t).sort((a, b) => a - b);
    const lastPush = Math.max(...[...pushedAt.values()].map((v) => v[0]));
    const lastBroadcast = Math.max(...received.values());
    const changeRate = changes / ((changesDone - started) / 1000);
    const pushRate = pushedAt.size / ((lastPush - started) / 1000);
    const rtRate = received.size / ((lastBroadcast - started) / 1000);
    const [sent] = await sql`select count(*) filter (where status = 'sent')::int as sent, count(*)::int as all from public.notification_deliveries d
      join public.notifications n on n.id = d.notification_id where n.user_id = any(${customers.map((c) => c.id)}::uuid[])`;

    log(`\n${changes} status changes by ${CLIENTS} concurrent vendor sessions, one push and one Realtime broadcast each`);
    log(`  ${'path'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'per s'.padStart(8)} ${'p50 ×RT'.padStart(8)} ${'p99 ×RT'.padStart(8)} ${'rate ×RT'.padStart(9)}`);
    log(`  ${'status changes (commits)'.padEnd(40)} ${''.padStart(8)} ${''.padStart(8)} ${changeRate.toFixed(1).padStart(8)}`);
    log(`  ${'Realtime: commit → user:<id> broadcast'.padEnd(40)} ${percentile(rtLatency, 50).toFixed(0).padStart(8)} ${percentile(rtLatency, 99).toFixed(0).padStart(8)} ${rtRate.toFixed(1).padStart(8)} ${'1.00'.padStart(8)} ${'1.00'.padStart(8)} ${'1.00'.padStart(9)}`);
    log(`  ${'push: commit → request at FCM'.padEnd(40)} ${percentile(pushLatency, 50).toFixed(0).padStart(8)} ${percentile(pushLatency, 99).toFixed(0).padStart(8)} ${pushRate.toFixed(1).padStart(8)} ${(percentile(pushLatency, 50) / percentile(rtLatency, 50)).toFixed(2).padStart(8)} ${(percentile(pushLatency, 99) / percentile(rtLatency, 99)).toFixed(2).padStart(8)} ${(pushRate / rtRate).toFixed(2).padStart(9)}`);
    log(`  deliveries/s ÷ status changes/s: ${(pushRate / changeRate).toFixed(2)} (target ≥ 0.50); lost ${lost}, doubled ${doubled}; rows sent ${sent.sent} of ${sent.all}`);
  } finally {
    for (const ch of channels) await ch.unsubscribe();
    for (const c of clients) c.realtime.disconnect();
    await sql`select vault.update_secret(id, ${projectUrl}) from vault.secrets where name = 'project_url'`;
    // Calls already queued for the bench's gateway go out before it closes.
    await until(async () => {
      const [r] = await sql`select (select count(*) from net.http_request_queue)::int as queued,
        (select coalesce(max(id), 0) from net._http_response) >= (select last_value from net.http_request_queue_id_seq) as answered`;
      return r.queued === 0 && r.answered;
    }, 'the queued notify calls').catch(() => {});
    await sql.end();
    await gateway.close();
    await functions.close();
    await google.close();
  }
}
