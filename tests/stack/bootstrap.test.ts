// The platform bootstrap makes the database look like a Supabase database.
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { asAnon, asService, asUser, createUser, rolledBack, serviceSql } from '../helpers/db.ts';
import { createAdmin } from '../db/fixtures.ts';
import { stackEnv } from '../helpers/env.ts';

describe('platform bootstrap', () => {
  it('has the Supabase roles with their attributes and memberships', async () => {
    const sql = serviceSql();
    const roles = await sql`
      select rolname, rolcanlogin, rolinherit, rolbypassrls
      from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin')
      order by rolname`;
    expect(roles.map((r) => r.rolname)).toEqual(['anon', 'authenticated', 'authenticator', 'service_role', 'supabase_admin']);
    const byName = Object.fromEntries(roles.map((r) => [r.rolname, r]));
    expect(byName.anon.rolcanlogin).toBe(false);
    expect(byName.authenticator.rolcanlogin).toBe(true);
    expect(byName.authenticator.rolinherit).toBe(false);
    expect(byName.service_role.rolbypassrls).toBe(true);
    expect(byName.authenticated.rolbypassrls).toBe(false);
    const [m] = await sql`
      select bool_and(pg_has_role('authenticator', r, 'MEMBER')) as ok
      from unnest(array['anon', 'authenticated', 'service_role']) r`;
    expect(m.ok).toBe(true);
  });

  // The local stack's authenticator password is the CLI's; another Supabase's is not known here.
  it.runIf(stackEnv().embedded)('gives the REST login role the timeouts hosted gives it (statement 8 s, lock 8 s)', async () => {
    const url = new URL(stackEnv().dbUrl);
    url.username = 'authenticator';
    const rest = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      const [t] = await rest`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`;
      expect(t).toEqual({ statement: '8s', lock: '8s' });
    } finally {
      await rest.end({ timeout: 5 });
    }
  });

  it('grants new public tables to the API roles by default, as Supabase does', async () => {
    // Created as `postgres` (as migrations are) and rolled back, so no other test sees it.
    const grants = await rolledBack(async (tx) => {
      await tx`create table public.bootstrap_probe (id int primary key)`;
      const [g] = await tx`
        select has_table_privilege('anon', 'public.bootstrap_probe', 'select') as anon_select,
               has_table_privilege('authenticated', 'public.bootstrap_probe', 'insert') as auth_insert,
               has_table_privilege('service_role', 'public.bootstrap_probe', 'delete') as service_delete`;
      return g;
    });
    expect(grants).toEqual({ anon_select: true, auth_insert: true, service_delete: true });
  });

  it('provides the extensions the project uses, in schema extensions', async () => {
    const sql = serviceSql();
    const installed = await sql`select extname, extnamespace::regnamespace::text as schema from pg_extension where extname in ('pgcrypto', 'uuid-ossp')`;
    expect(installed.every((e) => e.schema === 'extensions')).toBe(true);
    expect(installed).toHaveLength(2);
    const available = await sql`select name from pg_available_extensions where name in ('citext', 'pg_trgm', 'cube', 'earthdistance') order by name`;
    expect(available.map((a) => a.name)).toEqual(['citext', 'cube', 'earthdistance', 'pg_trgm']);
  });

  it('reads the caller from request.jwt.claims in auth.uid(), auth.role() and auth.jwt()', async () => {
    const user = await createUser();
    const row = await asUser(user.id, (tx) => tx`select auth.uid() as uid, auth.role() as role, auth.jwt() ->> 'aud' as aud, current_user as db_role`);
    expect(row[0]).toEqual({ uid: user.id, role: 'authenticated', aud: 'authenticated', db_role: 'authenticated' });
    const anon = await asAnon((tx) => tx`select auth.uid() as uid, auth.role() as role, current_user as db_role`);
    expect(anon[0]).toEqual({ uid: null, role: 'anon', db_role: 'anon' });
    const service = await asService((tx) => tx`select current_user as db_role`);
    expect(service[0].db_role).toBe('service_role');
  });

  it('keeps the impersonation transaction-local', async () => {
    const user = await createUser();
    await asUser(user.id, (tx) => tx`select 1`);
    const [after] = await serviceSql()`select current_user as db_role, auth.uid() as uid`;
    expect(after).toEqual({ db_role: 'postgres', uid: null });
  });

  it('has GoTrue tables with the columns our SQL uses', async () => {
    const cols = await serviceSql()`
      select table_name, array_agg(column_name::text order by column_name) as cols
      from information_schema.columns where table_schema = 'auth'
        and table_name in ('users', 'identities', 'sessions', 'refresh_tokens')
      group by table_name order by table_name`;
    const byTable = Object.fromEntries(cols.map((c) => [c.table_name, c.cols as string[]]));
    expect(byTable.users).toEqual(expect.arrayContaining([
      'id', 'aud', 'role', 'phone', 'phone_confirmed_at', 'email', 'raw_app_meta_data', 'raw_user_meta_data',
      'created_at', 'updated_at', 'last_sign_in_at', 'banned_until', 'is_anonymous', 'deleted_at',
    ]));
    expect(byTable.identities).toEqual(expect.arrayContaining(['id', 'user_id', 'provider', 'provider_id', 'identity_data']));
    expect(byTable.sessions).toEqual(expect.arrayContaining(['id', 'user_id', 'aal', 'not_after']));
    expect(byTable.refresh_tokens).toEqual(expect.arrayContaining(['token', 'session_id', 'revoked', 'parent']));
  });

  it('enables RLS on every auth table and grants service_role nothing there, as hosted does', async () => {
    const tables = await serviceSql()`
      select c.relname, c.relrowsecurity,
             has_table_privilege('service_role', c.oid, 'select, insert, update, delete, truncate, references, trigger') as service_role_any
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'auth' and c.relkind in ('r', 'p') order by 1`;
    expect(tables.map((t) => t.relname)).toEqual(expect.arrayContaining(['identities', 'one_time_tokens', 'refresh_tokens', 'sessions', 'users']));
    expect(tables.filter((t) => !t.relrowsecurity || t.service_role_any)).toEqual([]);
    const [seq] = await serviceSql()`
      select bool_or(has_sequence_privilege('service_role', c.oid, 'usage, select, update')) as any
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'auth' and c.relkind = 'S'`;
    expect(seq.any ?? false).toBe(false);
    for (const table of ['users', 'identities', 'sessions', 'refresh_tokens']) {
      const err = await asService((tx) => tx.unsafe(`select 1 from auth.${table} limit 1`)).catch((e) => e);
      expect(err?.code, table).toBe('42501');
    }
  });

  it('keeps definer functions that read and write auth tables working (suspension bans in auth.users, ends sessions)', async () => {
    const admin = await createAdmin();
    const user = await createUser();
    await serviceSql()`insert into auth.sessions (id, user_id) values (gen_random_uuid(), ${user.id})`;
    await asUser(admin.id, (tx) => tx`select public.admin_set_user_status(${user.id}::uuid, 'suspended', 'bootstrap probe')`);
    const [row] = await serviceSql()`
      select u.banned_until = 'infinity'::timestamptz as banned, (select count(*)::int from auth.sessions s where s.user_id = u.id) as sessions
      from auth.users u where u.id = ${user.id}`;
    expect(row).toEqual({ banned: true, sessions: 0 });
  });

  it('stores realtime.send() messages with the topic, and the publication exists', async () => {
    const sql = serviceSql();
    const topic = `probe:${Date.now()}`;
    await sql`select realtime.send('{"hello": "world"}'::jsonb, 'greeting', ${topic}, true)`;
    const [msg] = await sql`select event, extension, private, payload from realtime.messages where topic = ${topic}`;
    expect(msg.event).toBe('greeting');
    expect(msg.extension).toBe('broadcast');
    expect(msg.private).toBe(true);
    expect(msg.payload.hello).toBe('world');
    expect(typeof msg.payload.id).toBe('string');
    const [pub] = await sql`select count(*)::int as n from pg_publication where pubname = 'supabase_realtime'`;
    expect(pub.n).toBe(1);
    const [wal] = await sql`show wal_level`;
    expect(wal.wal_level).toBe('logical');
  });

  it('lets realtime.send() fail without aborting the caller (RLS denies the insert)', async () => {
    const user = await createUser();
    const topic = `denied:${Date.now()}`;
    await asUser(user.id, (tx) => tx`select realtime.send('{}'::jsonb, 'x', ${topic}, true)`);
    const rows = await serviceSql()`select 1 from realtime.messages where topic = ${topic}`;
    expect(rows).toHaveLength(0);
  });

  it('records product migrations in the CLI history table', async () => {
    const rows = await serviceSql()`select version, name from supabase_migrations.schema_migrations order by version`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ name: 'profiles' });
  });

  it('creates a profile when an auth user is inserted', async () => {
    const user = await createUser();
    const [profile] = await serviceSql()`select phone from public.profiles where id = ${user.id}`;
    expect(profile.phone).toBe(`+${user.phone}`);
  });
});
