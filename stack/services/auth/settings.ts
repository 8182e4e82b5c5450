// Auth settings from `supabase/config.toml`, read the way the CLI turns them
// into GoTrue's environment for `supabase start` (see buildGotrueEnv in the CLI).
import type { StackConfig, Toml } from '../../config.ts';

export interface SendSmsHook {
  uri: string;
  /** Standard Webhooks secrets (`v1,whsec_…`), as in `[auth.hook.send_sms] secrets` (`|`-separated). */
  secrets: string[];
}

export interface Captcha {
  provider: 'hcaptcha' | 'turnstile';
  secret: string;
  /** The provider's siteverify endpoint; `STACK_CAPTCHA_VERIFY_URL` points it elsewhere (a local stand-in). */
  verifyUrl: string;
}

/** Per-IP request limits per 5 minutes, as GoTrue applies them (burst 30, only behind a rate-limit header). */
export interface IpLimits {
  /** `[auth.rate_limit] sign_in_sign_ups` (GOTRUE_RATE_LIMIT_OTP): POST /otp and PUT /user. */
  otp: number;
  /** `token_verifications` (GOTRUE_RATE_LIMIT_VERIFY): POST /verify. */
  verify: number;
  /** `token_refresh` (GOTRUE_RATE_LIMIT_TOKEN_REFRESH): POST /token. */
  tokenRefresh: number;
}

export interface AuthSettings {
  issuer: string;
  jwtExpiry: number;
  /** `[auth] enable_signup` (GOTRUE_DISABLE_SIGNUP is its negation). */
  signupEnabled: boolean;
  /** `[auth.sms] enable_signup`: the phone provider is on. */
  phoneEnabled: boolean;
  /** `[auth.sms] enable_confirmations = false` means phone sign-ups are confirmed at once. */
  phoneAutoconfirm: boolean;
  smsMaxFrequencyMs: number;
  /** The CLI runs local GoTrue with GOTRUE_SMS_OTP_EXP=6000; config.toml has no key for it. */
  smsOtpExpirySeconds: number;
  smsOtpLength: number;
  /** Wrong codes allowed per sent OTP before it is void (GoTrue relies on IP rate limits instead). */
  smsMaxVerifyAttempts: number;
  /** `[auth.rate_limit] sms_sent`: SMS sent per hour by this Auth instance. */
  smsSentPerHour: number;
  testOtp: Map<string, string>;
  refreshTokenRotation: boolean;
  refreshTokenReuseIntervalSeconds: number;
  sendSmsHook: SendSmsHook | null;
  /**
   * GOTRUE_RATE_LIMIT_HEADER: the header a trusted proxy puts the client's IP in (its first
   * comma-separated value is the key). Unset, GoTrue applies no per-IP limit, as under `supabase start`.
   */
  rateLimitHeader: string | null;
  ipLimits: IpLimits;
  /** `[auth.captcha]` when enabled. */
  captcha: Captcha | null;
}

const CAPTCHA_VERIFY_URLS = {
  hcaptcha: 'https://hcaptcha.com/siteverify',
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
} as const;

