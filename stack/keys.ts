// The local project's JWT secret and API keys. They are the well-known values
// that `supabase start` uses, so local keys look exactly like local Supabase keys.
import { readFileSync } from 'node:fs';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';

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
  /** The private JWK user access tokens are signed with (the one whose key_ops has `sign`). */
  signingKey: JWK;
  /** `/auth/v1/.well-known/jwks.json`: the public halves of every asymmetric key. */
  jwks: { keys: JWK[] };
}

/**
 * The CLI's hard-coded local ES256 key (pkg/config/config.go, "use hardcoded
 * signing key"): `supabase start` signs user tokens with it when
 * `[auth] signing_keys_path` is unset. Dev-only, like the well-known secret above.
 */
export const LOCAL_SIGNING_KEY: JWK = {
  kty: 'EC',
  kid: 'b81269f1-21d8-4f2e-b719-c2240a840d90',
  use: 'sig',
  key_ops: ['sign', 'verify'],
  alg: 'ES256',
  ext: true,
  crv: 'P-256',
  x: 'M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4',
  y: 'P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ',
  d: 'dIhR8wywJlqlua4y_yMq2SLhlFXDZJBCvFrY1DCHyVU',
};

const ASYMMETRIC_ALGORITHMS = ['ES256', 'RS256'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

/** A signing-keys file is unusable; the message says which rule it breaks. */
export class SigningKeysError extends Error {}

/**
 * Reads the keys the CLI reads: a JSON array of private JWKs, as written by
 * `supabase gen signing-key`. As GoTrue, exactly one key may carry `sign` in
 * key_ops; the others only verify (rotation).
 */
export function parseSigningKeys(text: string): JWK[] {
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch (err) {
    throw new SigningKeysError(`not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(keys) || keys.length === 0) throw new SigningKeysError('expected a non-empty JSON array of JWKs (wrap the key `supabase gen signing-key` prints in [ ])');
  for (const key of keys as JWK[]) {
    if (typeof key !== 'object' || key === null || !ASYMMETRIC_ALGORITHMS.includes(String(key.alg)) || typeof key.kid !== 'string' || !key.kid) {
      throw new SigningKeysError('every key needs a kid and alg ES256 or RS256');
    }
    if (typeof key.d !== 'string') throw new SigningKeysError(`key ${key.kid} has no private part (d)`);
  }
  const signing = (keys as JWK[]).filter((k) => k.key_ops?.includes('sign'));
  if (signing.length === 0) throw new SigningKeysError('no signing key detected');
  if (signing.length > 1) throw new SigningKeysError('multiple signing keys detected, only 1 signing key is supported');
  return keys as JWK[];
}

/** A key as GoTrue publishes it: no private members, `use: sig`, `key_ops: [verify]`. */
function publicJwk(key: JWK): JWK {
  const pub: JWK = { ...key, use: 'sig', key_ops: ['verify'] };
  for (const member of PRIVATE_MEMBERS) delete (pub as Record<string, unknown>)[member];
  return pub;
}

function signingKeySet(keys: JWK[]) {
  return { signingKey: keys.find((k) => k.key_ops?.includes('sign'))!, jwks: { keys: keys.map(publicJwk) } };
}

export async function signJwt(claims: JWTPayload, secretBytes: Uint8Array): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secretBytes);
}

const privateKeys = new WeakMap<JWK, Promise<Awaited<ReturnType<typeof importJWK>>>>();

/** Signs user access tokens with the signing key, with its kid in the header as GoTrue does. */
export async function signAccessToken(claims: JWTPayload, keys: Keys): Promise<string> {
  const { alg, kid } = keys.signingKey;
  let key = privateKeys.get(keys.signingKey);
  if (!key) {
    // WebCrypto refuses `verify` in a private key's usages, which the CLI's JWKs list: import without them.
    const { key_ops: _ops, use: _use, ext: _ext, ...material } = keys.signingKey;
    key = importJWK(material, alg);
    privateKeys.set(keys.signingKey, key);
  }
  return new SignJWT(claims).setProtectedHeader({ alg: alg!, kid, typ: 'JWT' }).sign(await key);
}

/**
 * The project's keys. `signingKeys` is the content of `[auth] signing_keys_path`
 * (parsed), or undefined for the CLI's built-in local key.
 */
export function localKeys(jwtExpiry: number, signingKeys: JWK[] = [LOCAL_SIGNING_KEY]): Keys {
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
    ...signingKeySet(signingKeys),
  };
}

/** Reads `[auth] signing_keys_path` (already resolved against supabase/). */
export function readSigningKeys(file: string): JWK[] {
  return parseSigningKeys(readFileSync(file, 'utf8'));
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

const keyResolvers = new WeakMap<Keys, JWTVerifyGetKey>();

/**
 * The key for a token: the project secret for legacy HS256 tokens, else the
 * JWKS key of the token's kid (any key of its alg when it has none), as the
 * CLI's JWKS (signing keys plus the secret as an `oct` key) gives PostgREST.
 */
function keyResolver(keys: Keys): JWTVerifyGetKey {
  let resolver = keyResolvers.get(keys);
  if (!resolver) {
    const jwks = createLocalJWKSet(keys.jwks);
    resolver = (header, token) => (header.alg === 'HS256' ? keys.secretBytes : jwks(header, token));
    keyResolvers.set(keys, resolver);
  }
  return resolver;
}

/** Verifies a JWT (HS256 with the secret, or ES256/RS256 with a signing key); throws on bad signature or expiry. */
export async function verifyJwt(token: string, keys: Keys): Promise<VerifiedClaims> {
  const { payload } = await jwtVerify(token, keyResolver(keys), { algorithms: ['HS256', ...ASYMMETRIC_ALGORITHMS] });
  return payload as VerifiedClaims;
}
