// place_order paid by wallet, called over SQL as an authenticated user exactly
// as PostgREST runs an RPC (role and JWT claims set in the transaction), with 1
// and 16 clients. Baseline, measured in the same run: the client-side algorithm
// (load vendor, items and modifiers, price in the client, then lock the wallet,
// insert the order, each line, the history row, debit and write the ledger row
// in separate round trips), run as the database owner inside one transaction.
// Both produce the same rows and fire the same triggers. A third run, the floor,
// writes those rows with nothing left to decide: its ratio bounds what any
// place_order could reach against this baseline on this machine. All of them
// pay the platform's default fees (service fee, VAT). A fourth run is checkout
// v2 at full stretch: a platform coupon, a tip and a stock-tracked item (target:
// at least 0.8 of plain place_order's throughput in the same run).
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import http from 'node:http';
import { signJwt } from '../../stack/keys.ts';
import { printComparison, runConcurrent, startDelayProxy, type BenchContext, type RunResult } from './harness.ts';

const USERS = 32;
const VENDORS = 8;
const MAX_CLIENTS = 16;
const OPS = { 1: 300, 16: 1600 } as const;
const MAX_SECONDS = 20;
const DELAYED_OPS = 800;
/** Milliseconds each way on the delayed network (BENCH_DELAY_MS). */
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 0.5);
const TPCB_BRANCHES = 16;
const TPCB_ACCOUNTS_PER_BRANCH = 10_000;

interface Menu {
  vendorId: string;
  coupon: string;
  zobo: string;
  jollof: string;
  suya: string;
  chicken: string;
  plantain: string;
}

interface Fixture {
  vendors: Menu[];
  users: { id: string; addressId: string }[];
}

/** Users and vendors; `phones` are the phone-number prefixes of each, so that two fixtures in one database differ. */
export async function setUp(sql: postgres.Sql, phones = ['23491', '23492']): Promise<Fixture> {
  const users: Fixture['users'] = [];
  for (let i = 0; i < USERS; i++) {
    const id = randomUUID();
    await sql`insert into auth.users (instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
              values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${`${phones[0]}${String(process.pid % 1000).padStart(3, '0')}${String(i).padStart(5, '0')}`},
                      now(), '{"provider":"phone","providers":["phone"]}', '{}', now(), now())`;
    const [a] = await sql`insert into public.addresses (user_id, label, line1, city, lat, lng) values (${id}, 'Home', '3 Ozumba Mbadiwe Ave', 'Lagos', 6.433, 3.425) returning id`;
    // A confirmed top-up (payment and ledger credit), so the money has a source.
    await sql`with p as (insert into public.payments (provider, purpose, user_id, amount, currency, status, paid_at)
                         values ('paystack', 'wallet_topup', ${id}::uuid, 10000000000::bigint, 'NGN', 'succeeded', now()) returning *)
              select private.post_wallet_entry(p.user_id, p.amount, 'topup', p.reference, 'payment:' || p.id, null, p.id) from p`;
    users.push({ id, addressId: a.id });
  }
  const vendors: Menu[] = [];
  for (let i = 0; i < VENDORS; i++) {
    const owner = randomUUID();
    await sql`insert into auth.users (instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
              values ('00000000-0000-0000-0000-000000000000', ${owner}, 'authenticated', 'authenticated', ${`${phones[1]}${String(process.pid % 1000).padStart(3, '0')}${String(i).padStart(5, '0')}`},
                      now(), '{"provider":"phone","providers":["phone"]}', '{}', now(), now())`;
    const [v] = await sql`insert into public.vendors (owner_id, name, lat, lng, status, is_open) values (${owner}, ${`Bench Buka ${i + 1}`}, 6.4281, 3.4219, 'active', true) returning id`;
    const [jollof] = await sql`insert into public.menu_items (vendor_id, name, price) values (${v.id}, 'Jollof rice', 250000) returning id`;
    const [suya] = await sql`insert into public.menu_items (vendor_id, name, price) values (${v.id}, 'Suya', 150000) returning id`;
    const [protein] = await sql`insert into public.modifier_groups (vendor_id, menu_item_id, name, min_select, max_select) values (${v.id}, ${jollof.id}, 'Protein', 1, 1) returning id`;
    const [extras] = await sql`insert into public.modifier_groups (vendor_id, menu_item_id, name, min_select, max_select) values (${v.id}, ${jollof.id}, 'Extras', 0, 2) returning id`;
    const [chicken] = await sql`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${v.id}, ${protein.id}, 'Chicken', 80000) returning id`;
    await sql`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${v.id}, ${protein.id}, 'Beef', 60000)`;
    const [plantain] = await sql`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${v.id}, ${extras.id}, 'Plantain', 30000) returning id`;
    // Checkout v2: a platform coupon without limits (no lock) and plenty of tracked stock.
    const coupon = `BENCH${phones[0]}${process.pid % 100000}X${i}`;
    await sql`insert into public.coupons (code, kind, value, per_customer_limit) values (${coupon}, 'percent', 10, null)`;
    const [zobo] = await sql`insert into public.menu_items (vendor_id, name, price, stock) values (${v.id}, 'Zobo', 50000, 1000000) returning id`;
    vendors.push({ vendorId: v.id, coupon, zobo: zobo.id, jollof: jollof.id, suya: suya.id, chicken: chicken.id, plantain: plantain.id });
  }
  return { vendors, users };
}

