// Signs a fresh phone number in through supabase-js, reading the code the
// private Auth instance handed to the test Send SMS hook.
import type { Session, SupabaseClient } from '@supabase/supabase-js';
import { testPhone } from '../helpers/db.ts';
import type { SmsHookServer } from './sms-hook-server.ts';

export async function signInNewPhone(supabase: SupabaseClient, hook: SmsHookServer, phone = testPhone()): Promise<Session> {
  const sent = await supabase.auth.signInWithOtp({ phone });
  if (sent.error) throw sent.error;
  const { data, error } = await supabase.auth.verifyOtp({ phone, token: hook.lastOtp(phone), type: 'sms' });
  if (error) throw error;
  return data.session!;
}
