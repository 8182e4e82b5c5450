// SMS provider clients, one small function per documented API. The provider is
// chosen by SMS_PROVIDER (termii for Nigeria, twilio, africastalking); base URLs
// come from env so a local fake can stand in for the real service.
import { envOr, requireEnv } from './env.ts';

export class SmsError extends Error {
  constructor(readonly provider: string, readonly status: number, message: string) {
    super(`${provider}: ${message}`);
  }
}

export interface SmsResult {
  provider: string;
  messageId: string;
}

/** Auth stores phone numbers as E.164 digits without '+'. */
const digits = (phone: string) => phone.replace(/^\+/, '');

async function providerError(provider: string, res: Response): Promise<SmsError> {
  const text = await res.text();
  let message = text;
  try {
    const body = JSON.parse(text);
    message = body.message ?? body.error ?? text;
  } catch { /* not JSON: keep the text */ }
  return new SmsError(provider, res.status, `HTTP ${res.status}: ${String(message).slice(0, 200)}`);
}

/** Termii: POST /api/sms/send (https://developers.termii.com/messaging-api). */
async function sendTermii(phone: string, text: string): Promise<SmsResult> {
  const res = await fetch(`${envOr('TERMII_BASE_URL', 'https://api.ng.termii.com')}/api/sms/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      api_key: requireEnv('TERMII_API_KEY'),
      to: digits(phone),
      from: envOr('TERMII_SENDER_ID', 'Rambini'),
      sms: text,
      type: 'plain',
      // OTPs go through the DND-exempt route in Nigeria.
      channel: envOr('TERMII_CHANNEL', 'dnd'),
    }),
  });
  if (!res.ok) throw await providerError('termii', res);
  const body = await res.json();
  return { provider: 'termii', messageId: String(body.message_id) };
}

/** Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json with Basic auth. */
async function sendTwilio(phone: string, text: string): Promise<SmsResult> {
  const sid = requireEnv('TWILIO_ACCOUNT_SID');
  const form = new URLSearchParams({ To: `+${digits(phone)}`, Body: text });
  const service = Deno.env.get('TWILIO_MESSAGING_SERVICE_SID');
  if (service) form.set('MessagingServiceSid', service);
  else form.set('From', requireEnv('TWILIO_FROM'));
  const res = await fetch(`${envOr('TWILIO_BASE_URL', 'https://api.twilio.com')}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`, {
    method: 'POST',
    headers: { authorization: `Basic ${btoa(`${sid}:${requireEnv('TWILIO_AUTH_TOKEN')}`)}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  if (!res.ok) throw await providerError('twilio', res);
  const body = await res.json();
  return { provider: 'twilio', messageId: String(body.sid) };
}

/** Africa's Talking: POST /version1/messaging; success is per recipient (status codes 100-102). */
async function sendAfricasTalking(phone: string, text: string): Promise<SmsResult> {
  const form = new URLSearchParams({ username: requireEnv('AFRICASTALKING_USERNAME'), to: `+${digits(phone)}`, message: text });
  const from = Deno.env.get('AFRICASTALKING_SENDER_ID');
  if (from) form.set('from', from);
  const res = await fetch(`${envOr('AFRICASTALKING_BASE_URL', 'https://api.africastalking.com')}/version1/messaging`, {
    method: 'POST',
    headers: { apiKey: requireEnv('AFRICASTALKING_API_KEY'), accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  if (!res.ok) throw await providerError('africastalking', res);
  const body = await res.json();
  const recipient = body?.SMSMessageData?.Recipients?.[0];
  if (!recipient || recipient.statusCode < 100 || recipient.statusCode > 102) {
    throw new SmsError('africastalking', 400, `not sent: ${recipient?.status ?? body?.SMSMessageData?.Message ?? 'no recipient'}`);
  }
  return { provider: 'africastalking', messageId: String(recipient.messageId) };
}

const PROVIDERS: Record<string, (phone: string, text: string) => Promise<SmsResult>> = {
  termii: sendTermii,
  twilio: sendTwilio,
  africastalking: sendAfricasTalking,
};

export function sendSms(phone: string, text: string): Promise<SmsResult> {
  const name = envOr('SMS_PROVIDER', 'termii');
  const send = PROVIDERS[name];
  if (!send) throw new SmsError(name, 500, `unknown SMS_PROVIDER "${name}" (use ${Object.keys(PROVIDERS).join(', ')})`);
  return send(phone, text);
}
