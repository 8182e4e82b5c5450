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
    jwtExpiry,
  };
}

export { LOCAL_KEY_EXPIRY };

export type VerifiedClaims = JWTPayload & { role?: string; [claim: string]: unknown };

/** Verifies an HS256 JWT with the project secret; throws on bad signature or expiry. */
export async function verifyJwt(token: string, keys: Keys): Promise<VerifiedClaims> {
  const { payload } = await jwtVerify(token, keys.secretBytes, { algorithms: ['HS256'] });
  return payload as VerifiedClaims;
}
