// The admin user API through supabase-js (`auth.admin.*`), service_role only,
// and the public endpoints (settings, health, JWKS), on the test run's stack.
import { describe, expect, it } from 'vitest';
import { serviceSql, testPhone } from '../helpers/db.ts';
import { fundWallet } from '../db/fixtures.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient, userAccessToken } from '../helpers/supabase.ts';

const env = stackEnv();
const admin = () => testClient({ key: env.serviceRoleKey }).auth.admin;

describe.runIf(env.embedded)('admin user API', () => {
  it('creates a confirmed phone user with app_metadata; the auth.users trigger makes the profile', async () => {
    const phone = testPhone();
    const { data, error } = await admin().createUser({ phone: `+${phone}`, phone_confirm: true, app_metadata: { plan: 'vendor' }, user_metadata: { full_name: 'Chioma' } });
    expect(error).toBeNull();
    expect(data.user).toMatchObject({
      phone, aud: 'authenticated', role: 'authenticated', email: '',
      app_metadata: { provider: 'phone', providers: ['phone'], plan: 'vendor' }, user_metadata: { full_name: 'Chioma' },
    });
    expect(data.user!.phone_confirmed_at).toBeTruthy();
    const [profile] = await serviceSql()`select p.phone, w.currency from public.profiles p join public.wallets w on w.user_id = p.id where p.id = ${data.user!.id}`;
    expect(profile).toEqual({ phone: `+${phone}`, currency: 'NGN' });
  });

  it('shows a permanent ban (banned_until = infinity, as admin_set_user_status writes it)', async () => {
    const user = (await admin().createUser({ phone: testPhone(), phone_confirm: true })).data.user!;
    await serviceSql()`update auth.users set banned_until = 'infinity' where id = ${user.id}`;
    expect((await admin().getUserById(user.id)).data.user!.banned_until).toBe('infinity');
  });

  it('hard-deletes a user without money history; refuses one whose ledger rows must stay with 409', async () => {
    const fresh = (await admin().createUser({ phone: testPhone(), phone_confirm: true })).data.user!;
    expect((await admin().deleteUser(fresh.id)).error).toBeNull();
    expect((await admin().getUserById(fresh.id)).error).toMatchObject({ status: 404, code: 'user_not_found' });

    const paid = (await admin().createUser({ phone: testPhone(), phone_confirm: true })).data.user!;
    await fundWallet(paid.id, 1000);
    const { error } = await admin().deleteUser(paid.id);
    expect(error).toMatchObject({ status: 409, code: 'conflict' });
    expect((await admin().getUserById(paid.id)).data.user!.id).toBe(paid.id);
  });

  it('refuses a duplicate phone with phone_exists and a bad one with validation_failed', async () => {
    const phone = testPhone();
    expect((await admin().createUser({ phone })).error).toBeNull();
    expect((await admin().createUser({ phone: `+${phone}` })).error).toMatchObject({ status: 422, code: 'phone_exists' });
    expect((await admin().createUser({ phone: '12x' })).error).toMatchObject({ status: 400, code: 'validation_failed' });
    const taken = (await admin().createUser({ phone: testPhone() })).data.user!.id;
    expect((await admin().createUser({ id: taken, phone: testPhone() })).error).toMatchObject({ status: 422, code: 'user_already_exists' });
    const racing = testPhone();
    const both = await Promise.all([admin().createUser({ phone: racing }), admin().createUser({ phone: racing })]);
    expect(both.map((r) => r.error?.code ?? 'ok').sort()).toEqual(['ok', 'phone_exists']);
    expect((await admin().createUser({})).error).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('gets, updates (metadata merge, ban) and soft-deletes a user by id', async () => {
    const created = (await admin().createUser({ phone: testPhone(), phone_confirm: true, user_metadata: { a: 1, b: 2 } })).data.user!;
    const got = await admin().getUserById(created.id);
    expect(got.data.user).toMatchObject({ id: created.id, phone: created.phone });

    const updated = await admin().updateUserById(created.id, { user_metadata: { b: null, c: 3 }, app_metadata: { role: 'admin' }, ban_duration: '24h' });
    expect(updated.error).toBeNull();
    expect(updated.data.user!.user_metadata).toEqual({ a: 1, c: 3 });
    expect(updated.data.user!.app_metadata).toMatchObject({ provider: 'phone', role: 'admin' });
    const bannedUntil = new Date(updated.data.user!.banned_until!).getTime();
    expect(bannedUntil).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(bannedUntil).toBeLessThan(Date.now() + 25 * 3600_000);
    expect((await admin().updateUserById(created.id, { ban_duration: 'none' })).data.user!.banned_until).toBeUndefined();
    expect((await admin().updateUserById(created.id, { ban_duration: 'forever' })).error).toMatchObject({ status: 400, code: 'validation_failed' });

    expect((await admin().deleteUser(created.id, true)).error).toBeNull();
    const [row] = await serviceSql()`select deleted_at, phone from auth.users where id = ${created.id}`;
    expect(row.deleted_at).toBeInstanceOf(Date);
    expect(row.phone).toBeNull();
  });

  it('answers user_not_found for an unknown id', async () => {
    const { error } = await admin().getUserById('00000000-0000-4000-8000-000000000001');
    expect(error).toMatchObject({ status: 404, code: 'user_not_found' });
  });

  it('pages through users with per_page, total and nextPage', async () => {
    for (let i = 0; i < 3; i++) expect((await admin().createUser({ phone: testPhone() })).error).toBeNull();
    const first = await admin().listUsers({ page: 1, perPage: 2 });
    expect(first.error).toBeNull();
    expect(first.data.users).toHaveLength(2);
    // Other test files add users meanwhile, so the total is checked for consistency, not a fixed number.
    expect((first.data as { total: number }).total).toBeGreaterThanOrEqual(3);
    expect(first.data).toMatchObject({ aud: 'authenticated', nextPage: 2 });
    // auth-js reads only the first digit of lastPage, so GoTrue's headers are checked as sent.
    const res = await fetch(`${env.url}/auth/v1/admin/users?page=1&per_page=2`, { headers: { apikey: env.serviceRoleKey } });
    const total = Number(res.headers.get('x-total-count'));
    expect(res.headers.get('link')).toBe(`</admin/users?page=2&per_page=2>; rel="next", </admin/users?page=${Math.ceil(total / 2)}&per_page=2>; rel="last"`);
    const second = await admin().listUsers({ page: 2, perPage: 2 });
    expect(second.data.users.map((u) => u.id)).not.toContain(first.data.users[0].id);
  });

  it('is refused with the anon key and with a user\'s token (not_admin)', async () => {
    const anon = testClient().auth.admin;
    expect((await anon.listUsers()).error).toMatchObject({ status: 403, code: 'not_admin' });
    expect((await anon.createUser({ phone: testPhone() })).error).toMatchObject({ status: 403, code: 'not_admin' });

    const user = (await admin().createUser({ phone: testPhone(), phone_confirm: true })).data.user!;
    const [session] = await serviceSql()`insert into auth.sessions (id, user_id, created_at, updated_at, aal) values (gen_random_uuid(), ${user.id}, now(), now(), 'aal1') returning id`;
    const userToken = await userAccessToken(user.id, { session_id: session.id }, 600);
    // What a signed-in user's app would send: its own token as the bearer.
    for (const [method, path] of [['GET', '/admin/users'], ['DELETE', `/admin/users/${user.id}`]]) {
      const res = await fetch(`${env.url}/auth/v1${path}`, { method, headers: { apikey: env.anonKey, authorization: `Bearer ${userToken}`, 'x-supabase-api-version': '2024-01-01' } });
      expect(res.status, path).toBe(403);
      expect(await res.json()).toEqual({ code: 'not_admin', message: 'User not allowed' });
    }
    expect((await admin().getUserById(user.id)).data.user).not.toBeNull();
  });
});

describe.runIf(env.embedded)('public auth endpoints', () => {
  it('GET /settings says phone sign-up is on, confirmed by the first OTP (enable_confirmations)', async () => {
    const res = await fetch(`${env.url}/auth/v1/settings`, { headers: { apikey: env.anonKey } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ disable_signup: false, phone_autoconfirm: false, external: { phone: true, google: false } });
  });

  it('GET /health answers with an API key; /.well-known/jwks.json is open, as in Supabase\'s gateway', async () => {
    expect((await fetch(`${env.url}/auth/v1/health`)).status).toBe(401);
    const health = await fetch(`${env.url}/auth/v1/health`, { headers: { apikey: env.anonKey } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ name: 'GoTrue' });
    const jwks = await fetch(`${env.url}/auth/v1/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=600');
    // The CLI's local ES256 key, public half only; the HS256 secret is never published.
    expect(await jwks.json()).toEqual({ keys: [{ kty: 'EC', kid: 'b81269f1-21d8-4f2e-b719-c2240a840d90', use: 'sig', key_ops: ['verify'], alg: 'ES256', ext: true, crv: 'P-256', x: 'M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4', y: 'P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ' }] });
  });

  it('answers unknown auth paths with 404 JSON, not a 5xx', async () => {
    const res = await fetch(`${env.url}/auth/v1/nope`, { headers: { apikey: env.anonKey, 'x-supabase-api-version': '2024-01-01' } });
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe('not_found');
  });
});
