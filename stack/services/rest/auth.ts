// The caller's identity from `Authorization: Bearer <jwt>`, with PostgREST's 401
// answers (PGRST301 bad token, PGRST303 bad claims) and its JWT cache.
import type { IncomingMessage } from 'node:http';
import { errors as joseErrors } from 'jose';
import { bearerToken } from '../../http.ts';
import { verifyJwt, type Keys, type VerifiedClaims } from '../../keys.ts';
import { ApiError } from './errors.ts';

/** A bounded map that forgets its oldest entry first. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

// Verified tokens, as PostgREST's JWT cache: signature checks are skipped for a token seen before (expiry is still checked).
const jwtCache = new Map<string, VerifiedClaims>();

export async function authenticate(req: IncomingMessage, keysCtx: Keys): Promise<VerifiedClaims> {
  const header = req.headers.authorization;
  const token = bearerToken(req);
  if (header !== undefined && token === null && /^bearer\s*$/i.test(header.trim())) {
    throw new ApiError(401, 'PGRST301', 'Empty JWT is sent in Authorization header', null, null, { 'www-authenticate': 'Bearer error="invalid_token", error_description="Empty JWT is sent in Authorization header"' });
  }
  if (token === null) return {};
  const invalid = (message: string, code = 'PGRST301') =>
    new ApiError(401, code, message, null, null, { 'www-authenticate': `Bearer error="invalid_token", error_description="${message}"` });
  const parts = token.split('.').length;
  if (parts !== 3) throw invalid(`Expected 3 parts in JWT; got ${parts}`);
  const cached = jwtCache.get(token);
  if (cached && (typeof cached.exp !== 'number' || cached.exp * 1000 > Date.now())) return cached;
  try {
    const claims = await verifyJwt(token, keysCtx);
    remember(jwtCache, token, claims, 1000);
    return claims;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalid('JWT expired', 'PGRST303');
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      throw invalid(err.claim === 'nbf' ? 'JWT not yet valid' : err.claim === 'iat' ? 'JWT issued at future' : 'Parsing claims failed', 'PGRST303');
    }
    if (err instanceof joseErrors.JOSEAlgNotAllowed) throw invalid('Wrong or unsupported encoding algorithm');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw invalid('JWT cryptographic operation failed');
    throw invalid("JWT couldn't be decoded");
  }
}
