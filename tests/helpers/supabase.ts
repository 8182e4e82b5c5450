// supabase-js clients and user access tokens for tests: the doors the apps use.
import { createClient, type SupabaseClient, type SupabaseClientOptions } from '@supabase/supabase-js';
import ws from 'ws';
import { localKeys, signAccessToken, signJwt } from '../../stack/keys.ts';
import { stackEnv } from './env.ts';

export interface TestClientOptions extends SupabaseClientOptions<string> {
  /** Another API URL than the test run's stack (e.g. a private Auth instance). */
  url?: string;
  /** The API key; the anon key unless given. */
  key?: string;
}

/**
 * supabase-js as an app builds it, without stored sessions. Node 22+ has a global
 * WebSocket, which supabase-js uses by itself; Node 20 has none, so Realtime gets `ws`.
 */
export const nodeNeedsWsTransport = typeof globalThis.WebSocket === 'undefined';

export function testClient(options: TestClientOptions = {}): SupabaseClient<any, any, any> {
  const env = stackEnv();
  const { url, key, auth, realtime, ...rest } = options;
  return createClient(url ?? env.url, key ?? env.anonKey, {
    ...rest,
    auth: { persistSession: false, autoRefreshToken: false, ...auth },
    realtime: { ...(nodeNeedsWsTransport ? { transport: ws as never } : {}), ...realtime },
  });
}

/** An access token for a user with the claims Auth issues, signed with the project's secret. */
export function userAccessToken(sub: string, claims: Record<string, unknown> = {}, expiresInSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + expiresInSeconds, ...claims }, new TextEncoder().encode(stackEnv().jwtSecret));
}

/** An access token as Auth issues them now: ES256 with the stack's signing key (the CLI's local key). */
export function signedUserToken(sub: string, claims: Record<string, unknown> = {}, expiresInSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signAccessToken({ sub, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + expiresInSeconds, ...claims }, localKeys(3600));
}
