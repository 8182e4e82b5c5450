// The database trusts only signed, unexpired tokens from Auth: through REST a
// session's token reads the user's own profile (auth.uid() from the JWT), and a
// tampered, unsigned or expired token reads nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { LOCAL_SIGNING_KEY, signJwt } from '../../stack/keys.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';
import { signInNewPhone } from './sign-in.ts';
import { startSmsHookServer, type SmsHookServer } from './sms-hook-server.ts';

describe.runIf(stackEnv().embedded)('Auth tokens at the database (through REST)', () => {
  const env = stackEnv();
  let auth: PrivateAuth;
  let hook: SmsHookServer;
  const rest = (token: string) => testClient({ global: { headers: { Authorization: `Bearer ${token}` } } });

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

  it('a session token reads only its own profile; forged or expired tokens are refused', async () => {
    const me = await signInNewPhone(auth.client(), hook);
    const other = await signInNewPhone(auth.client(), hook);

    const own = await rest(me.access_token).from('profiles').select('id, phone');
    expect(own.error).toBeNull();
    expect(own.data).toEqual([{ id: me.user.id, phone: `+${me.user.phone}` }]);

    const [header, payload, signature] = me.access_token.split('.');
    // Auth signs with the ES256 signing key, naming it, as GoTrue with the CLI's local key does.
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', kid: LOCAL_SIGNING_KEY.kid, typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const encode = (c: object) => Buffer.from(JSON.stringify(c)).toString('base64url');
    const forged = {
      otherSub: `${header}.${encode({ ...claims, sub: other.user.id })}.${signature}`,
      serviceRole: `${header}.${encode({ ...claims, role: 'service_role' })}.${signature}`,
      unsigned: `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ ...claims, sub: other.user.id })}.`,
      // An HS256 token over the same claims with a guessed secret, and one signed by another EC key under the kid.
      hsGuess: await signJwt(claims, new TextEncoder().encode('x'.repeat(40))),
      otherKey: await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: LOCAL_SIGNING_KEY.kid }).sign((await generateKeyPair('ES256')).privateKey),
      expired: await signJwt({ ...claims, iat: claims.iat - 7200, exp: Math.floor(Date.now() / 1000) - 60 }, new TextEncoder().encode(env.jwtSecret)),
    };
    for (const [name, token] of Object.entries(forged)) {
      const { data, error, status } = await rest(token).from('profiles').select('id, phone');
      expect(status, name).toBe(401);
      expect(error, name).not.toBeNull();
      expect(data, name).toBeNull();
    }
  });
});
