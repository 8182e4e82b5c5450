// Auth throughput at 16 concurrent clients through supabase-js: verify-OTP
// sign-ins (test OTP numbers, so no SMS) and refresh-token rotations, each as a
// ratio of a gateway round trip without database work (GET /auth/v1/settings).
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import { authSettings } from '../../stack/services/auth/settings.ts';
import { printComparison, runConcurrent, type BenchContext } from './harness.ts';

const CLIENTS = 16;
const OPS = 800;
const MAX_SECONDS = 20;

export default async function authBench(ctx: BenchContext): Promise<void> {
  const { apiUrl, keys } = ctx.config;
  const numbers = [...authSettings(ctx.config).testOtp.entries()];
  if (numbers.length === 0) throw new Error('the auth benchmark needs [auth.sms.test_otp] numbers in supabase/config.toml');
  const options = { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: ws as never } };
  const clients: SupabaseClient[] = Array.from({ length: CLIENTS }, () => createClient(apiUrl, keys.anonKey, options));
  const check = <T extends { error: unknown }>(result: T): T => {
    if (result.error) throw result.error;
    return result;
  };

  // One OTP per test number creates its user; verify can then be repeated with the fixed code.
  for (const [phone] of numbers) check(await clients[0].auth.signInWithOtp({ phone }));

  const baseline = await runConcurrent('GET /auth/v1/settings (no database)', { clients: CLIENTS, totalOps: OPS, maxSeconds: MAX_SECONDS }, async () => {
    const res = await fetch(`${apiUrl}/auth/v1/settings`, { headers: { apikey: keys.anonKey } });
    if (!res.ok) throw new Error(`settings answered ${res.status}`);
    await res.arrayBuffer();
  });

  const refreshTokens: string[] = [];
  const signIns = await runConcurrent('verifyOtp sign-in (test OTP)', { clients: CLIENTS, totalOps: OPS, maxSeconds: MAX_SECONDS }, async (client, i) => {
    const [phone, token] = numbers[i % numbers.length];
    const { data } = check(await clients[client].auth.verifyOtp({ phone, token, type: 'sms' }));
    refreshTokens[client] = data.session!.refresh_token;
  });

  const refreshes = await runConcurrent('refreshSession (rotation)', { clients: CLIENTS, totalOps: OPS, maxSeconds: MAX_SECONDS }, async (client) => {
    const { data } = check(await clients[client].auth.refreshSession({ refresh_token: refreshTokens[client] }));
    refreshTokens[client] = data.session!.refresh_token;
  });

  printComparison(`Auth at ${CLIENTS} clients`, baseline, [signIns, refreshes], ctx.log);
}