export default async function placeOrderBench(ctx: BenchContext): Promise<void> {
  const { config, log } = ctx;
  const sql = postgres(config.dbUrl, { max: MAX_CLIENTS + 2, onnotice: () => {} });
  try {
    const f = await setUp(sql);
    const basket = (m: Menu) => [
      { menu_item_id: m.jollof, quantity: 2, modifier_ids: [m.chicken, m.plantain] },
      { menu_item_id: m.suya, quantity: 1, modifier_ids: [] as string[] },
    ];
    const baskets = f.vendors.map((m) => JSON.stringify(basket(m)));
    const basketsV2 = f.vendors.map((m) => JSON.stringify([...basket(m), { menu_item_id: m.zobo, quantity: 1 }]));
    // The fees as place_order computes them (see the checkout migration for the rounding).
    const [fees] = await sql`select service_fee_rate, service_fee_cap, small_order_threshold, small_order_fee, vat_rate from public.platform_settings`;
    const priceFees = (subtotal: number, deliveryFee: number) => {
      const service = Math.min(Math.round(subtotal * Number(fees.service_fee_rate)), Number(fees.service_fee_cap));
      const small = subtotal < Number(fees.small_order_threshold) ? Number(fees.small_order_fee) : 0;
      const vat = Math.round((service + small + deliveryFee) * Number(fees.vat_rate));
      return { service, small, vat, total: subtotal + deliveryFee + service + small + vat };
    };
    const subtotalOf = (250000 + 80000 + 30000) * 2 + 150000;
    const expectedTotal = priceFees(subtotalOf, 50000).total;
    const TIP = 50000;
    const subtotalV2 = subtotalOf + 50000;
    const expectedV2 = priceFees(subtotalV2, 50000).total - Math.floor(subtotalV2 * 10 / 100) + TIP;

    // Each client orders as its own user from one of several vendors, as real
    // traffic does, so runs measure the ordering path rather than the row locks
    // of one wallet or the foreign-key locks of one vendor's rows.
    const rpc = (client: number, db = sql) => db.begin(async (tx) => {
      const user = f.users[client % USERS];
      const m = f.vendors[client % VENDORS];
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: user.id })}, true)`;
      const [o] = await tx`select total from public.place_order(${m.vendorId}::uuid, ${baskets[client % VENDORS]}::text::jsonb, 'delivery', ${user.addressId}::uuid, 'wallet')`;
      if (Number(o.total) !== expectedTotal) throw new Error(`place_order priced ${o.total}, expected ${expectedTotal}`);
    });

    const rpcV2 = (client: number) => sql.begin(async (tx) => {
      const user = f.users[client % USERS];
      const m = f.vendors[client % VENDORS];
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: user.id })}, true)`;
      const [o] = await tx`select total from public.place_order(${m.vendorId}::uuid, ${basketsV2[client % VENDORS]}::text::jsonb, 'delivery', ${user.addressId}::uuid, 'wallet',
                                                                p_coupon_code => ${m.coupon}, p_tip => ${TIP}::bigint)`;
      if (Number(o.total) !== expectedV2) throw new Error(`place_order (v2) priced ${o.total}, expected ${expectedV2}`);
    });

    const clientSide = (client: number, db = sql) => db.begin(async (tx) => {
      const user = f.users[client % USERS];
      const m = f.vendors[client % VENDORS];
      const items = basket(m);
      const [v] = await tx`select id, status, is_open, base_delivery_fee, min_order_amount, commission_rate, currency, lat, lng, delivery_radius_km from public.vendors where id = ${m.vendorId}`;
      if (v.status !== 'active' || !v.is_open) throw new Error('vendor closed');
      const menu = await tx`select id, name, price, is_available, vendor_id from public.menu_items where id in ${tx(items.map((i) => i.menu_item_id))}`;
      const mods = await tx`select m.id, m.name, m.price_delta, g.menu_item_id, g.id as group_id from public.modifiers m join public.modifier_groups g on g.id = m.group_id where m.id in ${tx(items.flatMap((i) => i.modifier_ids))}`;
      const [addr] = await tx`select * from public.addresses where id = ${user.addressId} and user_id = ${user.id}`;
      const lines = items.map((line, position) => {
        const item = menu.find((m) => m.id === line.menu_item_id)!;
        const chosen = mods.filter((m) => line.modifier_ids.includes(m.id));
        const modsTotal = chosen.reduce((s, m) => s + Number(m.price_delta), 0);
        return { item, chosen, modsTotal, quantity: line.quantity, lineTotal: (Number(item.price) + modsTotal) * line.quantity, position: position + 1 };
      });
      const subtotal = lines.reduce((s, l) => s + l.lineTotal, 0);
      const fee = Number(v.base_delivery_fee);
      const [st] = await tx`select service_fee_rate, service_fee_cap, small_order_threshold, small_order_fee, vat_rate from public.platform_settings`;
      if (Number(st.service_fee_rate) !== Number(fees.service_fee_rate)) throw new Error('settings changed');
      const charged = priceFees(subtotal, fee);
      const [w] = await tx`select id, balance from public.wallets where user_id = ${user.id} for update`;
      if (Number(w.balance) < charged.total) throw new Error('insufficient_funds');
      const [o] = await tx`
        insert into public.orders (customer_id, vendor_id, status, fulfillment, address_id, delivery_address, currency, subtotal, delivery_fee,
                                   service_fee, small_order_fee, vat, total, commission_rate, commission, payment_method, payment_status, paid_at)
        values (${user.id}, ${m.vendorId}, 'new', 'delivery', ${addr.id}, ${tx.json({ label: addr.label, line1: addr.line1, city: addr.city, lat: addr.lat, lng: addr.lng })},
                ${v.currency}, ${subtotal}, ${fee}, ${charged.service}, ${charged.small}, ${charged.vat}, ${charged.total},
                ${v.commission_rate}, ${Math.round(subtotal * Number(v.commission_rate))}, 'wallet', 'paid', now())
        returning id, number, total`;
      for (const l of lines) {
        await tx`insert into public.order_items (order_id, menu_item_id, name, unit_price, modifiers, modifiers_total, quantity, line_total, position)
                 values (${o.id}, ${l.item.id}, ${l.item.name}, ${l.item.price}, ${tx.json(l.chosen.map((m) => ({ id: m.id, name: m.name, price_delta: Number(m.price_delta) })))},
                         ${l.modsTotal}, ${l.quantity}, ${l.lineTotal}, ${l.position})`;
      }
      await tx`insert into public.order_events (order_id, to_status, actor_id, actor_role) values (${o.id}, 'new', ${user.id}, 'customer')`;
      const [after] = await tx`update public.wallets set balance = balance - ${o.total} where id = ${w.id} returning balance`;
      await tx`insert into public.wallet_transactions (wallet_id, type, amount, balance_after, reference, idempotency_key, order_id)
               values (${w.id}, 'order_payment', ${-Number(o.total)}, ${after.balance}, ${o.number}, ${'order:' + o.id + ':payment'}, ${o.id})`;
      if (Number(o.total) !== expectedTotal) throw new Error(`client priced ${o.total}, expected ${expectedTotal}`);
    });

    // The floor: the same rows (so the same triggers) written by one statement
    // with the prices already known, framed as the RPC is (as the table owner,
    // since authenticated may not write these tables). No pricing and no checks,
    // so no implementation that writes these rows can be cheaper.
    // What place_order's pricing decides for each user's basket, computed once,
    // so the floor writes exactly the rows place_order writes.
    const quotes = await Promise.all(f.users.map(async (u, i) => {
      const [r] = await sql`select private.price_order(${u.id}::uuid, ${f.vendors[i % VENDORS].vendorId}::uuid, ${baskets[i % VENDORS]}::text::jsonb, 'delivery', ${u.addressId}::uuid) as q`;
      return r.q;
    }));
    const writesOnly = (client: number) => sql.begin(async (tx) => {
      const user = f.users[client % USERS];
      const q = quotes[client % USERS];
      await tx`select set_config('role', 'postgres', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: user.id })}, true)`;
      const [o] = await tx`
        with o as (
          insert into public.orders (customer_id, vendor_id, status, fulfillment, address_id, delivery_address, currency, subtotal, delivery_fee,
                                     service_fee, small_order_fee, vat, total, commission_rate, commission, payment_method, payment_status, paid_at)
          values (${user.id}, ${q.vendor_id}, 'new', 'delivery', ${q.address_id}, ${tx.json(q.delivery_address)},
                  ${q.currency}, ${q.subtotal}, ${q.delivery_fee}, ${q.service_fee}, ${q.small_order_fee}, ${q.vat}, ${q.total},
                  ${q.commission_rate}, ${q.commission}, 'wallet', 'paid', now())
          returning id, number, total
        ), items as (
          insert into public.order_items (order_id, menu_item_id, name, unit_price, modifiers, modifiers_total, quantity, line_total, position)
          select o.id, i.menu_item_id, i.name, i.unit_price, i.modifiers, i.modifiers_total, i.quantity, i.line_total, i.position
          from o, jsonb_to_recordset(${tx.json(q.items)}) as i (menu_item_id uuid, name text, unit_price bigint, modifiers jsonb,
                                                                   modifiers_total bigint, quantity integer, line_total bigint, position integer)
        ), history as (
          insert into public.order_events (order_id, to_status, actor_id, actor_role) select o.id, 'new', ${user.id}, 'customer' from o
        ), w as (
          update public.wallets set balance = balance - (select total from o) where user_id = ${user.id} returning id, balance
        )
        insert into public.wallet_transactions (wallet_id, type, amount, balance_after, reference, idempotency_key, order_id)
        select w.id, 'order_payment', -o.total, w.balance, o.number, 'order:' || o.id || ':payment', o.id from w, o
        returning amount`;
      if (-Number(o.amount) !== expectedTotal) throw new Error(`floor wrote ${o.amount}, expected ${-expectedTotal}`);
    });

    // Warm every path (plans, caches) outside the measurement.
    for (let i = 0; i < 20; i++) {
      await rpc(i);
      await rpcV2(i);
      await clientSide(i);
      await writesOnly(i);
    }

    const results: Record<number, { base: RunResult; ours: RunResult; v2: RunResult; floor: RunResult }> = {};
    for (const clients of [1, 16] as const) {
      const base = await runConcurrent('client-side pricing, many round trips', { clients, totalOps: OPS[clients], maxSeconds: MAX_SECONDS }, (c) => clientSide(c));
      const ours = await runConcurrent('place_order RPC as authenticated', { clients, totalOps: OPS[clients], maxSeconds: MAX_SECONDS }, (c) => rpc(c));
      const v2 = await runConcurrent('place_order + coupon, tip, tracked stock', { clients, totalOps: OPS[clients], maxSeconds: MAX_SECONDS }, (c) => rpcV2(c));
      const floor = await runConcurrent('floor: same rows, prices known, 1 statement', { clients, totalOps: OPS[clients], maxSeconds: MAX_SECONDS }, (c) => writesOnly(c));
      results[clients] = { base, ours, v2, floor };
    }
    for (const clients of [1, 16] as const) {
      const r = results[clients];
      printComparison(`place_order by wallet, ${clients} client${clients > 1 ? 's' : ''}`, r.base, [r.ours, r.v2, r.floor], log);
      log(`  checkout v2 / plain place_order: ${(r.v2.opsPerSec / r.ours.opsPerSec).toFixed(2)} (target >= 0.80)`);
    }
    // The physical limit: pgbench's TPC-B-like transaction at 16 clients, on the same database, right after.
    const tpcb = await tpcbRun(sql);
    printComparison('16 clients, beside the physical limit', results[16].base, [results[16].ours, results[16].floor, tpcb], log);
    log(`  place_order ÷ floor ${(results[16].ours.opsPerSec / results[16].floor.opsPerSec).toFixed(2)} (target ≥ 0.85); place_order ÷ TPC-B-like ${(results[16].ours.opsPerSec / tpcb.opsPerSec).toFixed(2)} (target ≥ 0.25)`);

    // Where round trips cost what they do: every connection through a proxy that delays each way.
    const pgProxy = await startDelayProxy({ host: config.host, port: config.dbPort }, DELAY_MS);
    const apiProxy = await startDelayProxy({ host: config.host, port: config.apiPort }, DELAY_MS);
    const far = postgres({ ...sql.options, host: ['127.0.0.1'], port: [pgProxy.port], max: MAX_CLIENTS + 2, onnotice: () => {} } as never);
    const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_CLIENTS });
    const secret = new TextEncoder().encode(config.keys.jwtSecret);
    const tokens = await Promise.all(f.users.map((u) => signJwt({ sub: u.id, role: 'authenticated', aud: 'authenticated', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 }, secret)));
    const restUrl = `http://127.0.0.1:${apiProxy.port}/rest/v1/rpc/place_order`;
    const overRest = (client: number) => new Promise<void>((resolve, reject) => {
      const user = f.users[client % USERS];
      const m = f.vendors[client % VENDORS];
      const body = JSON.stringify({ p_vendor_id: m.vendorId, p_items: basket(m), p_fulfillment: 'delivery', p_address_id: user.addressId, p_payment_method: 'wallet' });
      const req = http.request(restUrl, { method: 'POST', agent, headers: { apikey: config.keys.anonKey, authorization: `Bearer ${tokens[client % USERS]}`, 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c)).on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`REST place_order answered ${res.statusCode} ${text}`));
          if (Number(JSON.parse(text).total) !== expectedTotal) return reject(new Error(`REST place_order priced ${text}`));
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
    try {
      for (let i = 0; i < 20; i++) await Promise.all([clientSide(i, far), rpc(i, far), overRest(i)]);
      const ping = async (db: postgres.Sql) => {
        const t0 = performance.now();
        for (let i = 0; i < 50; i++) await db`select 1`;
        return (performance.now() - t0) / 50;
      };
      const added = (await ping(far)) - (await ping(sql));
      log(`\nThrough a TCP proxy delaying each way by ${DELAY_MS} ms (configured round trip added: ${(2 * DELAY_MS).toFixed(2)} ms, measured: ${added.toFixed(2)} ms)`);
      for (const clients of [1, 16] as const) {
        const n = Math.min(OPS[clients], DELAYED_OPS);
        const base = await runConcurrent('client-side pricing, many round trips', { clients, totalOps: n, maxSeconds: MAX_SECONDS }, (c) => clientSide(c, far));
        const ours = await runConcurrent('place_order RPC over SQL', { clients, totalOps: n, maxSeconds: MAX_SECONDS }, (c) => rpc(c, far));
        const rest = await runConcurrent('place_order over REST (/rest/v1/rpc)', { clients, totalOps: n, maxSeconds: MAX_SECONDS }, (c) => overRest(c));
        printComparison(`place_order by wallet, ${clients} client${clients > 1 ? 's' : ''}, delayed network`, base, [ours, rest], log);
        if (clients === 16) log(`  place_order over REST ÷ client-side design: ${(rest.opsPerSec / base.opsPerSec).toFixed(2)} (target ≥ 3)`);
      }
    } finally {
      agent.destroy();
      await far.end({ timeout: 5 });
      await pgProxy.close();
      await apiProxy.close();
    }
    const [books] = await sql`select balanced from admin.money_conservation`;
    log(`  money conservation after the runs: ${books.balanced ? 'balanced' : 'NOT BALANCED'}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * pgbench's built-in TPC-B-like transaction (`-b tpcb-like`: update an account,
 * read it back, update its teller and branch, insert a history row; one round
 * trip per statement) run by this driver at 16 clients, on tables of its own.
 * Scale 16 (16 branches, 160 tellers) so that 16 clients contend as pgbench's
 * guidance intends (scale ≥ clients); 10,000 accounts per branch instead of
 * 100,000 keeps the set-up short, and all of it is in memory either way.
 */
async function tpcbRun(sql: postgres.Sql): Promise<RunResult> {
  const accounts = TPCB_BRANCHES * TPCB_ACCOUNTS_PER_BRANCH;
  await sql.unsafe(`
    drop schema if exists pgbench cascade;
    create schema pgbench;
    create table pgbench.branches (bid int primary key, bbalance int not null, filler char(88)) with (fillfactor = 100);
    create table pgbench.tellers (tid int primary key, bid int not null, tbalance int not null, filler char(84)) with (fillfactor = 100);
    create table pgbench.accounts (aid int primary key, bid int not null, abalance int not null, filler char(84)) with (fillfactor = 100);
    create table pgbench.history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
    insert into pgbench.branches select b, 0 from generate_series(1, ${TPCB_BRANCHES}) b;
    insert into pgbench.tellers select t, (t - 1) / 10 + 1, 0 from generate_series(1, ${TPCB_BRANCHES * 10}) t;
    insert into pgbench.accounts select a, (a - 1) / ${TPCB_ACCOUNTS_PER_BRANCH} + 1, 0, '' from generate_series(1, ${accounts}) a;`);
  await sql`vacuum analyze pgbench.branches, pgbench.tellers, pgbench.accounts`;
  const rand = (n: number) => 1 + Math.floor(Math.random() * n);
  const tx = () => sql.begin(async (t) => {
    const aid = rand(accounts), bid = rand(TPCB_BRANCHES), tid = rand(TPCB_BRANCHES * 10), delta = Math.floor(Math.random() * 10001) - 5000;
    await t`update pgbench.accounts set abalance = abalance + ${delta} where aid = ${aid}`;
    await t`select abalance from pgbench.accounts where aid = ${aid}`;
    await t`update pgbench.tellers set tbalance = tbalance + ${delta} where tid = ${tid}`;
    await t`update pgbench.branches set bbalance = bbalance + ${delta} where bid = ${bid}`;
    await t`insert into pgbench.history (tid, bid, aid, delta, mtime) values (${tid}, ${bid}, ${aid}, ${delta}, current_timestamp)`;
  });
  try {
    for (let i = 0; i < 50; i++) await tx();
    return await runConcurrent('pgbench TPC-B-like (the physical limit)', { clients: 16, totalOps: 4000, maxSeconds: MAX_SECONDS }, () => tx());
  } finally {
    await sql`drop schema pgbench cascade`;
  }
}
