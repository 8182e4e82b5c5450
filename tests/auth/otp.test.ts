// Phone OTP sign-in through supabase-js: test OTPs, codes delivered through the
// Send SMS hook (signature verified), and every way a code can be refused.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { serviceSql, testPhone } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';
import { startSmsHookServer, type SmsHookServer } from './sms-hook-server.ts';

const TEST_CODE = '654321';
const testOtpPhone = testPhone();

describe.runIf(stackEnv().embedded)('phone OTP sign-in', () => {
  let auth: PrivateAuth;
  let hook: SmsHookServer;

  beforeAll(async () => {
    hook = await startSmsHookServer();
    auth = await startPrivateAuth((a) => {
      a.sms.test_otp = { [testOtpPhone]: TEST_CODE };
      a.hook = { send_sms: { enabled: true, uri: hook.url, secrets: hook.secret } };
    });
  });
  afterAll(async () => {
    await auth?.close();
    await hook?.close();
  });

  /** Moves the user's last OTP back in time, as if that many seconds had passed. */
  async function age(phone: string, seconds: number) {
    await serviceSql()`update auth.users set confirmation_sent_at = confirmation_sent_at - make_interval(secs => ${seconds}) where phone = ${phone}`;
  }

  it('signs in with a test OTP without sending an SMS, creating the user, identity, session and profile', async () => {
    const supabase = auth.client();
    const sent = await supabase.auth.signInWithOtp({ phone: `+${testOtpPhone}` });
    expect(sent.error).toBeNull();
    // A sign-up with enable_confirmations answers `{}` as GoTrue's Signup does: no message id.
    expect(sent.data).toEqual({ user: null, session: null, messageId: undefined });
    expect(hook.received.some((r) => r.phone === testOtpPhone)).toBe(false);

    const { data, error } = await supabase.auth.verifyOtp({ phone: `+${testOtpPhone}`, token: TEST_CODE, type: 'sms' });
    expect(error).toBeNull();
    const session = data.session!;
    expect(session.token_type).toBe('bearer');
    expect(session.expires_in).toBeGreaterThan(3590);
    expect(session.refresh_token).toMatch(/^[a-z0-9]{12}$/);
    expect(data.user!.phone).toBe(testOtpPhone);
    expect(data.user!.app_metadata).toEqual({ provider: 'phone', providers: ['phone'] });
    expect(data.user!.identities!.map((i) => i.provider)).toEqual(['phone']);

    const claims = decodeJwt(session.access_token);
    expect(claims).toMatchObject({
      iss: `${auth.url}/auth/v1`, sub: data.user!.id, aud: 'authenticated', role: 'authenticated', phone: testOtpPhone, email: '',
      aal: 'aal1', is_anonymous: false, app_metadata: { provider: 'phone', providers: ['phone'] }, user_metadata: {},
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect((claims.amr as Array<{ method: string }>)[0].method).toBe('otp');

    const sql = serviceSql();
    const [row] = await sql`select u.phone, u.phone_confirmed_at, u.last_sign_in_at, s.id as session_id, p.phone as profile_phone, w.currency, w.balance
      from auth.users u join auth.sessions s on s.user_id = u.id
      left join public.profiles p on p.id = u.id left join public.wallets w on w.user_id = u.id where u.id = ${data.user!.id}`;
    // The product's auth.users trigger ran: profile (phone with +) and an empty NGN wallet.
    expect(row).toMatchObject({ phone: testOtpPhone, session_id: claims.session_id, profile_phone: `+${testOtpPhone}`, currency: 'NGN', balance: '0' });
    expect(row.phone_confirmed_at).toBeInstanceOf(Date);
    expect(row.last_sign_in_at).toBeInstanceOf(Date);
    const [token] = await sql`select revoked, parent from auth.refresh_tokens where token = ${session.refresh_token}`;
    expect(token).toEqual({ revoked: false, parent: null });
  });

  it('signs in with the code the Send SMS hook received, signed with Standard Webhooks', async () => {
    const phone = testPhone();
    const supabase = auth.client();
    const sent = await supabase.auth.signInWithOtp({ phone: `+${phone}`, options: { data: { full_name: 'Ada' } } });
    expect(sent.error).toBeNull();
    const received = hook.received.filter((r) => r.phone === phone);
    expect(received).toHaveLength(1);
    expect(hook.rejected).toBe(0);
    const otp = received[0].otp;
    expect(otp).toMatch(/^\d{6}$/);
    expect(received[0].payload.user).toMatchObject({ phone, user_metadata: { full_name: 'Ada' }, aud: 'authenticated' });
    expect(received[0].payload.metadata).toMatchObject({ name: 'send-sms' });

    // Stored as GoTrue stores it: a hash of phone and code, never the code.
    const [stored] = await serviceSql()`select confirmation_token from auth.users where phone = ${phone}`;
    expect(stored.confirmation_token).toBe(createHash('sha224').update(phone + otp).digest('hex'));

    const { data, error } = await supabase.auth.verifyOtp({ phone, token: otp, type: 'sms' });
    expect(error).toBeNull();
    expect(data.user!.user_metadata).toEqual({ full_name: 'Ada' });
    expect(data.session!.access_token).toBeTruthy();

    // A code signs in once.
    const again = await supabase.auth.verifyOtp({ phone, token: otp, type: 'sms' });
    expect(again.error).toMatchObject({ status: 403, code: 'otp_expired' });
  });

  it('refuses a wrong code with otp_expired and still accepts the right one', async () => {
    const phone = testPhone();
    const supabase = auth.client();
    expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
    const otp = hook.lastOtp(phone);
    const wrong = otp === '000000' ? '111111' : '000000';
    const refused = await supabase.auth.verifyOtp({ phone, token: wrong, type: 'sms' });
    expect(refused.error).toMatchObject({ status: 403, code: 'otp_expired', message: 'Token has expired or is invalid' });
    expect(refused.data.session).toBeNull();
    const accepted = await supabase.auth.verifyOtp({ phone, token: otp, type: 'sms' });
    expect(accepted.error).toBeNull();
  });

  it('refuses an expired code', async () => {
    const phone = testPhone();
    const supabase = auth.client();
    expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
    await age(phone, 6001);
    const { error } = await supabase.auth.verifyOtp({ phone, token: hook.lastOtp(phone), type: 'sms' });
    expect(error).toMatchObject({ status: 403, code: 'otp_expired' });
  });

  it('voids the code after five wrong attempts; a new code works', async () => {
    const phone = testPhone();
    const supabase = auth.client();
    expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
    const otp = hook.lastOtp(phone);
    const wrong = otp === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      expect((await supabase.auth.verifyOtp({ phone, token: wrong, type: 'sms' })).error).toMatchObject({ code: 'otp_expired' });
    }
    expect((await supabase.auth.verifyOtp({ phone, token: otp, type: 'sms' })).error).toMatchObject({ status: 403, code: 'otp_expired' });

    await age(phone, 61);
    expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
    const fresh = hook.lastOtp(phone);
    expect((await supabase.auth.verifyOtp({ phone, token: fresh, type: 'sms' })).error).toBeNull();
  });

  it('refuses a resend within max_frequency with over_sms_send_rate_limit', async () => {
    const phone = testPhone();
    const supabase = auth.client();
    expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
    const { error } = await supabase.auth.signInWithOtp({ phone });
    expect(error).toMatchObject({ status: 429, code: 'over_sms_send_rate_limit' });
    // max_frequency = "60s" in config.toml.
    expect(error!.message).toMatch(/^For security purposes, you can only request this after ([1-5]?[0-9]|60) seconds\.$/);
    expect(hook.received.filter((r) => r.phone === phone)).toHaveLength(1);
  });

  it('handles two simultaneous first sign-ins of one number: one SMS, one user, the other told to wait', async () => {
    const phone = testPhone();
    const results = await Promise.all([1, 2, 3].map(() => auth.client().auth.signInWithOtp({ phone })));
    expect(results.map((r) => (r.error ? `${r.error.status} ${r.error.code}` : 'ok')).sort()).toEqual(['429 over_sms_send_rate_limit', '429 over_sms_send_rate_limit', 'ok']);
    expect(hook.received.filter((r) => r.phone === phone)).toHaveLength(1);
    expect(await serviceSql()`select 1 from auth.users where phone = ${phone}`).toHaveLength(1);
  });

  it('refuses invalid phone numbers with validation_failed', async () => {
    const supabase = auth.client();
    for (const phone of ['12ab45678', '+0801234567', '+1', '+2348012345678901234']) {
      const { error } = await supabase.auth.signInWithOtp({ phone });
      expect(error, phone).toMatchObject({ status: 400, code: 'validation_failed', message: 'Invalid phone number format (E.164 required)' });
    }
    const { error } = await supabase.auth.verifyOtp({ phone: 'not-a-phone', token: '123456', type: 'sms' });
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    // WhatsApp needs Twilio in GoTrue; the hook path is SMS only.
    const whatsapp = await supabase.auth.signInWithOtp({ phone: testPhone(), options: { channel: 'whatsapp' } });
    expect(whatsapp.error).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('accepts a number with + and spaces, and stores it normalised', async () => {
    const phone = testPhone();
    const spaced = `+${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`;
    const supabase = auth.client();
    expect((await supabase.auth.signInWithOtp({ phone: spaced })).error).toBeNull();
    const { data, error } = await supabase.auth.verifyOtp({ phone: spaced, token: hook.lastOtp(phone), type: 'sms' });
    expect(error).toBeNull();
    expect(data.user!.phone).toBe(phone);
  });

  it('does not create a user when shouldCreateUser is false', async () => {
    const phone = testPhone();
    const { error } = await auth.client().auth.signInWithOtp({ phone, options: { shouldCreateUser: false } });
    expect(error).toMatchObject({ status: 422, code: 'otp_disabled' });
    expect(await serviceSql()`select 1 from auth.users where phone = ${phone}`).toHaveLength(0);
  });

  it('reports a failing hook as sms_send_failed (never a 5xx) and writes nothing', async () => {
    const phone = testPhone();
    hook.mode = { status: 400, message: 'The SMS could not be sent (termii); please try again later' };
    try {
      const { error } = await auth.client().auth.signInWithOtp({ phone });
      expect(error).toMatchObject({ status: 422, code: 'sms_send_failed' });
      expect(error!.message).toContain('The SMS could not be sent (termii)');
    } finally {
      hook.mode = 'ok';
    }
    expect(await serviceSql()`select 1 from auth.users where phone = ${phone}`).toHaveLength(0);
  });

  it('refuses sign-in to a banned (suspended) user with user_banned', async () => {
    const supabase = auth.client();
    const phone = testPhone();
    expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
    // What the domain's admin_set_user_status writes for a suspended user.
    await serviceSql()`update auth.users set banned_until = 'infinity' where phone = ${phone}`;
    const { error } = await supabase.auth.verifyOtp({ phone, token: hook.lastOtp(phone), type: 'sms' });
    expect(error).toMatchObject({ status: 403, code: 'user_banned' });
  });
});

describe.runIf(stackEnv().embedded)('hourly SMS limit', () => {
  it('refuses sends beyond [auth.rate_limit] sms_sent per hour; test OTP numbers do not count', async () => {
    const hook = await startSmsHookServer();
    const testNumber = testPhone();
    const auth = await startPrivateAuth((a) => {
      a.rate_limit.sms_sent = 2;
      a.sms.test_otp = { [testNumber]: TEST_CODE };
      a.hook = { send_sms: { enabled: true, uri: hook.url, secrets: hook.secret } };
    });
    try {
      const supabase = auth.client();
      expect((await supabase.auth.signInWithOtp({ phone: testNumber })).error).toBeNull();
      expect((await supabase.auth.signInWithOtp({ phone: testPhone() })).error).toBeNull();
      expect((await supabase.auth.signInWithOtp({ phone: testPhone() })).error).toBeNull();
      const { error } = await supabase.auth.signInWithOtp({ phone: testPhone() });
      expect(error).toMatchObject({ status: 429, code: 'over_sms_send_rate_limit', message: 'SMS rate limit exceeded' });
      expect(hook.received).toHaveLength(2);
    } finally {
      await auth.close();
      await hook.close();
    }
  });
});

describe.runIf(stackEnv().embedded)('without a Send SMS hook', () => {
  it('prints the code to the stack log, as Inbucket would show it, and the code signs in', async () => {
    const lines: string[] = [];
    const auth = await startPrivateAuth(() => {}, (line) => lines.push(line));
    try {
      const phone = testPhone();
      const supabase = auth.client();
      expect((await supabase.auth.signInWithOtp({ phone })).error).toBeNull();
      const line = lines.find((l) => l.includes(`+${phone}`));
      const code = /: (\d{6}) /.exec(line ?? '')?.[1];
      expect(code, line).toMatch(/^\d{6}$/);
      expect((await supabase.auth.verifyOtp({ phone, token: code!, type: 'sms' })).error).toBeNull();
    } finally {
      await auth.close();
    }
  });
});

describe.runIf(stackEnv().embedded)('unreachable Send SMS hook', () => {
  it('tries three times, then answers 422 hook_timeout_after_retry and writes nothing', async () => {
    let attempts = 0;
    // Drops every connection: a network error each time, as from a crashed function.
    const dropper = http.createServer((req) => {
      attempts += 1;
      req.socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const { port } = dropper.address() as { port: number };
    const hook = await startSmsHookServer();
    const auth = await startPrivateAuth((a) => {
      a.hook = { send_sms: { enabled: true, uri: `http://127.0.0.1:${port}/send-sms`, secrets: hook.secret } };
    });
    try {
      const phone = testPhone();
      const { error } = await auth.client().auth.signInWithOtp({ phone });
      expect(error).toMatchObject({ status: 422, code: 'hook_timeout_after_retry' });
      expect(attempts).toBe(3);
      expect(await serviceSql()`select 1 from auth.users where phone = ${phone}`).toHaveLength(0);
    } finally {
      await auth.close();
      await hook.close();
      await new Promise((resolve) => dropper.close(resolve));
    }
  });
});
