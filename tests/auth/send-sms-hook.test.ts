// The production path of a sign-in code: Auth calls the send-sms edge function
// (real Deno, Standard Webhooks signature), which texts the code through the
// SMS provider (the test run's fake Termii); the user types it into verifyOtp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPhone } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { fakesEnv } from '../fakes/env.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';

describe.runIf(stackEnv().embedded)('Send SMS hook → send-sms function → SMS provider', () => {
  let auth: PrivateAuth;
  const fakes = fakesEnv();

  beforeAll(async () => {
    auth = await startPrivateAuth((a) => {
      a.hook = { send_sms: { enabled: true, uri: `${stackEnv().url}/functions/v1/send-sms`, secrets: fakes.secrets.SEND_SMS_HOOK_SECRET } };
    });
  });
  afterAll(async () => {
    await auth?.close();
  });

  it('signs in with the code the provider was asked to text', async () => {
    const phone = testPhone();
    const supabase = auth.client();
    const sent = await supabase.auth.signInWithOtp({ phone: `+${phone}` });
    expect(sent.error).toBeNull();
    const calls = await (await fetch(`${fakes.smsUrl}/__fake/calls?match=${phone}`)).json() as Array<{ body: string }>;
    expect(calls).toHaveLength(1);
    const code = /\b(\d{6})\b/.exec(JSON.parse(calls[0].body).sms)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    const { data, error } = await supabase.auth.verifyOtp({ phone, token: code!, type: 'sms' });
    expect(error).toBeNull();
    expect(data.user!.phone).toBe(phone);
  });

  it('reports a provider failure as sms_send_failed with the function\'s message', async () => {
    const phone = testPhone();
    await fetch(`${fakes.smsUrl}/__fake/fail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: phone, status: 400, times: 1 }) });
    const { error } = await auth.client().auth.signInWithOtp({ phone });
    expect(error).toMatchObject({ status: 422, code: 'sms_send_failed' });
    expect(error!.message).toContain('could not be sent');
  });
});
