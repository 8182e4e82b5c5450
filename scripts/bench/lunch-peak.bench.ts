// Lunch peak: the whole system under a rising load, through the doors users use,
// against a private stack in its own process (so its CPU and memory are its
// own, apart from this load generator's), with the fake providers.
// - Customers (supabase-js, one client and socket each) browse (nearby_vendors,
//   the 4-level menu embed), quote, place an order (wallet, or every fifth by
//   card: the payments function, the fake Paystack's charge, the signed webhook
//   to paystack-webhook) and follow its `order:<id>` channel until completed
//   (and their inbox, `user:<id>`, all along).
// - Order placed → vendor notified runs from the customer's tap (the
//   place_order call, or the webhook's delivery for a card) to the broadcast
//   on the vendor's channel; status change → customer notified from the
//   vendor's call returning to the broadcast on the order's channel.
// - Vendors follow `vendor:<id>:orders` and move each paid order
//   new → preparing → ready → completed after a short kitchen pause.
// - Every change also notifies the customer: the outbox, pg_net, the `notify`
//   function and a push at the fake FCM.
// The load rises in steps of concurrent customers (a closed loop: each customer
// starts its next order when the last one completed); per step: orders/min,
// latencies, errors, CPU and memory. Nothing lost: every status change is
// checked at both parties at the end. Output: a table and an SVG chart.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import ws from 'ws';
import { signJwt } from '../../stack/keys.ts';
import { freePort } from '../../stack/postgres.ts';
import { startFakes } from '../../tests/fakes/index.ts';
import { paystackSignature } from '../../tests/fakes/paystack.ts';
import { fakeCalls } from '../../tests/fakes/recorder.ts';
import { percentile, processChildren, processCpuTicks, processMemory, type BenchContext } from './harness.ts';

const STEPS = (process.env.LUNCH_STEPS ?? '8,16,32,48,64').split(',').map(Number);
const STEP_SECONDS = Number(process.env.LUNCH_STEP_SECONDS ?? 20);
const DRAIN_SECONDS = 25;
const VENDORS = 16;
const KITCHEN_MS = 300;
const CARD_EVERY = 5;
const LIFECYCLE = ['preparing', 'ready', 'completed'];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface StackInfo { apiUrl: string; dbUrl: string; keys: { anonKey: string; jwtSecret: string }; dbPort: number }

