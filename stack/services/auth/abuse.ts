// GoTrue's defences against abuse of the open endpoints: per-IP request limits
// keyed by a trusted proxy's header (GOTRUE_RATE_LIMIT_HEADER), and captcha
// verification (`[auth.captcha]`, hCaptcha or Turnstile) of sign-in requests.
import type { IncomingMessage } from 'node:http';
import { AuthError, badRequest, tooManyRequests } from './errors.ts';
import type { AuthSettings, Captcha } from './settings.ts';
import { clientIp } from './sessions.ts';

const FIVE_MINUTES_S = 300;
const BURST = 30;
const TTL_MS = 3_600_000;

/** A token bucket per key: `perFiveMinutes` refill, 30 at most, forgotten after an hour (tollbooth as GoTrue uses it). */
export class IpLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private calls = 0;
  constructor(private readonly perFiveMinutes: number) {}

  take(key: string): boolean {
    const now = Date.now();
    if (++this.calls % 1000 === 0) {
      for (const [k, b] of this.buckets) if (now - b.at > TTL_MS) this.buckets.delete(k);
    }
    const bucket = this.buckets.get(key) ?? { tokens: BURST, at: now };
    bucket.tokens = Math.min(BURST, bucket.tokens + ((now - bucket.at) / 1000) * (this.perFiveMinutes / FIVE_MINUTES_S));
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

export interface IpLimiters {
  otp: IpLimiter;
  user: IpLimiter;
  verify: IpLimiter;
  token: IpLimiter;
}

export function ipLimiters(settings: AuthSettings): IpLimiters {
  const { otp, verify, tokenRefresh } = settings.ipLimits;
  return { otp: new IpLimiter(otp), user: new IpLimiter(otp), verify: new IpLimiter(verify), token: new IpLimiter(tokenRefresh) };
}

/**
 * GoTrue's performRateLimitingWithHeader: the key is the first comma-separated value of the
 * configured header; without the setting, or without a value, nothing is limited.
 */
export function limitByIp(settings: AuthSettings, limiter: IpLimiter, req: IncomingMessage): void {
  if (!settings.rateLimitHeader) return;
  const raw = req.headers[settings.rateLimitHeader.toLowerCase()];
  const key = (Array.isArray(raw) ? raw.join(',') : raw)?.split(',')[0]?.trim();
  if (!key) return;
  if (!limiter.take(key)) throw tooManyRequests('over_request_rate_limit', 'Request rate limit reached');
}

interface SiteverifyAnswer {
  success?: boolean;
  'error-codes'?: string[];
}

async function siteverify(captcha: Captcha, token: string, remoteIp: string | null): Promise<SiteverifyAnswer> {
  const form = new URLSearchParams({ secret: captcha.secret, response: token, remoteip: remoteIp ?? '' });
  const res = await fetch(captcha.verifyUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as SiteverifyAnswer;
}

/**
 * GoTrue's verifyCaptcha middleware: with `[auth.captcha]` on, the request's
 * `gotrue_meta_security.captcha_token` (what supabase-js sends for
 * `options.captchaToken`) must pass the provider's siteverify; service_role callers skip it.
 */
export async function verifyCaptcha(settings: AuthSettings, req: IncomingMessage, body: Record<string, unknown>, isAdmin: boolean): Promise<void> {
  const { captcha } = settings;
  if (!captcha || isAdmin) return;
  const security = body.gotrue_meta_security;
  const raw = security && typeof security === 'object' ? (security as Record<string, unknown>).captcha_token : undefined;
  const token = typeof raw === 'string' ? raw.trim() : '';
  if (!token) throw badRequest('captcha_failed', 'captcha protection: request disallowed (no captcha_token found)');
  let answer: SiteverifyAnswer;
  try {
    answer = await siteverify(captcha, token, clientIp(req));
  } catch {
    // GoTrue's answer when the provider cannot be asked: the request is not the client's fault.
    throw new AuthError(500, 'unexpected_failure', 'captcha verification process failed');
  }
  if (answer.success !== true) {
    throw badRequest('captcha_failed', `captcha protection: request disallowed (${(answer['error-codes'] ?? []).join(', ')})`);
  }
}
