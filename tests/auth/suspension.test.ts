// Suspension takes effect at once (issue 13, finding 5): a user signed in
// through supabase-js is suspended by an admin; their sessions and refresh
// tokens end in the same transaction, and every write they try with the access
// token they still hold is refused by RLS or the RPC, through REST as the app
// would send it.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin, VI } from '../db/fixtures.ts';
import { createUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient, userAccessToken } from '../helpers/supabase.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';
import { signInNewPhone } from './sign-in.ts';
import { startSmsHookServer, type SmsHookServer } from './sms-hook-server.ts';

const rest = (token: string) => testClient({ global: { headers: { Authorization: `Bearer ${token}` } } });

describe.runIf(stackEnv().embedded)('suspension', () => {
  let auth: PrivateAuth;
  let hook: SmsHookServer;

  beforeAll(async () => {
    hook = await startSmsHookServer();
    auth = await startPrivateAuth((a) => {
      a.hook = { send_sms: { enabled: true, uri: hook.url, secrets: hook.secret } };
    });
  });
  afterAll(async () => {
    await auth?.close();
    await hook?.close();
  });

  it('ends every session and refuses every write of a suspended user holding an unexpired access token', async () => {
    const session = await signInNewPhone(auth.client(), hook);
    const user = rest(session.access_token);
    const address = { label: 'Home', line1: '1 Broad St', city: 'Lagos', lat: VI.lat, lng: VI.lng };
    const { data: kept, error: before } = await user.from('addresses').insert(address).select('id').single();
    expect(before).toBeNull();

    const admin = await createAdmin();
    const suspended = await rest(await userAccessToken(admin.id)).rpc('admin_set_user_status', { p_user_id: session.user.id, p_status: 'suspended', p_reason: 'fraud' });
    expect(suspended.error).toBeNull();

    // Signed out everywhere, in the same transaction as the status change.
    const sql = serviceSql();
    const [{ sessions, tokens }] = await sql`select (select count(*)::int from auth.sessions where user_id = ${session.user.id}) as sessions,
      (select count(*)::int from auth.refresh_tokens where user_id = ${session.user.id}::text) as tokens`;
    expect({ sessions, tokens }).toEqual({ sessions: 0, tokens: 0 });
    expect((await auth.client().auth.refreshSession({ refresh_token: session.refresh_token })).error).toMatchObject({ status: 400 });
    expect((await auth.client().auth.getUser(session.access_token)).error).not.toBeNull();

    // The access token is still a valid JWT for the next hour: the database refuses it.
    expect(decodeJwt(session.access_token).exp! * 1000).toBeGreaterThan(Date.now());
    const insert = await user.from('addresses').insert(address);
    expect(insert.error).toMatchObject({ code: '42501' });
    const update = await user.from('addresses').update({ label: 'Office' }).eq('id', kept!.id);
    expect(update.error).toMatchObject({ code: '42501' });
    await user.from('addresses').delete().eq('id', kept!.id);
    const vendor = await user.from('vendors').insert({ name: 'Pop-up', lat: VI.lat, lng: VI.lng });
    expect(vendor.error).toMatchObject({ code: '42501' });
    const profile = await user.from('profiles').update({ full_name: 'Someone else' }).eq('id', session.user.id);
    expect(profile.error).toMatchObject({ code: '42501' });
    const read = await user.rpc('mark_notifications_read', {});
    expect(read.error).toMatchObject({ message: 'account_suspended' });
    const [{ addresses, vendors, unread }] = await sql`select
      (select count(*)::int from public.addresses where user_id = ${session.user.id}) as addresses,
      (select count(*)::int from public.vendors where owner_id = ${session.user.id}) as vendors,
      (select count(*)::int from public.notifications where user_id = ${session.user.id} and read_at is null) as unread`;
    expect({ addresses, vendors, unread }).toEqual({ addresses: 1, vendors: 0, unread: 1 });
    const [label] = await sql`select label from public.addresses where id = ${kept!.id}`;
    expect(label).toEqual({ label: 'Home' });

    // Reactivated, the same token writes again (the guard reads the status, not the token).
    expect((await rest(await userAccessToken(admin.id)).rpc('admin_set_user_status', { p_user_id: session.user.id, p_status: 'active', p_reason: 'cleared' })).error).toBeNull();
    expect((await user.from('addresses').update({ label: 'Office' }).eq('id', kept!.id)).error).toBeNull();
  });

  it('guards every write policy of every exposed table with private.is_active_user()', async () => {
    // A table added later with a write policy but no guard fails here.
    const rows = await serviceSql()`
      select p.tablename, p.cmd
        from pg_policies p
       where p.schemaname = 'public' and p.permissive = 'PERMISSIVE' and p.cmd in ('INSERT', 'UPDATE', 'DELETE', 'ALL')
         and ('authenticated' = any (p.roles) or 'public' = any (p.roles))
         and not exists (
           select 1 from pg_policies g
            where g.schemaname = p.schemaname and g.tablename = p.tablename and g.permissive = 'RESTRICTIVE'
              and (g.cmd = p.cmd or g.cmd = 'ALL')
              and coalesce(g.with_check, g.qual) like '%private.is_active_user()%')
       order by 1, 2`;
    expect(rows).toEqual([]);
  });

  it('refuses a suspended user in every write RPC (every volatile public function authenticated may call)', async () => {
    const sql = serviceSql();
    const user = await createUser();
    await sql`update public.profiles set status = 'suspended' where id = ${user.id}`;
    const rpcs = await sql<{ name: string; args: string }[]>`
      select p.proname as name, oidvectortypes(p.proargtypes) as args
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.provolatile = 'v' and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype
         and has_function_privilege('authenticated', p.oid, 'execute')
       order by 1`;
    expect(rpcs.map((r) => r.name)).toContain('place_order');
    const outcomes: Record<string, string> = {};
    await sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: user.id, role: 'authenticated' })}, true)`;
      for (const { name, args } of rpcs) {
        // Every argument null: the caller's status must be checked before anything else.
        const nulls = args ? args.split(', ').map((type) => `null::${type}`).join(', ') : '';
        try {
          await tx.savepoint(async (sp) => {
            await sp.unsafe(`select public.${name}(${nulls})`);
            outcomes[name] = 'allowed';
            throw new Error('roll back');
          });
        } catch (err) {
          const e = err as { code?: string; message?: string };
          if (outcomes[name] !== 'allowed') outcomes[name] = e.code === '42501' ? 'refused' : `${e.code} ${e.message}`;
        }
      }
    });
    expect(outcomes).toEqual(Object.fromEntries(rpcs.map((r) => [r.name, 'refused'])));
  });
});
