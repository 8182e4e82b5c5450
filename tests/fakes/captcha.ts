// A fake captcha provider speaking hCaptcha's and Cloudflare Turnstile's
// siteverify API (POST form `secret`, `response`, `remoteip`; JSON
// `{success, "error-codes"}` with the codes both document). Tokens are what the
// widget would hand the app: `issue()` makes one, valid once.
import { randomUUID } from 'node:crypto';
import { sendJson, startFake, type FakeServer } from './recorder.ts';

export interface FakeCaptcha extends FakeServer {
  /** The siteverify URL for the provider's path (`/siteverify` for hCaptcha, `/turnstile/v0/siteverify` for Turnstile). */
  verifyUrl(provider: 'hcaptcha' | 'turnstile'): string;
  /** A token as the widget gives it to the app after a solved challenge. */
  issue(): string;
}

export async function startFakeCaptcha(secret: string): Promise<FakeCaptcha> {
  const issued = new Set<string>();
  const used = new Set<string>();
  const server = await startFake('captcha', (req, res, body, url) => {
    if (req.method !== 'POST' || (url.pathname !== '/siteverify' && url.pathname !== '/turnstile/v0/siteverify')) return false;
    const form = new URLSearchParams(body);
    const response = form.get('response') ?? '';
    const errors: string[] = [];
    if (!form.get('secret')) errors.push('missing-input-secret');
    else if (form.get('secret') !== secret) errors.push('invalid-input-secret');
    if (!response) errors.push('missing-input-response');
    else if (used.has(response)) errors.push('timeout-or-duplicate');
    else if (!issued.has(response)) errors.push('invalid-input-response');
    if (errors.length === 0) {
      issued.delete(response);
      used.add(response);
      sendJson(res, 200, { success: true, challenge_ts: new Date().toISOString(), hostname: 'rambini.test', 'error-codes': [] });
    } else {
      sendJson(res, 200, { success: false, 'error-codes': errors });
    }
    return true;
  });
  return {
    ...server,
    verifyUrl: (provider) => `${server.url}${provider === 'hcaptcha' ? '/siteverify' : '/turnstile/v0/siteverify'}`,
    issue() {
      const token = `fake-captcha.${randomUUID()}`;
      issued.add(token);
      return token;
    },
  };
}
