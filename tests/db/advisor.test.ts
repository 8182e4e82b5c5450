// Our own equivalents of Supabase's security and performance advisor lints
// (splinter), run against the migrated database: any finding fails. Each lint
// is also shown to catch a planted violation (in a rolled-back transaction),
// so none of them can pass by being blind.
import { describe, expect, it } from 'vitest';
import { Rollback, serviceSql, type Tx } from '../helpers/db.ts';

const EXPOSED = ['public', 'graphql_public'];
/** Our schemas: exposed ones plus the helpers' and reports'. */
const OURS = [...EXPOSED, 'private', 'admin'];

interface Lint {
  name: string;
  find: (tx: Tx) => Promise<{ finding: string }[]>;
  /** Creates one violation of this lint (inside a transaction that is rolled back). */
  plant: (tx: Tx) => Promise<unknown>;
}

const expand = `(case when p.cmd = 'ALL' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] else array[p.cmd] end)`;

const lints: Lint[] = [
  {
    name: 'rls_disabled_in_public',
    find: (tx) => tx`select format('%I.%I', n.nspname, c.relname) as finding from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${EXPOSED}) and c.relkind in ('r', 'p') and not c.relrowsecurity`,
    plant: (tx) => tx`create table public.advisor_probe (id int primary key)`,
  },
  {
    name: 'policy_exists_rls_disabled',
    find: (tx) => tx`select format('%I.%I', schemaname, tablename) as finding from pg_policies p
      join pg_class c on c.oid = format('%I.%I', p.schemaname, p.tablename)::regclass
      where p.schemaname = any(${OURS}) and not c.relrowsecurity group by 1`,
    plant: (tx) => tx`create table private.advisor_probe (id int primary key); create policy probe on private.advisor_probe for select to authenticated using (true)`.simple(),
  },
  {
    name: 'rls_enabled_no_policy',
    find: (tx) => tx`select format('%I.%I', n.nspname, c.relname) as finding from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${EXPOSED}) and c.relkind in ('r', 'p') and c.relrowsecurity
        and not exists (select 1 from pg_policy p where p.polrelid = c.oid)`,
    plant: (tx) => tx`create table public.advisor_probe (id int primary key); alter table public.advisor_probe enable row level security`.simple(),
  },
  {
    name: 'security_definer_view',
    find: (tx) => tx`select format('%I.%I', n.nspname, c.relname) as finding from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${EXPOSED}) and c.relkind = 'v'
        and not coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false)`,
    plant: (tx) => tx`create view public.advisor_probe as select 1 as one`,
  },
  {
    name: 'auth_users_exposed',
    find: (tx) => tx`select distinct format('%I.%I', n.nspname, c.relname) as finding
      from pg_depend d join pg_rewrite r on r.oid = d.objid join pg_class c on c.oid = r.ev_class join pg_namespace n on n.oid = c.relnamespace
      where d.refobjid = 'auth.users'::regclass and n.nspname = any(${EXPOSED}) and c.relkind in ('v', 'm')`,
    plant: (tx) => tx`create view public.advisor_probe with (security_invoker = true) as select id from auth.users`,
  },
  {
    name: 'rls_references_user_metadata',
    find: (tx) => tx`select format('%I.%I: %s', schemaname, tablename, policyname) as finding from pg_policies
      where schemaname = any(${[...OURS, 'realtime']}) and (coalesce(qual, '') || coalesce(with_check, '')) ~* 'user_metadata'`,
    plant: (tx) => tx`create policy probe on public.addresses for select to anon using ((auth.jwt() -> 'user_metadata' ->> 'x') = 'y')`,
  },
  {
    name: 'auth_rls_initplan',
    // auth.*() and our per-request helpers must be wrapped in (select ...) so
    // Postgres evaluates them once per statement, not once per row.
    find: (tx) => tx`select format('%I.%I: %s', schemaname, tablename, policyname) as finding from pg_policies
      where schemaname = any(${[...OURS, 'realtime']})
        and regexp_replace(coalesce(qual, '') || ' ' || coalesce(with_check, ''),
                           '\\(\\s*SELECT\\s+(auth\\.(uid|jwt|role|email)|private\\.is_admin)\\(\\)\\s+AS\\s+\\w+\\)', '', 'gi')
            ~* '(auth\\.(uid|jwt|role|email)|private\\.is_admin|current_setting)\\('`,
    plant: (tx) => tx`create policy probe on public.addresses for select to anon using (user_id = auth.uid())`,
  },
  {
    name: 'multiple_permissive_policies',
    find: (tx) => tx`select format('%I.%I %s %s', p.schemaname, p.tablename, r.role, a.action) as finding
      from pg_policies p, unnest(p.roles) r(role), unnest(${tx.unsafe(expand)}) a(action)
      where p.schemaname = any(${EXPOSED}) and p.permissive = 'PERMISSIVE'
      group by p.schemaname, p.tablename, r.role, a.action having count(*) > 1`,
    plant: (tx) => tx`create policy probe on public.addresses for select to authenticated using (false)`,
  },
  {
    name: 'function_search_path_mutable',
    find: (tx) => tx`select format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as finding
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any(${OURS})
        and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
        and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`,
    plant: (tx) => tx`create function public.advisor_probe() returns int language sql as 'select 1'`,
  },
  {
    name: 'extension_in_public',
    find: (tx) => tx`select extname as finding from pg_extension where extnamespace = 'public'::regnamespace`,
    plant: (tx) => tx`create extension citext with schema public`,
  },
  {
    name: 'anon_security_definer_function_executable',
    find: (tx) => tx`select format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as finding
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any(${EXPOSED}) and p.prosecdef and has_function_privilege('anon', p.oid, 'execute')`,
    plant: (tx) => tx`create function public.advisor_probe() returns int language sql security definer set search_path = '' as 'select 1'`,
  },
  {
    name: 'unindexed_foreign_keys',
    find: (tx) => tx`select format('%s.%s', c.conrelid::regclass, c.conname) as finding
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where c.contype = 'f' and n.nspname = any(${OURS})
        and not exists (
          select 1 from pg_index i
          where i.indrelid = c.conrelid
            and (select array_agg(k order by k) from unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) k)
              = (select array_agg(k order by k) from unnest(c.conkey) k))`,
    plant: (tx) => tx`create table public.advisor_probe (id int primary key, user_id uuid references public.profiles (id))`,
  },
  {
    name: 'no_primary_key',
    find: (tx) => tx`select format('%I.%I', n.nspname, c.relname) as finding from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${OURS}) and c.relkind in ('r', 'p')
        and not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p')`,
    plant: (tx) => tx`create table private.advisor_probe (id int)`,
  },
];

