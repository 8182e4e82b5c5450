// Tokens signed with the ES256 signing key are accepted by every service that
// checks JWTs (REST, Realtime, the functions gateway, Auth), next to legacy
// HS256 tokens; a token signed with any other key is refused by each.
import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { LOCAL_SIGNING_KEY } from '../../stack/keys.ts';
import { stackEnv } from '../helpers/env.ts';
import { signedUserToken, userAccessToken } from '../helpers/supabase.ts';
import { realtimeClient, subscribe, subscribed } from '../realtime/clients.ts';
import { ensureFixture, rest } from '../rest/fixture.ts';

/** ES256 with the right kid but another private key: what a forger can make. */
async function forgedToken(sub: string, kid: string | undefined = LOCAL_SIGNING_KEY.kid) {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 600 }).setProtectedHeader({ alg: 'ES256', ...(kid ? { kid } : {}), typ: 'JWT' }).sign(privateKey);
}

const whoami = (token: string) => rest('/rpc/whoami', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });

describe('ES256 signing key across the services', () => {
  it('REST: signing-key and legacy HS256 tokens carry their user; forged ones are 401 PGRST301', async () => {
    await ensureFixture();
    const sub = randomUUID();
    for (const token of [await signedUserToken(sub), await userAccessToken(sub)]) {
      const res = await whoami(token);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ role: 'authenticated', sub });
    }
    for (const token of [await forgedToken(sub), await forgedToken(sub, 'unknown-kid'), await forgedToken(sub, undefined)]) {
      const res = await whoami(token);
      expect(res.status).toBe(401);
      expect((await res.json()).code).toBe('PGRST301');
    }
  });

  it('Realtime: joins with a signing-key token; a forged one is refused as a bad signature', async () => {
    const good = realtimeClient({ accessToken: await signedUserToken(randomUUID()) }).channel(`es256:${randomUUID()}`);
    await subscribed(good);
    await good.unsubscribe();
    for (const token of [await forgedToken(randomUUID()), await forgedToken(randomUUID(), 'unknown-kid')]) {
      const bad = await subscribe(realtimeClient({ accessToken: token }).channel('anything'));
      expect(bad.error?.message).toBe('JwtSignatureError: Failed to validate JWT signature');
    }
  });

  it('Functions gateway (verify_jwt = true): passes a signing-key token on, refuses a forged one', async () => {
    const env = stackEnv();
    const call = (token: string) => fetch(`${env.url}/functions/v1/refunds`, { method: 'POST', headers: { authorization: `Bearer ${token}`, apikey: env.anonKey, 'content-type': 'application/json' }, body: '{}' });
    // Past the gateway, refunds itself refuses a user: only the platform may call it.
    const user = await call(await signedUserToken(randomUUID()));
    expect(user.status).toBe(403);
    expect((await user.json()).code).toBe('forbidden');
    const forged = await call(await forgedToken(randomUUID()));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ code: 'UNAUTHORIZED_INVALID_JWT_FORMAT' });
  });

  it('Auth: /user refuses a forged signing-key token', async () => {
    const env = stackEnv();
    const res = await fetch(`${env.url}/auth/v1/user`, { headers: { authorization: `Bearer ${await forgedToken(randomUUID())}`, apikey: env.anonKey } });
    expect(res.status).toBe(403);
  });
});
