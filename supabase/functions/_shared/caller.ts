// Who is calling: the user of the JWT in the Authorization header, verified
// here rather than by the platform (verify_jwt = false for `payments`, as
// Supabase recommends with asymmetric signing keys). Tokens signed with a
// signing key are checked against the project's JWKS; legacy HS256 tokens
// cannot be checked without the secret, so Auth itself is asked (GET
// /auth/v1/user, what supabase-js `auth.getClaims()` falls back to).
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { HttpError } from './http.ts';

export interface Caller {
  userId: string;
  phone: string | null;
  email: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notAuthenticated = () => new HttpError(401, 'not_authenticated', 'Sign in to continue');

function supabaseUrl(): string {
  const url = Deno.env.get('SUPABASE_URL');
  if (!url) throw new Error('SUPABASE_URL is not set');
  return url.replace(/\/+$/, '');
}

// Fetched once and cached by jose; refetched when a token names an unknown kid (key rotation).
let jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
function projectJwks() {
  jwks ??= createRemoteJWKSet(new URL(`${supabaseUrl()}/auth/v1/.well-known/jwks.json`));
  return jwks;
}

/** The claims of a token signed with one of the project's signing keys; throws when it is not. */
async function verifiedClaims(token: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, projectJwks(), { algorithms: ['ES256', 'RS256'] });
  return payload;
}

/** A legacy HS256 token, checked by Auth: its user, or null when Auth refuses the token. */
async function userFromAuth(token: string): Promise<Record<string, unknown> | null> {
  const apikey = Deno.env.get('SUPABASE_ANON_KEY') ?? '';
  let res: Response;
  try {
    res = await fetch(`${supabaseUrl()}/auth/v1/user`, { headers: { authorization: `Bearer ${token}`, apikey }, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new HttpError(503, 'auth_unavailable', 'Sign-in could not be checked; try again in a moment');
  }
  if (res.status >= 500) throw new HttpError(503, 'auth_unavailable', 'Sign-in could not be checked; try again in a moment');
  if (!res.ok) {
    await res.body?.cancel();
    return null;
  }
  return await res.json();
}

const text = (v: unknown) => (typeof v === 'string' && v ? v : null);

export async function callerOf(req: Request): Promise<Caller> {
  const token = /^bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  if (!token) throw notAuthenticated();
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw notAuthenticated();
  }
  if (alg === 'HS256') {
    // The anon and service_role keys are HS256 JWTs too, but carry no user: Auth refuses them.
    const user = await userFromAuth(token);
    if (!user || user.role !== 'authenticated' || typeof user.id !== 'string' || !UUID.test(user.id)) throw notAuthenticated();
    return { userId: user.id, phone: text(user.phone), email: text(user.email) };
  }
  let claims: JWTPayload;
  try {
    claims = await verifiedClaims(token);
  } catch {
    throw notAuthenticated();
  }
  if (claims.role !== 'authenticated' || typeof claims.sub !== 'string' || !UUID.test(claims.sub)) throw notAuthenticated();
  return { userId: claims.sub, phone: text(claims.phone), email: text(claims.email) };
}

/**
 * For functions only the platform calls (cron jobs and database triggers
 * through pg_net, with the service_role key): the verified JWT must carry the
 * service_role role.
 */
export function requireServiceRole(req: Request): void {
  if (!isServiceRole(req)) throw new HttpError(403, 'forbidden', 'Only the platform (service_role) may call this function');
}

/**
 * True when the request carries the service_role key (the platform itself: a
 * cron job or a database trigger calling through pg_net). The functions that
 * ask this keep verify_jwt = true, so the platform verified the signature.
 */
export function isServiceRole(req: Request): boolean {
  const token = /^bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  if (!token) return false;
  try {
    return decodeJwt(token).role === 'service_role';
  } catch {
    return false;
  }
}
