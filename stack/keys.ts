// The local project's JWT secret and API keys. They are the well-known values
// that `supabase start` uses, so local keys look exactly like local Supabase keys.
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';

export const LOCAL_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
/** The `exp` of the local anon and service_role keys (as issued by the CLI). */
const LOCAL_KEY_EXPIRY = 1983812996;

export interface Keys {
  jwtSecret: string;
  secretBytes: Uint8Array;
  anonKey: string;
  serviceRoleKey: string;
  /** The opaque publishable key (`sb_publishable_…`): acts as `anon`. */
  publishableKey: string;
  /** The opaque secret key (`sb_secret_…`): acts as `service_role`. */
  secretKey: string;
  /** Lifetime of access tokens issued by Auth, in seconds (`[auth] jwt_expiry`). */
  jwtExpiry: number;
}

export async function signJwt(claims: JWTPayload, secretBytes: Uint8Array): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secretBytes);
}

export function localKeys(jwtExpiry: number): Keys {
  const secretBytes = new TextEncoder().encode(LOCAL_JWT_SECRET);
  // Signing is deterministic for HS256, so these equal the CLI's published keys.
  return {
    jwtSecret: LOCAL_JWT_SECRET,
    secretBytes,
    anonKey: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0',
    serviceRoleKey: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU',
    // The CLI's hard-coded local opaque keys (pkg/config/apikeys.go).
    publishableKey: 'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH',
    secretKey: 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz',
    jwtExpiry,
  };
}

/** The role an API key acts as: the legacy JWT keys and the opaque keys; null for anything else. */
export function apiKeyRole(keys: Keys, key: string): 'anon' | 'service_role' | null {
  if (key === keys.anonKey || key === keys.publishableKey) return 'anon';
  if (key === keys.serviceRoleKey || key === keys.secretKey) return 'service_role';
  return null;
}

/**
 * The JWT the gateway hands on for an API key, as Supabase's gateway does: an
 * opaque key becomes the JWT of its role (the services only understand JWTs),
 * a legacy key is one already.
 */
export function apiKeyJwt(keys: Keys, key: string): string | null {
  const role = apiKeyRole(keys, key);
  if (!role) return null;
  return role === 'anon' ? keys.anonKey : keys.serviceRoleKey;
}

export { LOCAL_KEY_EXPIRY };

export type VerifiedClaims = JWTPayload & { role?: string; [claim: string]: unknown };

/** Verifies an HS256 JWT with the project secret; throws on bad signature or expiry. */
export async function verifyJwt(token: string, keys: Keys): Promise<VerifiedClaims> {
  const { payload } = await jwtVerify(token, keys.secretBytes, { algorithms: ['HS256'] });
  return payload as VerifiedClaims;
}