/** `[auth.captcha]` checked as GoTrue's CaptchaConfiguration.Validate does. */
function captcha(toml: Toml): Captcha | null {
  const section = toml.auth?.captcha ?? {};
  if (section.enabled !== true) return null;
  const provider = section.provider ?? 'hcaptcha';
  if (provider !== 'hcaptcha' && provider !== 'turnstile') throw new Error(`[auth.captcha] unsupported captcha provider: ${provider}`);
  const secret = resolveEnv(section.secret).trim();
  if (!secret) throw new Error('[auth.captcha] captcha provider secret is empty');
  return { provider, secret, verifyUrl: process.env.STACK_CAPTCHA_VERIFY_URL || CAPTCHA_VERIFY_URLS[provider as Captcha['provider']] };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration such as `5s`, `1m30s` or `500ms` into milliseconds. */
export function parseGoDuration(value: unknown, fallbackMs: number): number {
  if (typeof value === 'number') return value * 1000;
  if (typeof value !== 'string' || value.trim() === '') return fallbackMs;
  const parts = [...value.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value.trim()) {
    throw new Error(`invalid duration ${JSON.stringify(value)} in supabase/config.toml`);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * DURATION_UNITS[unit], 0);
}

/** Resolves the CLI's `env(NAME)` substitution. */
function resolveEnv(value: unknown): string {
  if (typeof value !== 'string') return '';
  const match = /^env\((\w+)\)$/.exec(value.trim());
  return match ? (process.env[match[1]] ?? '') : value;
}

/**
 * `[auth.hook.send_sms]`, overridden by GoTrue's own variables (GOTRUE_HOOK_SEND_SMS_ENABLED,
 * _URI, _SECRETS) so `npm start` can point Auth at the send-sms function without editing
 * config.toml, which hosted deploys also read.
 */
function sendSmsHook(toml: Toml): SendSmsHook | null {
  const fromToml = toml.auth?.hook?.send_sms ?? {};
  const env = process.env;
  const hook = {
    enabled: env.GOTRUE_HOOK_SEND_SMS_ENABLED ? env.GOTRUE_HOOK_SEND_SMS_ENABLED === 'true' : fromToml.enabled === true,
    uri: env.GOTRUE_HOOK_SEND_SMS_URI || fromToml.uri,
    secrets: env.GOTRUE_HOOK_SEND_SMS_SECRETS || fromToml.secrets,
  };
  if (!hook.enabled) return null;
  const uri = resolveEnv(hook.uri);
  if (!/^https?:\/\//.test(uri)) {
    throw new Error('[auth.hook.send_sms] uri must be an HTTP(S) URL for the local stack (pg-functions hooks are not supported)');
  }
  const secrets = resolveEnv(hook.secrets).split('|').filter(Boolean);
  if (secrets.length === 0 || !secrets.every((s) => /^v1,whsec_[A-Za-z0-9+/=]{32,88}$/.test(s))) {
    throw new Error('[auth.hook.send_sms] secrets must be formatted as "v1,whsec_<base64>" (the CLI\'s rule)');
  }
  return { uri, secrets };
}

export function authSettings(config: StackConfig): AuthSettings {
  const auth = config.toml.auth ?? {};
  const sms = auth.sms ?? {};
  const testOtp = new Map<string, string>();
  for (const [phone, code] of Object.entries(sms.test_otp ?? {})) testOtp.set(phone.replace(/^\+/, ''), String(code));
  return {
    issuer: auth.jwt_issuer || `${config.apiUrl}/auth/v1`,
    jwtExpiry: config.keys.jwtExpiry,
    signupEnabled: auth.enable_signup !== false,
    phoneEnabled: sms.enable_signup === true,
    phoneAutoconfirm: sms.enable_confirmations !== true,
    smsMaxFrequencyMs: parseGoDuration(sms.max_frequency, 60_000),
    smsOtpExpirySeconds: 6000,
    smsOtpLength: 6,
    smsMaxVerifyAttempts: 5,
    smsSentPerHour: Number(auth.rate_limit?.sms_sent ?? 30),
    testOtp,
    refreshTokenRotation: auth.enable_refresh_token_rotation !== false,
    refreshTokenReuseIntervalSeconds: Number(auth.refresh_token_reuse_interval ?? 10),
    sendSmsHook: sendSmsHook(config.toml),
    rateLimitHeader: process.env.GOTRUE_RATE_LIMIT_HEADER?.trim() || null,
    ipLimits: {
      otp: Number(auth.rate_limit?.sign_in_sign_ups ?? 30),
      verify: Number(auth.rate_limit?.token_verifications ?? 30),
      tokenRefresh: Number(auth.rate_limit?.token_refresh ?? 150),
    },
    captcha: captcha(config.toml),
  };
}
