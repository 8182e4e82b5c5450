// Who is calling: the user of the JWT in the Authorization header. The platform
// has already verified the signature (verify_jwt = true in config.toml for the
// functions that use this), so the claims are read, not re-verified; a function
// serving users must never be deployed with verify_jwt off.
import { decodeJwt } from 'jose';
import { HttpError } from './http.ts';

export interface Caller {
  userId: string;
  phone: string | null;
  email: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function callerOf(req: Request): Caller {
  const token = /^bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  if (!token) throw new HttpError(401, 'not_authenticated', 'Sign in to continue');
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new HttpError(401, 'not_authenticated', 'Sign in to continue');
  }
  // The anon and service_role keys are valid JWTs too, but carry no user.
  if (claims.role !== 'authenticated' || typeof claims.sub !== 'string' || !UUID.test(claims.sub)) {
    throw new HttpError(401, 'not_authenticated', 'Sign in to continue');
  }
  return {
    userId: claims.sub,
    phone: typeof claims.phone === 'string' && claims.phone ? claims.phone : null,
    email: typeof claims.email === 'string' && claims.email ? claims.email : null,
  };
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
 * cron job or a database trigger calling through pg_net). The signature was
 * verified by the platform (verify_jwt), as for user tokens.
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
