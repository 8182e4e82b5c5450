// Transactional email through Resend's official SDK (`resend`): it is built on
// fetch, so it runs in Deno unchanged, and its base URL is a setting
// (RESEND_BASE_URL), so a local fake can stand in for the service.
import { Resend } from 'resend';

export class EmailNotConfigured extends Error {}

export class EmailError extends Error {
  constructor(readonly status: number | null, message: string) {
    super(message);
  }
  /** Worth another attempt: the network, Resend's side, rate limits, or our key (an operator can fix it). */
  get retryable(): boolean {
    return this.status === null || this.status >= 500 || [401, 403, 429].includes(this.status);
  }
}

let cached: { key: string; base: string; client: Resend } | null = null;

function client(): Resend {
  const key = Deno.env.get('RESEND_API_KEY');
  if (!key) throw new EmailNotConfigured('email_not_configured: RESEND_API_KEY is not set');
  const base = Deno.env.get('RESEND_BASE_URL') || 'https://api.resend.com';
  if (cached?.key !== key || cached.base !== base) cached = { key, base, client: new Resend(key, { baseUrl: base }) };
  return cached.client;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Sends one email; `idempotencyKey` makes a repeated attempt return the first send (Resend keeps keys 24 h). */
export async function sendEmail(to: string, subject: string, text: string, idempotencyKey: string): Promise<string> {
  const resend = client();
  const from = Deno.env.get('EMAIL_FROM');
  if (!from) throw new EmailNotConfigured('email_not_configured: EMAIL_FROM is not set');
  const html = `<p>${escapeHtml(text).replace(/\n/g, '<br>')}</p>`;
  const { data, error } = await resend.emails.send({ from, to: [to], subject, text, html }, { idempotencyKey, signal: AbortSignal.timeout(20_000) });
  if (error || !data) {
    const e = error as { statusCode?: number | null; name?: string; message?: string } | null;
    throw new EmailError(e?.statusCode ?? null, `resend: ${e?.name ?? 'error'}: ${String(e?.message ?? 'no answer').slice(0, 200)}`);
  }
  return data.id;
}
