// /rest/v1 throughput against direct SQL, at 16 and 64 clients: a filtered
// embedded read (a vendor with its categories, items, modifier groups and
// modifiers) and an rpc call (nearby_vendors). The direct runs send the very
// statement the REST service generates (planned by the same modules) over a
// pooled connection as prepared statements, in a transaction as `anon` so RLS does the same work;
// the ratio is what HTTP, the gateway, JWT checks, planning and the request
// settings cost. Target: REST keeps at least 70% of direct throughput.
import http from 'node:http';
import postgres from 'postgres';
import { findRoutine, planRead, planRpc, type PlanInput } from '../../stack/services/rest/plan.ts';
import { parseQuery } from '../../stack/services/rest/query-string.ts';
import { loadSchemaCache } from '../../stack/services/rest/schema-cache.ts';
import { printComparison, runConcurrent, type BenchContext, type RunResult } from './harness.ts';

const CLIENT_COUNTS = [16, 64];
const OPS = 3000;
const MAX_SECONDS = 15;
const POOL = 8;

const VENDOR_SLUG = 'mama-cass-kitchen';
const MENU_QUERY = `select=id,name,menu_categories(id,name,sort_order,menu_items(id,name,price,is_available,modifier_groups(id,name,min_select,max_select,modifiers(id,name,price_delta))))&slug=eq.${VENDOR_SLUG}`;
const RPC_ARGS = { p_lat: 6.4281, p_lng: 3.4219, p_radius_km: 15 };

export default async function restBench(ctx: BenchContext): Promise<void> {
  const { config, log } = ctx;
  const direct = postgres(config.dbUrl, { max: POOL, onnotice: () => {}, fetch_types: false });
  // As in the service: values go as text, typed by the server.
  for (const oid of Object.keys(direct.options.serializers)) delete direct.options.serializers[oid as unknown as number];
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CLIENT_COUNTS) });
  try {
    const catalog = postgres(config.dbUrl, { max: 1, onnotice: () => {} });
    const cache = await loadSchemaCache(catalog, ['public']).finally(() => catalog.end());
    const input = (qs: string): PlanInput => ({ cache, schema: 'public', query: parseQuery(new URLSearchParams(qs)), prefs: { applied: [] }, shape: 'array', stripNulls: false, maxRows: 1000, range: null });
    const read = planRead(input(MENU_QUERY), 'vendors');
    const { routine } = findRoutine(cache, 'public', 'nearby_vendors', Object.keys(RPC_ARGS), { post: true, singleObject: false, isGet: false });
    const rpc = planRpc(input(''), routine, RPC_ARGS, false, false);

    const restCall = (method: string, path: string, body?: string) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(`${config.apiUrl}/rest/v1${path}`, { method, agent, headers: { apikey: config.keys.anonKey, 'content-type': 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`${path} answered ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`));
            else if (Buffer.concat(chunks).length < 3) reject(new Error(`${path} returned an empty result; is the seed loaded?`));
            else resolve();
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    const directCall = (statement: { sql: string; params: unknown[] }) =>
      direct.begin(async (tx) => {
        // Prepared, as the service runs a read or call it has planned before.
        const [, rows] = await Promise.all([tx.unsafe(`select set_config('role', 'anon', true)`, [], { prepare: true }), tx.unsafe(statement.sql, [...statement.params] as never[], { prepare: true })]);
        if (!rows[0] || String(rows[0].body).length < 3) throw new Error('direct SQL returned an empty result; is the seed loaded?');
      });

    const scenarios: Array<[string, () => Promise<unknown>, () => Promise<unknown>]> = [
      ['vendor menu (4-level embed)', () => restCall('GET', `/vendors?${MENU_QUERY}`), () => directCall(read)],
      ['rpc nearby_vendors', () => restCall('POST', '/rpc/nearby_vendors', JSON.stringify(RPC_ARGS)), () => directCall(rpc)],
    ];
    for (const [name, viaRest, viaSql] of scenarios) {
      await viaRest();
      await viaSql();
      for (const clients of CLIENT_COUNTS) {
        const baseline: RunResult = await runConcurrent(`direct SQL, ${name}`, { clients, totalOps: OPS, maxSeconds: MAX_SECONDS }, viaSql);
        const overRest = await runConcurrent(`/rest/v1, ${name}`, { clients, totalOps: OPS, maxSeconds: MAX_SECONDS }, viaRest);
        printComparison(`REST vs direct SQL: ${name}, ${clients} clients (target ≥ 0.70)`, baseline, [overRest], log);
      }
    }
  } finally {
    agent.destroy();
    await direct.end();
  }
}
