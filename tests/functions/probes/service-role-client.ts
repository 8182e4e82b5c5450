// Run by db-client.test.ts under Deno: exercises _shared/db.ts as the functions
// use it and prints what it saw as one JSON line.
import postgres from 'postgres';
import { asServiceRole, preparesStatements } from '../../../supabase/functions/_shared/db.ts';

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e) => String((e as { code?: string }).code ?? e));

const [who] = await asServiceRole((sql) => sql`select current_user as role`);
// More refusals than the pool has connections: none may leave one unusable.
const refusedUndefined = await Promise.all(Array.from({ length: 12 }, () => outcome(asServiceRole((sql) => sql`select ${undefined as unknown as number}::int`))));
const refusedSql = await Promise.all(Array.from({ length: 12 }, () => outcome(asServiceRole(async (sql) => {
  await sql`select ${1}::int`;
  return sql`select 1 / ${0}::int`;
}))));
const thrown = await Promise.all(Array.from({ length: 12 }, () => outcome(asServiceRole(async (sql) => {
  await sql`select ${1}::int`;
  throw new Error('thrown by the caller');
}))));
// Connections killed in the middle of calls (a database restart, a failover), twice,
// with more calls than the pool has connections: the calls then running or waiting
// fail, and later ones get working connections, without an error escaping.
let escaped = 0;
globalThis.addEventListener('unhandledrejection', (e) => {
  escaped++;
  e.preventDefault();
});
const admin = postgres(Deno.env.get('SUPABASE_DB_URL')!, { max: 1, onnotice: () => {} });
const kills: Array<{ killed: number; interrupted: string[]; after: string[] }> = [];
for (let round = 0; round < 2; round++) {
  const inFlight = Array.from({ length: 8 }, () => outcome(asServiceRole((sql) => sql`select pg_sleep(${2})`)));
  await new Promise((r) => setTimeout(r, 300));
  const [{ killed }] = await admin`select count(*)::int as killed from (
    select pg_terminate_backend(pid) from pg_stat_activity
    where application_name = 'edge-functions' and state = 'active' and query like 'select pg_sleep%') t`;
  const interrupted = await Promise.all(inFlight);
  const after = await Promise.all(Array.from({ length: 12 }, () => outcome(asServiceRole((sql) => sql`select ${1}::int`))));
  kills.push({ killed, interrupted, after });
}
await admin.end();
// Each later call starts outside any transaction (it would fail with 25P02 in an aborted one, or wait forever on a stuck one).
const after = await Promise.all(Array.from({ length: 20 }, (_, i) => asServiceRole(async (sql) => {
  const [row] = await sql`select ${i}::int as i, current_user as role, txid_current()::text as xact`;
  return row;
})));
const transactions = new Set(after.map((r) => r.xact)).size;
const prepares = { direct: preparesStatements(Deno.env.get('SUPABASE_DB_URL')!), transactionPooler: preparesStatements('postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres') };
console.log(JSON.stringify({ prepares, kills, escaped, role: who.role, refusedUndefined, refusedSql, thrown, after: after.map(({ i, role }) => ({ i, role })), transactions }));
Deno.exit(0);
