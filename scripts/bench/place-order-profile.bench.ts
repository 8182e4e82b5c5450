// Where place_order's time goes, statement by statement: auto_explain with
// nested statements (its plans sent to this session as notices) over a few
// calls, and pg_stat_user_functions (track_functions = all) over many, each
// call framed as PostgREST frames an RPC. The floor's triggers are the same;
// what place_order adds is its pricing and checks.
import postgres from 'postgres';
import type { BenchContext } from './harness.ts';
import { setUp } from './place-order.bench.ts';

const CALLS = 300;
const EXPLAINED = 5;

export default async function placeOrderProfile(ctx: BenchContext): Promise<void> {
  const { config, log } = ctx;
  const plans: string[] = [];
  // The platform's superuser: resetting statistics, track_functions and loading auto_explain are
  // superuser-only (as on hosted, where a project reads pg_stat_statements instead).
  const sql = postgres(config.adminDbUrl, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  try {
    const f = await setUp(sql, ['23496', '23497']);
    const call = (i: number) => sql.begin(async (tx) => {
      const user = f.users[i % f.users.length];
      const m = f.vendors[i % f.vendors.length];
      const basket = JSON.stringify([{ menu_item_id: m.jollof, quantity: 2, modifier_ids: [m.chicken, m.plantain] }, { menu_item_id: m.suya, quantity: 1, modifier_ids: [] }]);
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: user.id })}, true)`;
      await tx`select total from public.place_order(${m.vendorId}::uuid, ${basket}::text::jsonb, 'delivery', ${user.addressId}::uuid, 'wallet')`;
    });
    for (let i = 0; i < 30; i++) await call(i);

    await sql`select pg_stat_reset()`;
    await sql`set track_functions = 'all'`;
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) await call(i);
    const perCall = (performance.now() - t0) / CALLS;
    await sql`set track_functions = 'none'`;
    await new Promise((r) => setTimeout(r, 700));
    const fns = await sql`select schemaname || '.' || funcname as fn, calls, total_time, self_time from pg_stat_user_functions where calls > 0 order by self_time desc limit 15`;
    log(`\nplace_order, one client, ${CALLS} calls: ${perCall.toFixed(2)} ms per call from the client; per function (ms per place_order):`);
    log(`  ${'function'.padEnd(50)} ${'calls/order'.padStart(11)} ${'total'.padStart(7)} ${'self'.padStart(7)}`);
    for (const r of fns) log(`  ${String(r.fn).padEnd(50)} ${(Number(r.calls) / CALLS).toFixed(1).padStart(11)} ${(r.total_time / CALLS).toFixed(3).padStart(7)} ${(r.self_time / CALLS).toFixed(3).padStart(7)}`);

    await sql`load 'auto_explain'`;
    await sql`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_analyze', 'on', false),
      set_config('auto_explain.log_nested_statements', 'on', false), set_config('auto_explain.log_level', 'notice', false), set_config('client_min_messages', 'notice', false)`;
    plans.length = 0;
    for (let i = 0; i < EXPLAINED; i++) await call(i);
    await sql`select set_config('auto_explain.log_min_duration', '-1', false)`;
    const byStatement = new Map<string, number>();
    for (const p of plans) {
      const m = /duration: ([\d.]+) ms\s+plan:\s+Query Text: ([\s\S]*?)\n(?:\S|\s{2})/.exec(p);
      if (!m) continue;
      const text = m[2].replace(/\s+/g, ' ').trim().slice(0, 90);
      byStatement.set(text, (byStatement.get(text) ?? 0) + Number(m[1]) / EXPLAINED);
    }
    log(`\nauto_explain (analyze, nested), ${EXPLAINED} calls: statements by time per place_order (ms, inclusive of what they call; EXPLAIN ANALYZE's own overhead included)`);
    for (const [text, ms] of [...byStatement].sort((a, b) => b[1] - a[1]).slice(0, 25)) log(`  ${ms.toFixed(3).padStart(7)}  ${text}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
