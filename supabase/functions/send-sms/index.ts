// The Auth "Send SMS" hook: Auth posts `{ user, sms: { otp, phone } }` signed
// with Standard Webhooks; we verify the signature on the raw body and send the
// OTP text through the configured provider. Auth expects 200 `{}` on success
// and `{ error: { http_code, message } }` otherwise, which it shows to the user.
// Before anything is paid for: numbers outside SMS_ALLOWED_COUNTRY_CODES
// (SMS pumping to premium ranges) and suspended users are refused.
import { Webhook } from 'standardwebhooks';
import { asServiceRole } from '../_shared/db.ts';
import { requireEnv, envOr } from '../_shared/env.ts';
import { HttpError, readText } from '../_shared/http.ts';
import { SendSmsHook } from '../_shared/schemas.ts';
import { sendSms, SmsError } from '../_shared/sms.ts';

function hookError(status: number, message: string): Response {
  return Response.json({ error: { http_code: status, message } }, { status });
}

/** Country calling codes we text, e.g. `234` or `234,233`; Nigeria only unless configured. */
function allowedCountryCodes(): string[] {
  return envOr('SMS_ALLOWED_COUNTRY_CODES', '234').split(',').map((c) => c.trim().replace(/^\+/, '')).filter((c) => /^\d{1,3}$/.test(c));
}

async function isSuspended(userId: string): Promise<boolean> {
  const rows = await asServiceRole((tx) => tx`select 1 from public.profiles where id::text = ${userId} and status = 'suspended'`);
  return rows.length > 0;
}

Deno.serve(async (req) => {
  if (req.method !== 'POST') return hookError(405, 'send-sms accepts POST only');
  try {
    const raw = await readText(req);
    // The secret is configured as in Auth: `v1,whsec_<base64>`.
    const secret = requireEnv('SEND_SMS_HOOK_SECRET').replace(/^v1,whsec_/, '');
    let payload: unknown;
    try {
      payload = new Webhook(secret).verify(raw, Object.fromEntries(req.headers));
    } catch {
      return hookError(401, 'Invalid webhook signature');
    }
    const parsed = SendSmsHook.safeParse(payload);
    if (!parsed.success) return hookError(400, `Invalid hook payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { user, sms } = parsed.data;
    const to = (sms.phone || user.phone)!.replace(/^\+/, '');
    if (!allowedCountryCodes().some((code) => to.startsWith(code))) {
      console.warn(`send-sms: refused +${to.slice(0, 4)}… for user ${user.id}: country not in SMS_ALLOWED_COUNTRY_CODES`);
      return hookError(400, 'SMS codes cannot be sent to this country; use a Nigerian (+234) number');
    }
    if (await isSuspended(user.id)) return hookError(403, 'This account is suspended');
    const text = envOr('SMS_OTP_TEMPLATE', 'Your Rambini code is {{ .Code }}').replaceAll('{{ .Code }}', sms.otp);
    const sent = await sendSms(to, text);
    console.log(`send-sms: OTP for user ${user.id} sent with ${sent.provider} (${sent.messageId})`);
    return Response.json({});
  } catch (err) {
    if (err instanceof SmsError) {
      console.error(`send-sms: ${err.message}`);
      // A provider refusing the number is the caller's problem; anything else is ours or theirs.
      const status = err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429 ? 400 : 502;
      return hookError(status, `The SMS could not be sent (${err.provider}); please try again later`);
    }
    if (err instanceof HttpError) return hookError(err.status, err.message);
    console.error('send-sms: unexpected error', err);
    return hookError(500, 'The SMS could not be sent because of an internal error');
  }
});