/** Starts the stack process; resolves with its config once it serves. */
async function startStackProcess(options: object): Promise<{ child: ChildProcess; info: StackInfo }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/bench/stack-process.ts')], {
    cwd: root, env: { ...process.env, BENCH_STACK: JSON.stringify(options) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await new Promise<StackInfo>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      const m = /READY (.*)\n/.exec(buf);
      if (m) resolve(JSON.parse(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the stack process exited (${code}) before serving`)));
  });
  return { child, info };
}

/** The postmaster's pid: the Postgres process listening on the stack's port, a child of the stack process. */
function postmasterOf(stackPid: number): number {
  for (const pid of childrenOf(stackPid)) if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return pid;
  throw new Error('no Postgres under the stack process');
}

const childrenOf = (pid: number): number[] => processChildren().get(pid) ?? [];
const isDeno = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('deno');
  } catch {
    return false;
  }
};

interface Step {
  customers: number;
  started: number;
  ended: number;
  orders: number;
  placeMs: number[];
  toVendorMs: number[];
  toCustomerMs: number[];
  pushMs: number[];
  errors: string[];
  cpu: { node: number; deno: number; pg: number; generator: number };
  peak: { node: number; deno: number; pg: number };
}

interface Change { orderId: string; status: string; at: number; step: Step; customerSubscribedAt: number }

export default async function lunchPeak(ctx: BenchContext): Promise<void> {
  const { log } = ctx;
  const fakes = await startFakes();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rambini-lunch-'));
  const { child, info } = await startStackProcess({ dataDir, apiPort: await freePort(), dbPort: await freePort(), functionsEnv: fakes.functionsEnv });
  const sql = postgres(info.dbUrl, { max: 4, onnotice: () => {} });
  const clients: SupabaseClient[] = [];
  const channels: RealtimeChannel[] = [];
  const stackPid = child.pid!;
  const pgPid = postmasterOf(stackPid);
  const memory = () => {
    const deno = childrenOf(stackPid).filter((p) => p !== pgPid && isDeno(p));
    return { node: processMemory([stackPid], false), deno: processMemory(deno, true), pg: processMemory([pgPid], true) };
  };
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const idle = memory();
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    log(`idle after start (PSS, MB): stack node ${mb(idle.node.pss)}, Deno workers ${mb(idle.deno.pss)} (${idle.deno.count} processes), Postgres ${mb(idle.pg.pss)} (${idle.pg.count} processes); total ${mb(idle.node.pss + idle.deno.pss + idle.pg.pss)} (target < 300); summed RSS, shared pages counted in every process: ${mb(idle.node.rss + idle.deno.rss + idle.pg.rss)}`);

    // Fixtures over SQL (setting up is not the load): vendors with a menu, funded customers with a device.
    const jwt = new TextEncoder().encode(info.keys.jwtSecret);
    const clientFor = async (sub: string) => {
      const now = Math.floor(Date.now() / 1000);
      const token = await signJwt({ sub, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 3600 }, jwt);
      const client = createClient(info.apiUrl, info.keys.anonKey, { accessToken: async () => token, realtime: { transport: ws as never } });
      await client.realtime.setAuth(token);
      clients.push(client);
      return client;
    };
    const user = async (prefix: string, i: number) => {
      const id = randomUUID();
      await sql`insert into auth.users (instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
                values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${`${prefix}${String(i).padStart(6, '0')}`},
                        now(), '{"provider":"phone","providers":["phone"]}', '{}', now(), now())`;
      return id;
    };
    const vendors: { id: string; owner: string; items: string[]; client: SupabaseClient }[] = [];
    for (let i = 0; i < VENDORS; i++) {
      const owner = await user('234950', i);
      const [v] = await sql`insert into public.vendors (owner_id, name, lat, lng, status, is_open) values (${owner}, ${`Lunch Buka ${i + 1}`}, ${6.43 + i * 0.001}, 3.42, 'active', true) returning id`;
      const [a] = await sql`insert into public.menu_items (vendor_id, name, price) values (${v.id}, 'Jollof rice', 250000) returning id`;
      const [b] = await sql`insert into public.menu_items (vendor_id, name, price) values (${v.id}, 'Suya', 150000) returning id`;
      const [g] = await sql`insert into public.modifier_groups (vendor_id, menu_item_id, name, min_select, max_select) values (${v.id}, ${a.id}, 'Extras', 0, 2) returning id`;
      await sql`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${v.id}, ${g.id}, 'Plantain', 30000)`;
      vendors.push({ id: v.id, owner, items: [a.id, b.id], client: await clientFor(owner) });
    }
    const maxCustomers = Math.max(...STEPS);
    const customers: { id: string; client: SupabaseClient }[] = [];
    for (let i = 0; i < maxCustomers; i++) {
      const id = await user('234951', i);
      await sql`select private.post_wallet_entry(${id}::uuid, 10000000000::bigint, 'topup', 'bench funding', ${'bench:' + id})`;
      const client = await clientFor(id);
      const { error } = await client.rpc('register_device', { p_token: `lunch_${id}`, p_platform: 'android' });
      if (error) throw new Error(`register_device: ${error.message}`);
      customers.push({ id, client });
    }
    // Each customer's app also follows its inbox (`user:<id>`): a change made
    // before the order's channel had joined still reaches the customer there.
    const inbox = new Map<string, number>();
    const completedWaiters = new Map<string, () => void>();
    for (const c of customers) {
      const channel = c.client.channel(`user:${c.id}`, { config: { private: true } });
      channel.on('broadcast', { event: 'notification' }, ({ payload }) => {
        const data = (payload as { data?: { order_id?: string; status?: string } }).data;
        if (data?.order_id && data.status && !inbox.has(`${data.order_id}:${data.status}`)) inbox.set(`${data.order_id}:${data.status}`, Date.now());
        if (data?.order_id && data.status === 'completed') completedWaiters.get(data.order_id)?.();
      });
      await subscribe(channel);
      channels.push(channel);
    }

    // What each party saw, by `<order>:<status>`, with the time it arrived.
    const atVendor = new Map<string, number>();
    const atCustomer = new Map<string, number>();
    const changes: Change[] = [];
    const orderStep = new Map<string, Step>();
    const paidAt = new Map<string, number>();
    const subscribedAt = new Map<string, number>();
    let currentStep: Step;
    const inFlight = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    };

    // Vendors: on each paid order, the kitchen moves it to completion.
    const vendorMoves = (v: (typeof vendors)[number], orderId: string) => track((async () => {
      for (const status of LIFECYCLE) {
        await new Promise((r) => setTimeout(r, KITCHEN_MS));
        // The broadcast often arrives before place_order's answer: the step is known by now.
        const step = orderStep.get(orderId) ?? currentStep;
        const { error } = await v.client.rpc('update_order_status', { p_order_id: orderId, p_status: status });
        if (error) {
          step.errors.push(`update_order_status: ${error.message}`);
          return;
        }
        changes.push({ orderId, status, at: Date.now(), step, customerSubscribedAt: subscribedAt.get(orderId) ?? Infinity });
      }
    })());
    for (const v of vendors) {
      const channel = v.client.channel(`vendor:${v.id}:orders`, { config: { private: true } });
      channel.on('broadcast', { event: 'order_created' }, ({ payload }) => {
        const p = payload as { order_id: string; status: string };
        atVendor.set(`${p.order_id}:${p.status}`, Date.now());
        if (p.status === 'new') vendorMoves(v, p.order_id);
      });
      channel.on('broadcast', { event: 'status_changed' }, ({ payload }) => {
        const p = payload as { order_id: string; new_status: string };
        atVendor.set(`${p.order_id}:${p.new_status}`, Date.now());
        if (p.new_status === 'new') vendorMoves(v, p.order_id);
      });
      await subscribe(channel);
      channels.push(channel);
    }

    const paystackKey = fakes.env.secrets.PAYSTACK_SECRET_KEY;
    const basket = (v: (typeof vendors)[number]) => [{ menu_item_id: v.items[0], quantity: 1, modifier_ids: [] as string[] }, { menu_item_id: v.items[1], quantity: 2 }];
    let orderCount = 0;
    // One customer's lunch: browse, quote, order, follow it to completion.
    const lunch = async (c: (typeof customers)[number], step: Step) => {
      const fail = (what: string, err: unknown) => {
        step.errors.push(`${what}: ${(err as Error)?.message ?? err}`);
      };
      const near = await c.client.rpc('nearby_vendors', { p_lat: 6.435, p_lng: 3.42 });
      if (near.error || !near.data?.length) return fail('nearby_vendors', near.error ?? 'no vendors');
      const v = vendors[orderCount % VENDORS];
      const menu = await c.client.from('vendors').select('*, menu_items(*, modifier_groups(*, modifiers(*)))').eq('id', v.id).single();
      if (menu.error) return fail('menu embed', menu.error);
      const items = basket(v);
      const quote = await c.client.rpc('quote_order', { p_vendor_id: v.id, p_items: items, p_fulfillment: 'pickup' });
      if (quote.error) return fail('quote_order', quote.error);
      const card = ++orderCount % CARD_EVERY === 0;
      const t0 = performance.now();
      const placedAt = Date.now();
      const placed = await c.client.rpc('place_order', { p_vendor_id: v.id, p_items: items, p_fulfillment: 'pickup', p_address_id: null, p_payment_method: card ? 'paystack' : 'wallet' }).single();
      const placeMs = performance.now() - t0;
      if (placed.error) return fail('place_order', placed.error);
      const order = placed.data as { id: string };
      step.placeMs.push(placeMs);
      orderStep.set(order.id, step);
      if (!card) paidAt.set(order.id, placedAt);
      // The app follows the order it placed.
      const done = new Promise<void>((resolve) => {
        const channel = c.client.channel(`order:${order.id}`, { config: { private: true } });
        // The inbox says completed too (the order's channel may have joined after the last change).
        completedWaiters.set(order.id, () => {
          completedWaiters.delete(order.id);
          resolve();
          void c.client.removeChannel(channel);
        });
        channel.on('broadcast', { event: 'status_changed' }, ({ payload }) => {
          const p = payload as { new_status: string };
          atCustomer.set(`${order.id}:${p.new_status}`, Date.now());
          if (p.new_status === 'completed') {
            resolve();
            void c.client.removeChannel(channel);
          }
        });
        subscribe(channel).then(() => subscribedAt.set(order.id, Date.now()), (err) => fail('order channel', err));
        channels.push(channel);
      });
      if (card) {
        const { data, error } = await c.client.functions.invoke('payments', { body: { order_id: order.id } });
        if (error) return fail('payments', error);
        const charged = await fetch(`${fakes.env.paystackUrl}/__fake/paystack/charge`, { method: 'POST', body: JSON.stringify({ reference: data.reference }) });
        const raw = JSON.stringify({ event: 'charge.success', data: await charged.json() });
        const hookAt = Date.now();
        const hook = await fetch(`${info.apiUrl}/functions/v1/paystack-webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(raw, paystackKey) }, body: raw });
        if (hook.status !== 200) return fail('paystack-webhook', `${hook.status} ${await hook.text()}`);
        paidAt.set(order.id, hookAt);
        changes.push({ orderId: order.id, status: 'new', at: Date.now(), step, customerSubscribedAt: subscribedAt.get(order.id) ?? Infinity });
      }
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref());
      if ((await Promise.race([done, timeout])) === 'timeout') fail('order', 'not completed within 20 s');
    };

    // CPU: ticks of each part (Postgres's include its exited children), sampled with peak memory.
    const ticks = () => {
      const deno = childrenOf(stackPid).filter((p) => p !== pgPid && isDeno(p));
      return { node: processCpuTicks([stackPid], false), deno: processCpuTicks(deno, true), pg: processCpuTicks([pgPid], true) };
    };
    const newStep = (customers: number): Step => ({ customers, started: Date.now(), ended: 0, orders: 0, placeMs: [], toVendorMs: [], toCustomerMs: [], pushMs: [], errors: [], cpu: { node: 0, deno: 0, pg: 0, generator: 0 }, peak: { node: 0, deno: 0, pg: 0 } });
    // Warm every path (the Deno workers' start, plans) outside the steps: orders until one by card.
    const warm = newStep(1);
    currentStep = warm;
    for (let i = 0; i < CARD_EVERY; i++) await lunch(customers[0], warm);
    if (warm.errors.length) throw new Error(`warm-up failed: ${warm.errors.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 2000));
    const warmMemory = memory();
    log(`after one order of each kind, workers started (PSS, MB): stack node ${mb(warmMemory.node.pss)}, Deno workers ${mb(warmMemory.deno.pss)} (${warmMemory.deno.count} processes), Postgres ${mb(warmMemory.pg.pss)}; total ${mb(warmMemory.node.pss + warmMemory.deno.pss + warmMemory.pg.pss)}`);
    const steps: Step[] = [];
    const runStart = Date.now();
    for (const n of STEPS) {
      const step = newStep(n);
      currentStep = step;
      const gen0 = process.cpuUsage();
      steps.push(step);
      const t0 = ticks();
      const sampler = setInterval(() => {
        const m = memory();
        step.peak = { node: Math.max(step.peak.node, m.node.pss), deno: Math.max(step.peak.deno, m.deno.pss), pg: Math.max(step.peak.pg, m.pg.pss) };
      }, 1000);
      const stepEnd = step.started + STEP_SECONDS * 1000;
      await Promise.all(customers.slice(0, n).map(async (c) => {
        while (Date.now() < stepEnd) {
          try {
            await lunch(c, step);
          } catch (err) {
            step.errors.push(`customer: ${(err as Error).message}`);
          }
        }
      }));
      clearInterval(sampler);
      step.ended = Date.now();
      const t1 = ticks();
      const wall = (step.ended - step.started) / 1000;
      const gen = process.cpuUsage(gen0);
      step.cpu = { node: (t1.node - t0.node) / wall, deno: (t1.deno - t0.deno) / wall, pg: (t1.pg - t0.pg) / wall, generator: (gen.user + gen.system) / 1e4 / wall };
    }
    // Let the last changes and pushes arrive, then look for anything lost.
    const expectedPushes = () => changes.length;
    const drainEnd = Date.now() + DRAIN_SECONDS * 1000;
    let pushes = await fakeCalls(fakes.env.fcmUrl, 'lunch_');
    while (Date.now() < drainEnd && (inFlight.size > 0 || changes.some((c) => !atVendor.has(`${c.orderId}:${c.status}`) || !(atCustomer.has(`${c.orderId}:${c.status}`) || inbox.has(`${c.orderId}:${c.status}`))) || pushes.length < expectedPushes())) {
      await new Promise((r) => setTimeout(r, 500));
      pushes = await fakeCalls(fakes.env.fcmUrl, 'lunch_');
    }
    const pushedAt = new Map<string, number>();
    for (const call of pushes) {
      const data = JSON.parse(call.body).message?.data as { order_id?: string; status?: string } | undefined;
      if (data?.order_id && data.status && !pushedAt.has(`${data.order_id}:${data.status}`)) pushedAt.set(`${data.order_id}:${data.status}`, Date.parse(call.at));
    }

    let lostVendor = 0, lostCustomer = 0, beforeSubscribe = 0, inboxOnly = 0, lostPush = 0;
    for (const ch of changes) {
      const key = `${ch.orderId}:${ch.status}`;
      const v = atVendor.get(key), c = atCustomer.get(key), p = pushedAt.get(key);
      if (v === undefined) lostVendor++;
      if (c !== undefined) ch.step.toCustomerMs.push(Math.max(0, c - ch.at));
      else if (!inbox.has(key)) lostCustomer++;
      else if (ch.at < ch.customerSubscribedAt) beforeSubscribe++;
      else inboxOnly++;
      if (p !== undefined) ch.step.pushMs.push(Math.max(0, p - ch.at));
      else lostPush++;
    }
    for (const [orderId, at] of paidAt) {
      const v = atVendor.get(`${orderId}:new`);
      const step = orderStep.get(orderId)!;
      step.orders++;
      if (step === warm) continue;
      if (v !== undefined) step.toVendorMs.push(Math.max(0, v - at));
      else lostVendor++;
    }

    const p = (xs: number[], q: number) => (xs.length ? percentile([...xs].sort((a, b) => a - b), q).toFixed(0) : '-');
    const rows = steps.map((s) => ({ s, perMin: (s.orders / ((s.ended - s.started) / 1000)) * 60 }));
    log(`\nLunch peak: ${VENDORS} vendors, customers in steps of ${STEPS.join('/')} for ${STEP_SECONDS} s each, every ${CARD_EVERY}th order by card; kitchen pause ${KITCHEN_MS} ms per step; latencies in ms`);
    log(`  ${'cust'.padStart(4)} ${'orders/min'.padStart(10)} ${'place p50'.padStart(9)} ${'p99'.padStart(6)} ${'→vendor p50'.padStart(11)} ${'p99'.padStart(6)} ${'→customer p50'.padStart(13)} ${'p99'.padStart(6)} ${'push p50'.padStart(8)} ${'p99'.padStart(6)} ${'errors'.padStart(6)} ${'CPU% node/deno/pg (load gen)'.padStart(28)} ${'peak PSS MB node/deno/pg'.padStart(25)}`);
    for (const { s, perMin } of rows) {
      log(`  ${String(s.customers).padStart(4)} ${perMin.toFixed(0).padStart(10)} ${p(s.placeMs, 50).padStart(9)} ${p(s.placeMs, 99).padStart(6)} ${p(s.toVendorMs, 50).padStart(11)} ${p(s.toVendorMs, 99).padStart(6)} ${p(s.toCustomerMs, 50).padStart(13)} ${p(s.toCustomerMs, 99).padStart(6)} ${p(s.pushMs, 50).padStart(8)} ${p(s.pushMs, 99).padStart(6)} ${String(s.errors.length).padStart(6)} ${`${s.cpu.node.toFixed(0)}/${s.cpu.deno.toFixed(0)}/${s.cpu.pg.toFixed(0)} (${s.cpu.generator.toFixed(0)})`.padStart(28)} ${`${mb(s.peak.node)}/${mb(s.peak.deno)}/${mb(s.peak.pg)}`.padStart(25)}`);
    }
    const breakStep = [...rows].reverse().find(({ s }) => s.errors.length === 0 && s.toVendorMs.length > 0 && percentile([...s.toVendorMs].sort((a, b) => a - b), 99) < 1000 && rows.slice(0, rows.findIndex((r) => r.s === s) + 1).every((r) => r.s.errors.length === 0));
    log(`  break point (last step with p99 order→vendor < 1 s and no errors): ${breakStep ? `${breakStep.s.customers} customers, ${breakStep.perMin.toFixed(0)} orders/min` : 'none'}`);
    log(`  status changes ${changes.length}, orders paid ${paidAt.size}: lost at vendor ${lostVendor}, lost at customer ${lostCustomer} (on neither the order's channel nor the inbox; ${beforeSubscribe} made before the order's channel had joined and ${inboxOnly} after it reached the customer by the inbox only), pushes missing ${lostPush}`);
    if (lostPush > 0) {
      // A push not at the fake FCM after the drain is late (its delivery still in the
      // outbox) or lost (marked sent, or never queued): the outbox tells which.
      const unsent = await sql<Array<{ status: string; n: number }>>`
        select d.status, count(*)::int as n
        from public.notification_deliveries d
        join public.notifications n on n.id = d.notification_id
        join public.orders o on o.id = n.order_id and o.customer_id = d.user_id
        where d.channel = 'push' and d.status <> 'sent' and o.id = any(${[...orderStep.keys()]}::uuid[])
        group by d.status order by d.status`;
      const late = unsent.reduce((sum, r) => sum + r.n, 0);
      log(`    of the missing pushes, still in the outbox after the drain: ${unsent.map((r) => `${r.n} ${r.status}`).join(', ') || 'none'}; lost (marked sent or never queued): ${Math.max(0, lostPush - late)}`);
    }
    const errs = steps.flatMap((s) => s.errors);
    if (errs.length) log(`  errors (first 5 distinct): ${[...new Set(errs)].slice(0, 5).join(' | ')}`);
    log(`  total time under load ${((Date.now() - runStart) / 1000).toFixed(0)} s`);
    const file = path.join(os.tmpdir(), `lunch-peak-${new Date().toISOString().replace(/[:.]/g, '-')}.svg`);
    writeFileSync(file, chart(rows.map(({ s, perMin }, i) => ({ x: i + 1, label: `${perMin.toFixed(0)}/min (${s.customers} cust.)`, series: {
      'place_order p50': num(p(s.placeMs, 50)), 'place_order p99': num(p(s.placeMs, 99)),
      'order→vendor p50': num(p(s.toVendorMs, 50)), 'order→vendor p99': num(p(s.toVendorMs, 99)),
      'change→customer p50': num(p(s.toCustomerMs, 50)), 'change→customer p99': num(p(s.toCustomerMs, 99)),
    } }))));
    log(`  chart: ${file}`);
    try {
      execFileSync('convert', [file, file.replace(/\.svg$/, '.png')], { stdio: 'ignore' });
      log(`  chart as PNG: ${file.replace(/\.svg$/, '.png')}`);
    } catch { /* no imagemagick: the SVG is the chart */ }
  } finally {
    for (const ch of channels) await ch.unsubscribe().catch(() => {});
    for (const c of clients) c.realtime.disconnect();
    await sql.end({ timeout: 5 });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await fakes.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const num = (s: string) => (s === '-' ? NaN : Number(s));

function subscribe(channel: RealtimeChannel): Promise<void> {
  return new Promise((resolve, reject) => channel.subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : status === 'CHANNEL_ERROR' || status === 'TIMED_OUT' ? reject(err ?? new Error(status)) : undefined)));
}

/** A line chart of latency (log scale) against orders/min, one line per series. */
function chart(points: { x: number; label: string; series: Record<string, number> }[]): string {
  const W = 860, H = 480, L = 70, R = 220, T = 40, B = 60;
  const names = Object.keys(points[0]?.series ?? {});
  const colors = ['#1f77b4', '#1f77b4', '#d62728', '#d62728', '#2ca02c', '#2ca02c'];
  const values = points.flatMap((p) => Object.values(p.series)).filter((v) => Number.isFinite(v) && v > 0);
  const yMin = 1, yMax = Math.max(10, ...values) * 1.5;
  const xMax = points.length + 0.5;
  const sx = (x: number) => L + ((x - 0.5) / xMax) * (W - L - R);
  const sy = (y: number) => T + (1 - Math.log10(Math.max(yMin, y) / yMin) / Math.log10(yMax / yMin)) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(`<text x="${L}" y="22" font-size="15">Lunch peak: latency against load (closed loop; label = concurrent customers)</text>`);
  for (let d = 1; d <= yMax; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > yMax) continue;
      out.push(`<line x1="${L}" x2="${W - R}" y1="${sy(v)}" y2="${sy(v)}" stroke="${m === 1 ? '#ccc' : '#eee'}"/><text x="${L - 6}" y="${sy(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
    }
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${sy(1000)}" y2="${sy(1000)}" stroke="#999" stroke-dasharray="6 4"/><text x="${W - R - 4}" y="${sy(1000) - 4}" text-anchor="end" fill="#666">1 s (break point: order→vendor p99)</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/>`);
  for (const pt of points) out.push(`<text x="${sx(pt.x)}" y="${H - B + 16}" text-anchor="middle">${pt.label.split(' (')[0]}</text><text x="${sx(pt.x)}" y="${H - B + 30}" text-anchor="middle" fill="#888">(${pt.label.split(' (')[1]}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">load step: orders per minute reached (concurrent customers)</text>`);
  names.forEach((name, i) => {
    const pts = points.filter((pt) => Number.isFinite(pt.series[name])).map((pt) => `${sx(pt.x).toFixed(1)},${sy(pt.series[name]).toFixed(1)}`);
    const dash = name.endsWith('p50') ? '' : ' stroke-dasharray="5 3"';
    out.push(`<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    for (const xy of pts) out.push(`<circle cx="${xy.split(',')[0]}" cy="${xy.split(',')[1]}" r="3" fill="${colors[i % colors.length]}"/>`);
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 45}" y1="${T + 20 + i * 20}" y2="${T + 20 + i * 20}" stroke="${colors[i % colors.length]}" stroke-width="2"${dash}/><text x="${W - R + 50}" y="${T + 24 + i * 20}">${name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
