// `payments` runs with verify_jwt = false and verifies its caller itself:
// signing-key (ES256) tokens against the project's JWKS, legacy HS256 tokens
// by asking Auth. What a hostile caller can present is refused with 401.
import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { readToml, projectRoot } from '../../stack/config.ts';
import { LOCAL_SIGNING_KEY } from '../../stack/keys.ts';
import { createUser, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { signedUserToken, userAccessToken } from '../helpers/supabase.ts';

/** A wallet top-up below the minimum: answered 400 invalid_amount only once the caller is known. */
async function topUp(token: string) {
  const env = stackEnv();
  const res = await fetch(`${env.url}/functions/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, apikey: env.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ purpose: 'wallet_topup', amount: 100, provider: 'paystack' }),
  });
  return { status: res.status, body: await res.json() };
}

describe('payments verifies its caller (verify_jwt = false)', () => {
  it('is configured with verify_jwt = false', () => {
    expect(readToml(`${projectRoot}/supabase`).functions.payments.verify_jwt).toBe(false);
  });

  it('knows the user of a signing-key token and of a legacy HS256 token', async () => {
    const user = await createUser();
    expect(await topUp(await signedUserToken(user.id, { phone: user.phone }))).toMatchObject({ status: 400, body: { code: 'invalid_amount' } });
    expect(await topUp(await userAccessToken(user.id, { phone: user.phone }))).toMatchObject({ status: 400, body: { code: 'invalid_amount' } });
  });

  it('refuses forged, expired, keyless and user-less tokens with 401 not_authenticated', async () => {
    const env = stackEnv();
    const user = await createUser();
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 600 };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: LOCAL_SIGNING_KEY.kid }).sign(privateKey);
    // Decoding alone would accept these; verification must not.
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const hsForged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    const cases = [
      forged,
      unsigned,
      hsForged,
      await signedUserToken(user.id, {}, -10),
      await userAccessToken(user.id, {}, -10),
      // A well-signed token for a user Auth does not know.
      await userAccessToken(randomUUID()),
      env.anonKey,
      env.serviceRoleKey,
      // The opaque keys are not JWTs: without verify_jwt they reach the function, which refuses them.
      'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH',
      'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz',
      'not-a-jwt',
    ];
    for (const token of cases) expect(await topUp(token), token).toMatchObject({ status: 401, body: { code: 'not_authenticated' } });
    const noHeader = await fetch(`${env.url}/functions/v1/payments`, { method: 'POST', headers: { apikey: env.anonKey, 'content-type': 'application/json' }, body: '{}' });
    expect(noHeader.status).toBe(401);
    expect((await noHeader.json()).code).toBe('not_authenticated');
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payments where user_id = ${user.id}`;
    expect(n).toBe(0);
  });

  it('refuses a legacy token of a banned user (Auth is asked, not the claims)', async () => {
    const user = await createUser();
    const token = await userAccessToken(user.id);
    await serviceSql()`update auth.users set banned_until = now() + interval '1 day' where id = ${user.id}`;
    expect(await topUp(token)).toMatchObject({ status: 401, body: { code: 'not_authenticated' } });
  });
});
