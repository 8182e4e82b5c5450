// Phone sign-in end to end with the real hook: Auth (configured as in
// production, [auth.hook.send_sms] pointing at the function) calls send-sms,
// which texts the code through the (fake) SMS provider; the code signs the user in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateAuth, type PrivateAuth } from '../auth/private-auth.ts';
import { fakesEnv } from '../fakes/env.ts';
import { fakeCalls } from '../fakes/recorder.ts';
import { serviceSql, testPhone } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';

describe.runIf(stackEnv().embedded)('Auth Send SMS hook through the send-sms function', () => {
  const fakes = fakesEnv();
  let auth: PrivateAuth;
  beforeAll(async () => {
    auth = await startPrivateAuth((a) => {
      a.hook = { send_sms: { enabled: true, uri: `${stackEnv().url}/functions/v1/send-sms`, secrets: fakes.secrets.SEND_SMS_HOOK_SECRET } };
    });
  });
  afterAll(async () => {
    await auth?.close();
  });

  it('texts the OTP with the provider, and the code signs the user in', async () => {
    const phone = testPhone();
    const client = auth.client();
    const { error } = await client.auth.signInWithOtp({ phone: `+${phone}` });
    expect(error).toBeNull();
    const [call] = await fakeCalls(fakes.smsUrl, phone);
    expect(call.path).toBe('/api/sms/send');
    const code = /(\d{6})/.exec(JSON.parse(call.body).sms)?.[1];
    expect(code).toBeDefined();
    const { data, error: verifyError } = await client.auth.verifyOtp({ phone: `+${phone}`, token: code!, type: 'sms' });
    expect(verifyError).toBeNull();
    expect(data.user?.phone).toBe(phone);
  });

  it('gives the caller an error when the provider cannot send', async () => {
    const phone = testPhone();
    const { failCalls } = await import('../fakes/recorder.ts');
    await failCalls(fakes.smsUrl, { match: phone, status: 503, times: 5 });
    const { error } = await auth.client().auth.signInWithOtp({ phone: `+${phone}` });
    expect(error).not.toBeNull();
    expect(error!.status).toBeGreaterThanOrEqual(400);
    // Auth passes the hook's message on, so the app can show why.
    expect(error!.message).toContain('The SMS could not be sent');
  });

  it('refuses a sign-in to a number outside the allow-list with the hook\'s message, and no provider is called', async () => {
    const phone = '447700900125';
    const { error } = await auth.client().auth.signInWithOtp({ phone: `+${phone}` });
    expect(error).toMatchObject({ status: 422, code: 'sms_send_failed' });
    expect(error!.message).toContain('cannot be sent to this country');
    expect(await fakeCalls(fakes.smsUrl, phone)).toHaveLength(0);
  });

  it('refuses a new code for a suspended user without sending an SMS', async () => {
    const phone = testPhone();
    const client = auth.client();
    expect((await client.auth.signInWithOtp({ phone: `+${phone}` })).error).toBeNull();
    const sql = serviceSql();
    const [{ id }] = await sql`select id from auth.users where phone = ${phone}`;
    await sql`update public.profiles set status = 'suspended' where id = ${id}`;
    await sql`update auth.users set confirmation_sent_at = now() - interval '1 minute' where id = ${id}`;
    const { error } = await client.auth.signInWithOtp({ phone: `+${phone}` });
    expect(error).toMatchObject({ status: 422, code: 'sms_send_failed' });
    expect(error!.message).toContain('This account is suspended');
    expect(await fakeCalls(fakes.smsUrl, phone)).toHaveLength(1);
  });
});
