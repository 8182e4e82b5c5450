// OTP abuse (issue 13, finding 2): with the anon key alone, sign-in requests to
// random numbers spent the project-wide `sms_sent` budget, and then nobody got
// a code. Now, as GoTrue behind a proxy that names the client
// (GOTRUE_RATE_LIMIT_HEADER), one IP is stopped well before the budget, and
// `[auth.captcha]` makes every send prove a solved challenge with the provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCaptcha, type FakeCaptcha } from '../fakes/captcha.ts';
import { fakeCalls } from '../fakes/recorder.ts';
import { testPhone } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';
import { startSmsHookServer, type SmsHookServer } from './sms-hook-server.ts';

/** Starts Auth with GoTrue environment variables set only while its settings are read. */
async function withEnv<T>(vars: Record<string, string>, start: () => Promise<T>): Promise<T> {
  Object.assign(process.env, vars);
  try {
    return await start();
  } finally {
    for (const name of Object.keys(vars)) delete process.env[name];
  }
}

describe.runIf(stackEnv().embedded)('OTP abuse limits', () => {
  let hook: SmsHookServer;
  let auth: PrivateAuth;
  let captchaAuth: PrivateAuth;
  let captcha: FakeCaptcha;
  const CAPTCHA_SECRET = '0x4AAAAAAA-rambini-test-secret';

  beforeAll(async () => {
    hook = await startSmsHookServer();
    captcha = await startFakeCaptcha(CAPTCHA_SECRET);
    const withHook = (a: Record<string, any>) => {
      a.hook = { send_sms: { enabled: true, uri: hook.url, secrets: hook.secret } };
    };
    // config.toml's limits as committed, behind a proxy that puts the client's IP in X-Forwarded-For.
    auth = await withEnv({ GOTRUE_RATE_LIMIT_HEADER: 'X-Forwarded-For' }, () => startPrivateAuth(withHook));
    captchaAuth = await withEnv({ STACK_CAPTCHA_VERIFY_URL: captcha.verifyUrl('turnstile') }, () => startPrivateAuth((a) => {
      withHook(a);
      a.captcha = { enabled: true, provider: 'turnstile', secret: CAPTCHA_SECRET };
    }));
  });
  afterAll(async () => {
    await auth?.close();
    await captchaAuth?.close();
    await hook?.close();
    await captcha?.close();
  });

  const from = (instance: PrivateAuth, ip: string) => testClient({ url: instance.url, key: instance.anonKey, global: { headers: { 'X-Forwarded-For': `${ip}, 10.0.0.1` } } });

  it('stops one IP sending codes to random numbers before the project-wide budget is spent; others still get codes', async () => {
    const attacker = from(auth, '203.0.113.7');
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { error } = await attacker.auth.signInWithOtp({ phone: `+${testPhone()}` });
      outcomes.push(error ? `${error.status} ${error.code}` : 'sent');
    }
    const sent = outcomes.filter((o) => o === 'sent').length;
    expect(sent).toBeGreaterThanOrEqual(30);
    expect(outcomes.slice(sent)).toEqual(Array(40 - sent).fill('429 over_request_rate_limit'));
    expect(outcomes.at(-1)).toBe('429 over_request_rate_limit');
    expect(hook.received).toHaveLength(sent);

    // Someone else, elsewhere, still gets a code (the budget is not the attacker's to spend).
    const phone = testPhone();
    const { error } = await from(auth, '198.51.100.2').auth.signInWithOtp({ phone: `+${phone}` });
    expect(error).toBeNull();
    expect(hook.received.filter((r) => r.phone === phone)).toHaveLength(1);
  });

  it('keys the limit on the first value of the configured header only', async () => {
    // A client cannot escape by appending addresses: the proxy's first entry is the key.
    const ip = '203.0.113.99';
    for (let i = 0; i < 31; i++) await testClient({ url: auth.url, key: auth.anonKey, global: { headers: { 'X-Forwarded-For': `${ip}, 10.9.${i}.1` } } }).auth.signInWithOtp({ phone: `+${testPhone()}` });
    const { error } = await from(auth, ip).auth.signInWithOtp({ phone: `+${testPhone()}` });
    expect(error).toMatchObject({ status: 429, code: 'over_request_rate_limit', message: 'Request rate limit reached' });
  });

  it('with [auth.captcha] on, sends a code only for a token the provider verifies, once', async () => {
    const supabase = captchaAuth.client();
    const phone = testPhone();
    const missing = await supabase.auth.signInWithOtp({ phone: `+${phone}` });
    expect(missing.error).toMatchObject({ status: 400, code: 'captcha_failed', message: 'captcha protection: request disallowed (no captcha_token found)' });
    const forged = await supabase.auth.signInWithOtp({ phone: `+${phone}`, options: { captchaToken: 'made-up' } });
    expect(forged.error).toMatchObject({ status: 400, code: 'captcha_failed', message: 'captcha protection: request disallowed (invalid-input-response)' });
    expect(hook.received.filter((r) => r.phone === phone)).toHaveLength(0);

    const token = captcha.issue();
    const { error } = await supabase.auth.signInWithOtp({ phone: `+${phone}`, options: { captchaToken: token } });
    expect(error).toBeNull();
    expect(hook.received.filter((r) => r.phone === phone)).toHaveLength(1);
    const [call] = await fakeCalls(captcha.url, token);
    expect(call.path).toBe('/turnstile/v0/siteverify');
    expect(Object.fromEntries(new URLSearchParams(call.body))).toMatchObject({ secret: CAPTCHA_SECRET, response: token, remoteip: '127.0.0.1' });

    const replay = await supabase.auth.signInWithOtp({ phone: `+${testPhone()}`, options: { captchaToken: token } });
    expect(replay.error).toMatchObject({ status: 400, code: 'captcha_failed', message: 'captcha protection: request disallowed (timeout-or-duplicate)' });

    // Verifying the code and refreshing need no captcha, as in GoTrue.
    const { data, error: verifyError } = await supabase.auth.verifyOtp({ phone, token: hook.lastOtp(phone), type: 'sms' });
    expect(verifyError).toBeNull();
    expect((await supabase.auth.refreshSession({ refresh_token: data.session!.refresh_token })).error).toBeNull();
  });

  it('lets service_role callers through without a captcha token, as GoTrue does', async () => {
    const phone = testPhone();
    const { error } = await captchaAuth.admin().auth.signInWithOtp({ phone: `+${phone}` });
    expect(error).toBeNull();
    expect(hook.received.filter((r) => r.phone === phone)).toHaveLength(1);
  });
});
