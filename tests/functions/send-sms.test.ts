// The Auth "Send SMS" hook (supabase/functions/send-sms) under real Deno: the
// Standard Webhooks signature, the provider APIs, and the answers Auth expects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../stack/config.ts';
import { createGateway, type Gateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createFunctionsService } from '../../stack/services/functions/index.ts';
import type { Service } from '../../stack/services/service.ts';
import { fakesEnv } from '../fakes/env.ts';
import { failCalls, fakeCalls } from '../fakes/recorder.ts';
import { standardWebhookHeaders, standardWebhookSignature } from '../fakes/standard-webhooks.ts';
import { stackEnv } from '../helpers/env.ts';
import { createUser, serviceSql, testPhone } from '../helpers/db.ts';

const hookBody = (phone: string, otp = '482913') => JSON.stringify({ user: { id: crypto.randomUUID(), phone, aud: 'authenticated', role: 'authenticated' }, sms: { otp } });

describe('Standard Webhooks signing in these tests', () => {
  it('matches the example vector published with the Standard Webhooks specification', () => {
    expect(standardWebhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'))
      .toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe.runIf(stackEnv().embedded)('send-sms hook', () => {
  const url = `${stackEnv().url}/functions/v1/send-sms`;
  const fakes = fakesEnv();
  const secret = fakes.secrets.SEND_SMS_HOOK_SECRET;
  const post = (body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers, body });

  it('sends the OTP with Termii and answers Auth 200 {}', async () => {
    const phone = testPhone();
    const body = hookBody(phone);
    const res = await post(body, standardWebhookHeaders(secret, body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const calls = await fakeCalls(fakes.smsUrl, phone);
    expect(calls).toHaveLength(1);
    expect(calls[0].path).toBe('/api/sms/send');
    const sent = JSON.parse(calls[0].body);
    expect(sent).toMatchObject({ to: phone, api_key: fakes.secrets.TERMII_API_KEY, type: 'plain', channel: 'dnd', from: 'Rambini' });
    expect(sent.sms).toContain('482913');
  });

  it('refuses a wrong, missing or stale signature with 401 and sends nothing', async () => {
    const phone = testPhone();
    const body = hookBody(phone);
    const other = 'v1,whsec_' + Buffer.from('another-secret-another-secret-xx').toString('base64');
    const stale = Math.floor(Date.now() / 1000) - 600;
    for (const headers of [standardWebhookHeaders(other, body), { 'content-type': 'application/json' }, standardWebhookHeaders(secret, body, stale)]) {
      const res = await post(body, headers);
      expect(res.status).toBe(401);
      expect((await res.json()).error.http_code).toBe(401);
    }
    // A valid signature over a different body is refused too (the raw body is what is signed).
    const tampered = await post(hookBody(phone, '000000'), standardWebhookHeaders(secret, body));
    expect(tampered.status).toBe(401);
    expect(await fakeCalls(fakes.smsUrl, phone)).toHaveLength(0);
  });

  it('answers 400 for a payload without an OTP', async () => {
    const body = JSON.stringify({ user: { id: 'u', phone: testPhone() }, sms: {} });
    const res = await post(body, standardWebhookHeaders(secret, body));
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/otp/);
  });

  it('gives Auth a clear error when the provider fails, and succeeds on the retry', async () => {
    const phone = testPhone();
    await failCalls(fakes.smsUrl, { match: phone, status: 503, times: 1 });
    const body = hookBody(phone);
    const failed = await post(body, standardWebhookHeaders(secret, body));
    expect(failed.status).toBe(502);
    const error = (await failed.json()).error;
    expect(error.http_code).toBe(502);
    expect(error.message).toMatch(/could not be sent/);
    const retry = await post(body, standardWebhookHeaders(secret, body));
    expect(retry.status).toBe(200);
  });

  it('passes a number the provider refuses back as a 400', async () => {
    const phone = testPhone();
    await failCalls(fakes.smsUrl, { match: phone, status: 400, times: 1, body: { message: 'Invalid phone number' } });
    const body = hookBody(phone);
    const res = await post(body, standardWebhookHeaders(secret, body));
    expect(res.status).toBe(400);
  });
});

describe.runIf(stackEnv().embedded)('send-sms refuses before paying a provider', () => {
  const url = `${stackEnv().url}/functions/v1/send-sms`;
  const fakes = fakesEnv();
  const secret = fakes.secrets.SEND_SMS_HOOK_SECRET;
  const post = (body: string) => fetch(url, { method: 'POST', headers: standardWebhookHeaders(secret, body), body });

  it('refuses numbers outside SMS_ALLOWED_COUNTRY_CODES (default 234) as a hook error: SMS pumping costs nothing', async () => {
    // A UK premium-rate range, an international premium range, and a Ghanaian number.
    for (const phone of ['447700900123', '88213123456', '233201234567']) {
      const res = await post(hookBody(phone));
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error).toMatchObject({ http_code: 400 });
      expect(error.message).toMatch(/cannot be sent to this country/);
      expect(await fakeCalls(fakes.smsUrl, phone)).toHaveLength(0);
    }
  });

  it('texts sms.phone (a phone change sends the code to the new number), checked against the allow-list too', async () => {
    const oldPhone = testPhone();
    const newPhone = testPhone();
    const body = JSON.stringify({ user: { id: crypto.randomUUID(), phone: oldPhone }, sms: { otp: '112233', phone: newPhone } });
    expect((await post(body)).status).toBe(200);
    expect(await fakeCalls(fakes.smsUrl, newPhone)).toHaveLength(1);
    expect(await fakeCalls(fakes.smsUrl, oldPhone)).toHaveLength(0);
    const abroad = JSON.stringify({ user: { id: crypto.randomUUID(), phone: oldPhone }, sms: { otp: '112233', phone: '447700900124' } });
    expect((await post(abroad)).status).toBe(400);
  });

  it('refuses a suspended user and sends nothing', async () => {
    const user = await createUser();
    await serviceSql()`update public.profiles set status = 'suspended' where id = ${user.id}`;
    const body = JSON.stringify({ user: { id: user.id, phone: user.phone }, sms: { otp: '445566', phone: user.phone } });
    const res = await post(body);
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toBe('This account is suspended');
    expect(await fakeCalls(fakes.smsUrl, user.phone)).toHaveLength(0);
  });
});

// Twilio and Africa's Talking: the same function deployed with another SMS_PROVIDER.
describe.runIf(stackEnv().embedded)('send-sms with other providers', () => {
  const fakes = fakesEnv();
  const secret = fakes.secrets.SEND_SMS_HOOK_SECRET;
  const stacks: Array<{ gateway: Gateway; service: Service; url: string }> = [];

  async function deploy(provider: string) {
    // On the test run's database, as a deployed function always has SUPABASE_DB_URL (it looks up suspended users).
    const config = loadConfig({ apiPort: await freePort(), dbPort: Number(new URL(stackEnv().dbUrl).port), functionsEnv: { SMS_PROVIDER: provider, TWILIO_BASE_URL: fakes.smsUrl, AFRICASTALKING_BASE_URL: fakes.smsUrl } });
    const service = createFunctionsService({ config, log: () => {} });
    const gateway = createGateway(config, [service], async () => ({ ok: true }), () => {});
    await new Promise<void>((resolve) => gateway.server.listen(config.apiPort, config.host, resolve));
    const url = `${config.apiUrl}/functions/v1/send-sms`;
    stacks.push({ gateway, service, url });
    return url;
  }

  let twilioUrl: string;
  let atUrl: string;
  beforeAll(async () => {
    [twilioUrl, atUrl] = await Promise.all([deploy('twilio'), deploy('africastalking')]);
  });
  afterAll(async () => {
    for (const s of stacks) {
      await s.gateway.close();
      await s.service.close();
    }
  });

  it('sends with Twilio (Basic auth, E.164 with +)', async () => {
    const phone = testPhone();
    const body = hookBody(phone);
    const res = await fetch(twilioUrl, { method: 'POST', headers: standardWebhookHeaders(secret, body), body });
    expect(res.status).toBe(200);
    const [call] = await fakeCalls(fakes.smsUrl, phone);
    expect(call.path).toBe(`/2010-04-01/Accounts/${fakes.secrets.TWILIO_ACCOUNT_SID}/Messages.json`);
    const form = new URLSearchParams(call.body);
    expect(form.get('To')).toBe(`+${phone}`);
    expect(form.get('From')).toBe(fakes.secrets.TWILIO_FROM);
    expect(form.get('Body')).toContain('482913');
  });

  it("sends with Africa's Talking (apiKey header, per-recipient status)", async () => {
    const phone = testPhone();
    const body = hookBody(phone);
    const res = await fetch(atUrl, { method: 'POST', headers: standardWebhookHeaders(secret, body), body });
    expect(res.status).toBe(200);
    const [call] = await fakeCalls(fakes.smsUrl, phone);
    expect(call.path).toBe('/version1/messaging');
    expect(call.headers.apikey).toBe(fakes.secrets.AFRICASTALKING_API_KEY);
    const form = new URLSearchParams(call.body);
    expect(form.get('to')).toBe(`+${phone}`);
    expect(form.get('username')).toBe(fakes.secrets.AFRICASTALKING_USERNAME);
  });
});
