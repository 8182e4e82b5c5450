// Phone changes through supabase-js (issue 13, finding 1). With
// `[auth.sms] enable_confirmations = true` (config.toml) a new number is kept
// pending and texted a code; only `verifyOtp({type: 'phone_change'})` moves
// the account (and the profile) to it. A signed-in attacker can no longer
// park their account on someone else's number before its owner signs up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceSql, testPhone } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { startPrivateAuth, type PrivateAuth } from './private-auth.ts';
import { signInNewPhone } from './sign-in.ts';
import { startSmsHookServer, type SmsHookServer } from './sms-hook-server.ts';

describe.runIf(stackEnv().embedded)('phone change', () => {
  let auth: PrivateAuth;
  let autoconfirm: PrivateAuth;
  let hook: SmsHookServer;

  beforeAll(async () => {
    hook = await startSmsHookServer();
    const withHook = (a: Record<string, any>) => {
      a.hook = { send_sms: { enabled: true, uri: hook.url, secrets: hook.secret } };
    };
    // config.toml as committed: confirmations on.
    auth = await startPrivateAuth(withHook);
    autoconfirm = await startPrivateAuth((a) => {
      withHook(a);
      a.sms.enable_confirmations = false;
    });
  });
  afterAll(async () => {
    await auth?.close();
    await autoconfirm?.close();
    await hook?.close();
  });

  async function signedIn(instance: PrivateAuth) {
    const supabase = instance.client();
    const session = await signInNewPhone(supabase, hook);
    await supabase.auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
    return { supabase, session };
  }

  const account = async (id: string) => (await serviceSql()`
    select u.phone, u.phone_change, u.phone_change_token, u.phone_change_sent_at, p.phone as profile_phone
      from auth.users u join public.profiles p on p.id = u.id where u.id = ${id}`)[0];

  it('keeps a new number pending until the code sent to it is verified; the owner who signs up later gets their own account', async () => {
    const { supabase: attacker, session } = await signedIn(auth);
    const victimPhone = testPhone();
    const { data, error } = await attacker.auth.updateUser({ phone: `+${victimPhone}` });
    expect(error).toBeNull();
    expect(data.user!.phone).toBe(session.user.phone);
    expect(data.user!.new_phone).toBe(victimPhone);
    // The code went to the new number, not to the attacker.
    expect(hook.received.filter((r) => r.phone === victimPhone)).toHaveLength(1);
    const pending = await account(session.user.id);
    expect(pending).toMatchObject({ phone: session.user.phone, phone_change: victimPhone, profile_phone: `+${session.user.phone}` });
    expect(pending.phone_change_token).toMatch(/^[0-9a-f]{56}$/);
    expect(pending.phone_change_sent_at).toBeInstanceOf(Date);

    // A guess does not complete it.
    const guess = await attacker.auth.verifyOtp({ phone: victimPhone, token: '000000', type: 'phone_change' });
    expect(guess.error).toMatchObject({ status: 403, code: 'otp_expired' });

    // The owner signs up with their number and lands in a new account of their own.
    hook.received.length = 0;
    const owner = await signInNewPhone(auth.client(), hook, victimPhone);
    expect(owner.user.id).not.toBe(session.user.id);
    expect((await account(owner.user.id)).profile_phone).toBe(`+${victimPhone}`);
    expect((await account(session.user.id)).phone).toBe(session.user.phone);
    // Even with a code for that number, the pending change cannot take it now.
    await serviceSql()`update auth.users set phone_change_token = ${(await serviceSql()`select encode(sha224(convert_to(${victimPhone + '123456'}, 'UTF8')), 'hex') as h`)[0].h} where id = ${session.user.id}`;
    const late = await attacker.auth.verifyOtp({ phone: victimPhone, token: '123456', type: 'phone_change' });
    expect(late.error).toMatchObject({ status: 422, code: 'phone_exists' });
    expect((await account(session.user.id)).phone).toBe(session.user.phone);
  });

  it('moves the account, its phone identity and the profile once verifyOtp({type: "phone_change"}) succeeds', async () => {
    const { supabase, session } = await signedIn(auth);
    const fresh = testPhone();
    expect((await supabase.auth.updateUser({ phone: `+${fresh}` })).error).toBeNull();
    const { data, error } = await supabase.auth.verifyOtp({ phone: `+${fresh}`, token: hook.lastOtp(fresh), type: 'phone_change' });
    expect(error).toBeNull();
    expect(data.session!.user.id).toBe(session.user.id);
    expect(data.user!.phone).toBe(fresh);
    expect(data.user!.new_phone).toBeUndefined();
    expect(data.user!.identities!.find((i) => i.provider === 'phone')!.identity_data).toMatchObject({ phone: fresh, phone_verified: true });
    expect(await account(session.user.id)).toMatchObject({ phone: fresh, phone_change: '', phone_change_token: '', profile_phone: `+${fresh}` });
    // The code is used up.
    const again = await supabase.auth.verifyOtp({ phone: fresh, token: hook.lastOtp(fresh), type: 'phone_change' });
    expect(again.error).toMatchObject({ status: 403, code: 'otp_expired' });
    // The old number is free again; the new one signs in to the same account.
    await serviceSql()`update auth.users set confirmation_sent_at = now() - interval '1 minute' where id = ${session.user.id}`;
    expect((await signInNewPhone(auth.client(), hook, fresh)).user.id).toBe(session.user.id);
  });

  it('voids a phone-change code after five wrong guesses, without touching the sign-in code', async () => {
    const { supabase, session } = await signedIn(auth);
    const fresh = testPhone();
    expect((await supabase.auth.updateUser({ phone: fresh })).error).toBeNull();
    const code = hook.lastOtp(fresh);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      expect((await supabase.auth.verifyOtp({ phone: fresh, token: wrong, type: 'phone_change' })).error).toMatchObject({ code: 'otp_expired' });
    }
    expect((await supabase.auth.verifyOtp({ phone: fresh, token: code, type: 'phone_change' })).error).toMatchObject({ status: 403, code: 'otp_expired' });
    expect((await account(session.user.id)).phone).toBe(session.user.phone);
    // The user's own number still signs in (a fresh code, after max_frequency).
    await serviceSql()`update auth.users set confirmation_sent_at = now() - interval '1 minute' where id = ${session.user.id}`;
    expect((await signInNewPhone(auth.client(), hook, session.user.phone!)).user.id).toBe(session.user.id);
  });

  it('refuses a number that belongs to someone else, and resends only after max_frequency', async () => {
    const { supabase, session } = await signedIn(auth);
    const other = await signInNewPhone(auth.client(), hook);
    const taken = await supabase.auth.updateUser({ phone: other.user.phone });
    expect(taken.error).toMatchObject({ status: 422, code: 'phone_exists' });
    const fresh = testPhone();
    expect((await supabase.auth.updateUser({ phone: fresh })).error).toBeNull();
    const soon = await supabase.auth.updateUser({ phone: fresh });
    expect(soon.error).toMatchObject({ status: 429, code: 'over_sms_send_rate_limit' });
    expect((await account(session.user.id)).phone).toBe(session.user.phone);
  });

  it('with enable_confirmations = false the number changes at once, as GoTrue autoconfirms', async () => {
    const { supabase } = await signedIn(autoconfirm);
    const other = await signInNewPhone(autoconfirm.client(), hook);
    const taken = await supabase.auth.updateUser({ phone: other.user.phone });
    expect(taken.error).toMatchObject({ status: 422, code: 'phone_exists' });
    const fresh = testPhone();
    const { data, error } = await supabase.auth.updateUser({ phone: `+${fresh}` });
    expect(error).toBeNull();
    expect(data.user!.phone).toBe(fresh);
    expect(data.user!.identities!.find((i) => i.provider === 'phone')!.identity_data).toMatchObject({ phone: fresh, phone_verified: true });
  });
});
