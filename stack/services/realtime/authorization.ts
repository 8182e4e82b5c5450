// Who may do what on a channel: the JWT (checked as Realtime checks it, with
// its messages) and, for private channels, RLS on realtime.messages evaluated
// as the user, exactly as Realtime probes it (rows inserted and rolled back).
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { verifyJwt, type Keys, type VerifiedClaims } from '../../keys.ts';

export type TokenCheck =
  | { ok: true; claims: VerifiedClaims & { role: string; exp: number } }
  /** `code` prefixes the message in join errors, as Realtime's log_error does. */
  | { ok: false; code: string; message: string };

export async function checkToken(token: string, keys: Keys): Promise<TokenCheck> {
  let claims: VerifiedClaims;
  try {
    claims = await verifyJwt(token, keys);
  } catch (err) {
    const e = err as { code?: string; payload?: { exp?: number } };
    if (e.code === 'ERR_JWT_EXPIRED') {
      const ago = Math.floor(Date.now() / 1000) - Number(e.payload?.exp ?? 0);
      return { ok: false, code: 'InvalidJWTToken', message: `Token has expired ${ago} seconds ago` };
    }
    // A kid the JWKS does not hold is a signature nobody can validate.
    if (e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || e.code === 'ERR_JWKS_NO_MATCHING_KEY') return { ok: false, code: 'JwtSignatureError', message: 'Failed to validate JWT signature' };
    return { ok: false, code: 'MalformedJWT', message: 'The token provided is not a valid JWT' };
  }
  if (typeof claims.role !== 'string' || typeof claims.exp !== 'number') {
    return { ok: false, code: 'InvalidJWTToken', message: 'Fields `role` and `exp` are required in JWT' };
  }
  return { ok: true, claims: claims as VerifiedClaims & { role: string; exp: number } };
}

export interface Policies {
  broadcast: { read: boolean; write: boolean };
  presence: { read: boolean; write: boolean };
}

/** Thrown to end the probe transaction with a rollback while keeping its result. */
class Rollback {
  constructor(readonly policies: Policies) {}
}

const EXTENSIONS = ['broadcast', 'presence'] as const;

/** Runs the read (select) and write (insert) RLS checks for a private topic. */
export async function topicPolicies(sql: postgres.Sql, topic: string, claims: VerifiedClaims & { role: string }): Promise<Policies> {
  const policies: Policies = { broadcast: { read: false, write: false }, presence: { read: false, write: false } };
  try {
    await sql.begin(async (tx) => {
      const probes = EXTENSIONS.map((extension) => ({ id: randomUUID(), extension }));
      for (const p of probes) await tx`insert into realtime.messages (id, topic, extension, private) values (${p.id}, ${topic}, ${p.extension}, true)`;
      await tx`select set_config('role', ${claims.role}, true),
                      set_config('realtime.topic', ${topic}, true),
                      set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                      set_config('request.jwt.claim.sub', ${String(claims.sub ?? '')}, true),
                      set_config('request.jwt.claim.role', ${claims.role}, true),
                      set_config('request.headers', '{}', true)`;
      // A policy that raises denies, as on Realtime (RlsPolicyError → unauthorized).
      const seen = await tx.savepoint((sp) => sp`select id, extension from realtime.messages where id in ${sp(probes.map((p) => p.id))}`).catch(() => []);
      for (const row of seen) policies[row.extension as (typeof EXTENSIONS)[number]].read = true;
      for (const extension of EXTENSIONS) {
        policies[extension].write = await tx
          .savepoint((sp) => sp`insert into realtime.messages (topic, extension, private) values (${topic}, ${extension}, true)`)
          .then(() => true, () => false);
      }
      throw new Rollback(policies);
    });
  } catch (err) {
    if (err instanceof Rollback) return err.policies;
    throw err;
  }
  return policies;
}
