// How Auth reads its settings: config.toml as the CLI passes it to GoTrue, and
// GoTrue's GOTRUE_HOOK_SEND_SMS_* variables over it.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../stack/config.ts';
import { authSettings, parseGoDuration } from '../../stack/services/auth/settings.ts';

const HOOK_VARS = ['GOTRUE_HOOK_SEND_SMS_ENABLED', 'GOTRUE_HOOK_SEND_SMS_URI', 'GOTRUE_HOOK_SEND_SMS_SECRETS'] as const;

describe('auth settings', () => {
  afterEach(() => {
    for (const name of HOOK_VARS) delete process.env[name];
  });

  it('reads supabase/config.toml: phone sign-up on, confirmed by OTP, test OTPs without +, limits', () => {
    const settings = authSettings(loadConfig({ apiPort: 54321, dbPort: 54322 }));
    expect(settings).toMatchObject({
      issuer: 'http://127.0.0.1:54321/auth/v1', jwtExpiry: 3600, phoneEnabled: true, phoneAutoconfirm: false, signupEnabled: true,
      smsMaxFrequencyMs: 60000, smsOtpExpirySeconds: 6000, smsSentPerHour: 200, refreshTokenRotation: true, refreshTokenReuseIntervalSeconds: 10,
      sendSmsHook: null, rateLimitHeader: null, ipLimits: { otp: 10, verify: 30, tokenRefresh: 150 }, captcha: null,
    });
    expect(settings.testOtp.get('2348000000002')).toBe('123456');
  });

  it('takes the Send SMS hook from GOTRUE_HOOK_SEND_SMS_* and checks the secret format', () => {
    process.env.GOTRUE_HOOK_SEND_SMS_ENABLED = 'true';
    process.env.GOTRUE_HOOK_SEND_SMS_URI = 'http://127.0.0.1:54321/functions/v1/send-sms';
    process.env.GOTRUE_HOOK_SEND_SMS_SECRETS = `v1,whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const config = loadConfig({ apiPort: 54321, dbPort: 54322 });
    expect(authSettings(config).sendSmsHook).toEqual({ uri: process.env.GOTRUE_HOOK_SEND_SMS_URI, secrets: [process.env.GOTRUE_HOOK_SEND_SMS_SECRETS] });
    process.env.GOTRUE_HOOK_SEND_SMS_SECRETS = 'not-a-secret';
    expect(() => authSettings(config)).toThrow(/v1,whsec_/);
    process.env.GOTRUE_HOOK_SEND_SMS_URI = 'pg-functions://postgres/public/send_sms';
    expect(() => authSettings(config)).toThrow(/HTTP/);
  });

  it('parses Go durations as the CLI writes them', () => {
    expect(parseGoDuration('5s', 0)).toBe(5000);
    expect(parseGoDuration('1m30s', 0)).toBe(90_000);
    expect(parseGoDuration('24h', 0)).toBe(86_400_000);
    expect(parseGoDuration(undefined, 60_000)).toBe(60_000);
    expect(() => parseGoDuration('forever', 0)).toThrow(/invalid duration/);
  });
});
