// The opaque API keys of current projects (`sb_publishable_…`, `sb_secret_…`), as
// Supabase's gateway takes them: the publishable key acts as anon and the secret key
// as service_role on every API; an opaque key in Authorization is not a JWT, so the
// apikey's role replaces it; the legacy JWT keys keep working.
import { describe, expect, it } from 'vitest';
import { localKeys } from '../../stack/keys.ts';
import { createUser } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient, userAccessToken } from '../helpers/supabase.ts';
import { subscribe } from '../realtime/clients.ts';

describe.runIf(stackEnv().embedded)('opaque API keys', () => {
  const env = stackEnv();
  // The test stack uses the local keys, which are the CLI's (`supabase status`).
  const { publishableKey, secretKey } = localKeys(3600);

  it('are the CLI\'s local publishable and secret keys', () => {
    expect(publishableKey).toBe('sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH');
    expect(secretKey).toBe('sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz');
  });

  /**
   * Whether a caller sees a user's profile through REST: anon does not (RLS),
   * service_role does. One profile, not a count of all: other files add users meanwhile.
   */
  async function seesProfile(headers: Record<string, string>, id: string): Promise<boolean> {
    const res = await fetch(`${env.url}/rest/v1/profiles?select=id&id=eq.${id}`, { headers });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return ((await res.json()) as unknown[]).length === 1;
  }

  it('REST: the publishable key acts as anon and the secret key as service_role, as the legacy keys do', async () => {
    const { id } = await createUser();
    expect(await seesProfile({ apikey: env.serviceRoleKey }, id)).toBe(true);
    expect(await seesProfile({ apikey: env.anonKey }, id)).toBe(false);
    expect(await seesProfile({ apikey: publishableKey }, id)).toBe(false);
    expect(await seesProfile({ apikey: secretKey }, id)).toBe(true);
    // supabase-js sends `Authorization: Bearer <key>` when there is no session.
    expect(await seesProfile({ apikey: secretKey, authorization: `Bearer ${secretKey}` }, id)).toBe(true);
    expect(await seesProfile({ apikey: publishableKey, authorization: `Bearer ${publishableKey}` }, id)).toBe(false);
  });

  it('an opaque key in Authorization never lends its role: the apikey decides', async () => {
    const { id } = await createUser();
    expect(await seesProfile({ apikey: secretKey }, id)).toBe(true);
    expect(await seesProfile({ apikey: publishableKey, authorization: `Bearer ${secretKey}` }, id)).toBe(false);
    expect(await seesProfile({ apikey: env.anonKey, authorization: `Bearer ${secretKey}` }, id)).toBe(false);
    expect(await seesProfile({ apikey: publishableKey, authorization: `bearer ${secretKey}` }, id)).toBe(false);
  });

  it('a user token in Authorization is kept with the publishable key', async () => {
    const user = await createUser();
    const res = await fetch(`${env.url}/rest/v1/profiles?select=id`, { headers: { apikey: publishableKey, authorization: `Bearer ${await userAccessToken(user.id)}` } });
    expect(await res.json()).toEqual([{ id: user.id }]);
  });

  it('refuses keys that only look like them', async () => {
    for (const key of [`${publishableKey}x`, 'sb_publishable_', `sb_secret_${'A'.repeat(31)}`, secretKey.toUpperCase()]) {
      const res = await fetch(`${env.url}/rest/v1/profiles`, { headers: { apikey: key } });
      expect(res.status, key).toBe(401);
      expect((await res.json()).message).toBe('Invalid API key');
    }
  });

  it('Auth: the secret key may use the admin API, the publishable key may not', async () => {
    const admin = testClient({ key: secretKey });
    const { data, error } = await admin.auth.admin.listUsers({ perPage: 1 });
    expect(error).toBeNull();
    expect(data.users.length).toBe(1);
    const { error: refused } = await testClient({ key: publishableKey }).auth.admin.listUsers({ perPage: 1 });
    expect(refused?.status).toBe(403);
  });

  it('supabase-js with the publishable key reads as anon, with the secret key as service_role', async () => {
    const { count: anonCount, error } = await testClient({ key: publishableKey }).from('profiles').select('id', { count: 'exact', head: true });
    expect(error).toBeNull();
    expect(anonCount).toBe(0);
    const { count } = await testClient({ key: secretKey }).from('profiles').select('id', { count: 'exact', head: true });
    expect(count).toBeGreaterThan(0);
  });

  // As with the CLI's gateway, /functions/v1 gets the headers untouched: with verify_jwt an
  // opaque key is not a JWT (Supabase: functions that take the new keys set verify_jwt = false).
  it('Functions: verify_jwt refuses an opaque key in Authorization, and takes a user token sent with the publishable key', async () => {
    // payouts keeps verify_jwt = true (payments verifies its caller itself, tests/functions/caller-jwt.test.ts).
    const { error } = await testClient({ key: publishableKey }).functions.invoke('payouts', { body: {} });
    expect(error?.context?.status).toBe(401);
    expect(error?.context?.headers.get('sb-error-code')).toBe('UNAUTHORIZED_INVALID_JWT_FORMAT');
    const user = await createUser();
    const res = await fetch(`${env.url}/functions/v1/payouts`, {
      method: 'POST', body: '{}',
      headers: { apikey: publishableKey, authorization: `Bearer ${await userAccessToken(user.id)}`, 'content-type': 'application/json' },
    });
    // Past verify_jwt: the function itself answers (the body is not a valid payment request).
    expect(res.headers.get('sb-error-code')).toBeNull();
    expect(res.status).toBe(400);
  });

  it('Realtime: a socket opened with the publishable key joins as anon; a private channel needs a user', async () => {
    const client = testClient({ key: publishableKey });
    try {
      expect((await subscribe(client.channel('opaque-key-public'))).status).toBe('SUBSCRIBED');
      // Private channels are authorized by realtime.messages policies, which anon does not pass.
      const { status } = await subscribe(client.channel(`announcements`, { config: { private: true } }));
      expect(status).not.toBe('SUBSCRIBED');
    } finally {
      await client.removeAllChannels();
    }
  });
});