describe('security advisor equivalents', () => {
  for (const lint of lints) {
    it(`${lint.name}: no findings`, async () => {
      const rows = await serviceSql().begin((tx) => lint.find(tx));
      expect(rows.map((r) => r.finding)).toEqual([]);
    });

    it(`${lint.name}: catches a planted violation`, async () => {
      let planted: string[] = [];
      await serviceSql().begin(async (tx) => {
        await lint.plant(tx);
        planted = (await lint.find(tx)).map((r) => r.finding);
        throw new Rollback();
      }).catch((err) => {
        if (!(err instanceof Rollback)) throw err;
      });
      expect(planted.length).toBeGreaterThan(0);
    });
  }

  it('exposes no definer function to anon, and every privileged RPC to the roles it serves only', async () => {
    const rows = await serviceSql()`
      select p.proname, has_function_privilege('anon', p.oid, 'execute') as anon, has_function_privilege('authenticated', p.oid, 'execute') as auth
      from pg_proc p where p.pronamespace = 'public'::regnamespace and p.prosecdef order by 1`;
    const serviceOnly = [
      'apply_transfer_status', 'begin_payment', 'cancel_unaccepted_orders', 'claim_card_refunds', 'claim_notification_deliveries', 'claim_payouts',
      'complete_notification_delivery', 'confirm_payment', 'deactivate_device_tokens', 'expire_unpaid_orders', 'payments_to_reconcile',
      'record_card_refund_result', 'record_payment_failure', 'record_payout_send_error', 'record_provider_refund', 'release_scheduled_orders',
      'save_payout_account', 'set_payment_provider_data',
    ];
    for (const r of rows) {
      expect({ fn: r.proname, anon: r.anon, auth: r.auth }).toEqual({ fn: r.proname, anon: false, auth: !serviceOnly.includes(r.proname) });
    }
  });

  it('comments every table and column in public', async () => {
    const missing = await serviceSql()`
      select c.relname || coalesce('.' || a.attname, '') as name
      from pg_class c
      left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        and (obj_description(c.oid, 'pg_class') is null or (a.attnum is not null and col_description(c.oid, a.attnum) is null))
      order by 1`;
    expect(missing.map((m) => m.name)).toEqual([]);
  });
});
