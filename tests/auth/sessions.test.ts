// Sessions through supabase-js: refresh with rotation and reuse detection,
// getUser/updateUser, signOut scopes, and what a forged or stale JWT gets.
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../stack/keys.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';
import { signInNewPhone } from './sign-in.ts';
import { startSmsHookServer, type SmsHookServer } from './sms-hook-server.ts';

describe.runIf(stackEnv().embedded)('sessions', () => {
  const env = stackEnv();
  let auth: PrivateAuth;
  let hook: SmsHookServer;
  /** supabase-js against the test run's stack, whose /auth/v1 shares the database and secret. */
  const mainClient = () => testClient();

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

  /** Moves a refresh token's last change back, as if that many seconds had passed. */
  async function age(refreshToken: string, seconds: number) {
    await serviceSql()`update auth.refresh_tokens set updated_at = updated_at - make_interval(secs => ${seconds}) where token = ${refreshToken}`;
  }

  it('refreshes with rotation: a new refresh token, the old one revoked, same session', async () => {
    const supabase = auth.client();
    const first = await signInNewPhone(supabase, hook);
    const { data, error } = await supabase.auth.refreshSession({ refresh_token: first.refresh_token });
    expect(error).toBeNull();
    const second = data.session!;
    expect(second.refresh_token).toMatch(/^[a-z0-9]{12}$/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).session_id).toBe(decodeJwt(first.access_token).session_id);
    const rows = await serviceSql()`select token, revoked, parent from auth.refresh_tokens where token in (${first.refresh_token}, ${second.refresh_token}) order by id`;
    expect(rows).toEqual([
      { token: first.refresh_token, revoked: true, parent: null },
      { token: second.refresh_token, revoked: false, parent: first.refresh_token },
    ]);
  });

  it('answers a just-rotated token with the active one (the client lost the answer)', async () => {
    const supabase = auth.client();
    const first = await signInNewPhone(supabase, hook);
    const second = (await supabase.auth.refreshSession({ refresh_token: first.refresh_token })).data.session!;
    const retried = await supabase.auth.refreshSession({ refresh_token: first.refresh_token });
    expect(retried.error).toBeNull();
    expect(retried.data.session!.refresh_token).toBe(second.refresh_token);
  });

  it('treats reuse of a rotated token after the reuse interval as theft: the whole session is revoked', async () => {
    const supabase = auth.client();
    const first = await signInNewPhone(supabase, hook);
    const second = (await supabase.auth.refreshSession({ refresh_token: first.refresh_token })).data.session!;
    const third = (await supabase.auth.refreshSession({ refresh_token: second.refresh_token })).data.session!;
    await age(first.refresh_token, 11);
    const reused = await supabase.auth.refreshSession({ refresh_token: first.refresh_token });
    expect(reused.error).toMatchObject({ status: 400, code: 'refresh_token_already_used', message: 'Invalid Refresh Token: Already Used' });
    // The family is gone: the legitimate holder's latest token no longer works either.
    await age(third.refresh_token, 11);
    const stolen = await supabase.auth.refreshSession({ refresh_token: third.refresh_token });
    expect(stolen.error).toMatchObject({ status: 400, code: 'refresh_token_already_used' });
  });

  it('keeps a family revoked by reuse detection revoked, even for tokens just stamped by the revocation', async () => {
    const supabase = auth.client();
    const first = await signInNewPhone(supabase, hook);
    const second = (await supabase.auth.refreshSession({ refresh_token: first.refresh_token })).data.session!;
    const third = (await supabase.auth.refreshSession({ refresh_token: second.refresh_token })).data.session!;
    await age(first.refresh_token, 11);
    expect((await supabase.auth.refreshSession({ refresh_token: first.refresh_token })).error).toMatchObject({ code: 'refresh_token_already_used' });
    // The thief holds the newest tokens; the revocation just stamped them, so they are "within the reuse interval".
    for (const stolen of [third.refresh_token, second.refresh_token]) {
      const { data, error } = await supabase.auth.refreshSession({ refresh_token: stolen });
      expect(error).toMatchObject({ status: 400, code: 'refresh_token_already_used' });
      expect(data.session).toBeNull();
    }
    const [{ live }] = await serviceSql()`select count(*)::int as live from auth.refresh_tokens where session_id = ${decodeJwt(first.access_token).session_id as string} and not revoked`;
    expect(live).toBe(0);
  });

  it('answers parallel refreshes of one token with one successor, never a fork', async () => {
    const first = await signInNewPhone(auth.client(), hook);
    const answers = await Promise.all(Array.from({ length: 24 }, () => auth.client().auth.refreshSession({ refresh_token: first.refresh_token })));
    for (const { error } of answers) expect(error).toBeNull();
    const issued = new Set(answers.map((a) => a.data.session!.refresh_token));
    expect(issued.size).toBe(1);
    const children = await serviceSql()`select token, revoked from auth.refresh_tokens where parent = ${first.refresh_token}`;
    expect(children).toEqual([{ token: [...issued][0], revoked: false }]);
  });

  it('refuses unknown and malformed refresh tokens', async () => {
    const supabase = auth.client();
    expect((await supabase.auth.refreshSession({ refresh_token: 'abcdefghijkl' })).error).toMatchObject({ status: 400, code: 'refresh_token_not_found' });
    expect((await supabase.auth.refreshSession({ refresh_token: 'short' })).error).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('refuses refresh and getUser for a banned user', async () => {
    const supabase = auth.client();
    const session = await signInNewPhone(supabase, hook);
    await serviceSql()`update auth.users set banned_until = 'infinity' where id = ${session.user.id}`;
    expect((await supabase.auth.refreshSession({ refresh_token: session.refresh_token })).error).toMatchObject({ status: 400, code: 'user_banned' });
    expect((await mainClient().auth.getUser(session.access_token)).error).toMatchObject({ status: 403, code: 'user_banned' });
  });

  it('getUser returns the user for a valid token and fails after signOut', async () => {
    const supabase = auth.client();
    const session = await signInNewPhone(supabase, hook);
    const main = mainClient();
    const { data, error } = await main.auth.getUser(session.access_token);
    expect(error).toBeNull();
    expect(data.user).toMatchObject({ id: session.user.id, phone: session.user.phone, aud: 'authenticated', role: 'authenticated' });

    await supabase.auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
    expect((await supabase.auth.signOut()).error).toBeNull();
    const after = await main.auth.getUser(session.access_token);
    expect(after.error).not.toBeNull();
    expect(after.error!.name).toBe('AuthSessionMissingError');
    expect(after.data.user).toBeNull();
    expect((await supabase.auth.refreshSession({ refresh_token: session.refresh_token })).error).toMatchObject({ code: 'refresh_token_not_found' });
  });

  it('signOut scopes: others keeps this session, local ends only this one', async () => {
    const phone = (await signInNewPhone(auth.client(), hook)).user.phone!;
    await serviceSql()`update auth.users set confirmation_sent_at = now() - interval '1 minute' where phone = ${phone}`;
    const a = auth.client();
    const sessionA = await signInNewPhone(a, hook, phone);
    await serviceSql()`update auth.users set confirmation_sent_at = now() - interval '1 minute' where phone = ${phone}`;
    const sessionB = await signInNewPhone(auth.client(), hook, phone);
    const main = mainClient();

    await a.auth.setSession({ access_token: sessionA.access_token, refresh_token: sessionA.refresh_token });
    expect((await a.auth.signOut({ scope: 'others' })).error).toBeNull();
    expect((await main.auth.getUser(sessionA.access_token)).error).toBeNull();
    expect((await main.auth.getUser(sessionB.access_token)).error?.name).toBe('AuthSessionMissingError');

    expect((await a.auth.signOut({ scope: 'local' })).error).toBeNull();
    expect((await main.auth.getUser(sessionA.access_token)).error?.name).toBe('AuthSessionMissingError');
  });

  it('updateUser merges user_metadata and keeps an email change pending', async () => {
    const supabase = auth.client();
    const session = await signInNewPhone(supabase, hook);
    await supabase.auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
    const first = await supabase.auth.updateUser({ data: { full_name: 'Bayo', city: 'Lagos' } });
    expect(first.error).toBeNull();
    const { data, error } = await supabase.auth.updateUser({ data: { city: null, locale: 'en-NG' }, email: `bayo-${session.user.id}@example.com` });
    expect(error).toBeNull();
    expect(data.user!.user_metadata).toEqual({ full_name: 'Bayo', locale: 'en-NG' });
    expect(data.user!.email).toBe('');
    expect(data.user!.new_email).toBe(`bayo-${session.user.id}@example.com`);
    const bad = await supabase.auth.updateUser({ email: 'not-an-email' });
    expect(bad.error).toMatchObject({ status: 400, code: 'email_address_invalid' });
  });

  it('rejects forged, tampered and expired tokens at /auth/v1/user', async () => {
    const session = await signInNewPhone(auth.client(), hook);
    const main = mainClient();
    const [header, payload, signature] = session.access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'service_role' })).toString('base64url')}.${signature}`;
    const otherSecret = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const expired = await signJwt({ ...claims, iat: claims.iat - 7200, exp: Math.floor(Date.now() / 1000) - 60 }, new TextEncoder().encode(env.jwtSecret));
    for (const [name, token] of Object.entries({ tampered, otherSecret, unsigned, expired })) {
      const { error } = await main.auth.getUser(token);
      expect(error, name).toMatchObject({ status: 403, code: 'bad_jwt' });
    }
    // The anon key is a valid JWT but names no user.
    const anon = await fetch(`${env.url}/auth/v1/user`, { headers: { apikey: env.anonKey, 'x-supabase-api-version': '2024-01-01' } });
    expect(anon.status).toBe(403);
    expect(anon.headers.get('x-sb-error-code')).toBe('bad_jwt');
    expect(await anon.json()).toEqual({ code: 'bad_jwt', message: 'invalid claim: missing sub claim' });
  });

  it('answers legacy clients (no API version header) with GoTrue\'s legacy error shape', async () => {
    const res = await fetch(`${env.url}/auth/v1/otp`, {
      method: 'POST',
      headers: { apikey: env.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ phone: 'nope' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 400, error_code: 'validation_failed', msg: 'Invalid phone number format (E.164 required)' });
    const noBearer = await fetch(`${env.url}/auth/v1/logout`, { method: 'POST', headers: { apikey: env.anonKey, authorization: 'Basic dXNlcjpwYXNz' } });
    expect(noBearer.status).toBe(401);
    expect(noBearer.headers.get('x-sb-error-code')).toBe('no_authorization');
  });
});
