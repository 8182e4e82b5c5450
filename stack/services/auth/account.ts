// The signed-in user's own endpoints: GET/PUT /user and POST /logout, behind
// GoTrue's requireAuthentication (valid JWT, existing user and session, not banned).
import type { IncomingMessage } from 'node:http';
import type postgres from 'postgres';
import { verifyJwt, type Keys, type VerifiedClaims } from '../../keys.ts';
import { bearerToken } from '../../http.ts';
import { AuthError, badRequest, forbidden, unprocessable } from './errors.ts';
import { sendPhoneConfirmation, type OtpContext } from './otp.ts';
import {
  emailTaken, findUserById, isBanned, mergeMetadata, normalizeEmail, normalizePhone, phoneTaken, syncProviders, upsertIdentity, userJson, type UserRow,
} from './users.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function parseBearer(req: IncomingMessage, keys: Keys): Promise<VerifiedClaims> {
  const token = bearerToken(req);
  if (!token) throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
  try {
    return await verifyJwt(token, keys);
  } catch (err) {
    throw forbidden('bad_jwt', `invalid JWT: unable to parse or verify signature, ${(err as Error).message}`);
  }
}

export interface Authenticated {
  claims: VerifiedClaims;
  user: UserRow;
  sessionId: string | null;
}

export async function requireAuthentication(sql: postgres.Sql, req: IncomingMessage, keys: Keys): Promise<Authenticated> {
  const claims = await parseBearer(req, keys);
  if (!claims.sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
  if (!UUID.test(claims.sub)) throw badRequest('bad_jwt', 'invalid claim: sub claim must be a UUID');
  const user = await findUserById(sql, claims.sub);
  if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
  let sessionId: string | null = null;
  if (typeof claims.session_id === 'string' && claims.session_id) {
    if (!UUID.test(claims.session_id)) throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
    const rows = await sql`select 1 from auth.sessions where id = ${claims.session_id}`;
    if (rows.length === 0) throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
    sessionId = claims.session_id;
  }
  if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
  return { claims, user, sessionId };
}

export async function getUser(sql: postgres.Sql, auth: Authenticated) {
  return userJson(sql, auth.user);
}

/**
 * PUT /user: `data` merges into user_metadata; email waits for confirmation; a new phone is
 * confirmed by the OTP sent to it (`verifyOtp({type: 'phone_change'})`) unless phone autoconfirm is on.
 */
export async function updateUser(ctx: OtpContext, req: IncomingMessage, auth: Authenticated, body: Record<string, unknown>) {
  const { sql, log } = ctx;
  if (body.password !== undefined) throw unprocessable('validation_failed', 'Password sign-in is not supported by the local stack');
  if (body.app_metadata !== undefined) throw forbidden('not_admin', 'Updating app_metadata requires admin privileges');
  if (body.data !== undefined && (typeof body.data !== 'object' || body.data === null || Array.isArray(body.data))) {
    throw badRequest('validation_failed', 'data must be a JSON object');
  }
  const email = body.email ? normalizeEmail(body.email) : null;
  const phone = body.phone ? normalizePhone(body.phone) : null;
  return sql.begin(async (tx) => {
    let user = (await findUserById(tx, auth.user.id, true))!;
    if (body.data) {
      const merged = mergeMetadata(user.raw_user_meta_data, body.data as Record<string, unknown>);
      [user] = await tx<UserRow[]>`update auth.users set raw_user_meta_data = ${tx.json(merged as postgres.JSONValue)}, updated_at = now() where id = ${user.id} returning *`;
    }
    if (email && email !== user.email) {
      if (await emailTaken(tx, email, user.id)) throw unprocessable('email_exists', 'A user with this email address has already been registered');
      // GoTrue mails a confirmation link; the local stack has no mailer, so the change stays pending (`new_email`).
      [user] = await tx<UserRow[]>`update auth.users set email_change = ${email}, email_change_sent_at = now(), updated_at = now() where id = ${user.id} returning *`;
      log(`auth: email change for ${user.id} to ${email} is pending confirmation (the local stack sends no email)`);
    }
    if (phone && phone !== user.phone) {
      if (await phoneTaken(tx, phone, user.id)) throw unprocessable('phone_exists', 'A user with this phone number has already been registered');
      if (ctx.settings.phoneAutoconfirm) {
        [user] = await tx<UserRow[]>`update auth.users set phone = ${phone}, phone_confirmed_at = now(), phone_change = '', updated_at = now() where id = ${user.id} returning *`;
        await upsertIdentity(tx, user, 'phone', { phone, phone_verified: true });
        await syncProviders(tx, user.id);
      } else {
        // The number is only the user's once they prove they hold it.
        await sendPhoneConfirmation(ctx, req, tx, user, phone, 'phone_change');
      }
      user = (await findUserById(tx, user.id))!;
    }
    return userJson(tx, user);
  });
}

export async function logout(sql: postgres.Sql, auth: Authenticated, scope: string | null): Promise<void> {
  const mode = scope ?? 'global';
  if (!['', 'global', 'local', 'others'].includes(mode)) throw badRequest('validation_failed', `Unsupported logout scope "${mode}"`);
  if (auth.sessionId && mode === 'local') {
    await sql`delete from auth.sessions where id = ${auth.sessionId}`;
  } else if (auth.sessionId && mode === 'others') {
    await sql`delete from auth.sessions where user_id = ${auth.user.id} and id <> ${auth.sessionId}`;
  } else {
    await sql`delete from auth.sessions where user_id = ${auth.user.id}`;
  }
}
