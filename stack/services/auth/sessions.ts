// Sessions, refresh tokens and access tokens, kept in `auth.sessions` and
// `auth.refresh_tokens` exactly as GoTrue keeps them.
import { randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type postgres from 'postgres';
import { signAccessToken, type Keys } from '../../keys.ts';
import { badRequest } from './errors.ts';
import type { AuthSettings } from './settings.ts';
import { isBanned, userJson, type Sql, type UserRow } from './users.ts';

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  not_after: Date | null;
}

interface RefreshTokenRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  updated_at: Date;
  parent: string | null;
  session_id: string | null;
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** GoTrue's legacy refresh token: 12 random lowercase letters and digits. */
function newRefreshToken(): string {
  let token = '';
  for (let i = 0; i < 12; i++) token += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return token;
}

/** The caller's address for `auth.sessions.ip` (inet): the first X-Forwarded-For entry if it is an IP. */
export function clientIp(req: IncomingMessage): string | null {
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  if (first && isIP(first)) return first;
  return req.socket.remoteAddress || null;
}

function userAgent(req: IncomingMessage): string | null {
  return req.headers['user-agent'] || null;
}

export interface TokenContext {
  settings: AuthSettings;
  keys: Keys;
}

/** The access token's claims, as GoTrue's AccessTokenClaims. */
async function accessToken(ctx: TokenContext, user: UserRow, session: SessionRow): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(Date.now() / 1000);
  const expiresAt = iat + ctx.settings.jwtExpiry;
  const token = await signAccessToken({
    iss: ctx.settings.issuer,
    sub: user.id,
    aud: user.aud ?? 'authenticated',
    exp: expiresAt,
    iat,
    email: user.email ?? '',
    phone: user.phone ?? '',
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'otp', timestamp: Math.floor(session.created_at.getTime() / 1000) }],
    session_id: session.id,
    is_anonymous: user.is_anonymous,
  }, ctx.keys);
  return { token, expiresAt };
}

async function tokenResponse(ctx: TokenContext, sql: Sql, user: UserRow, session: SessionRow, refreshToken: string) {
  const { token, expiresAt } = await accessToken(ctx, user, session);
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: expiresAt - Math.floor(Date.now() / 1000),
    expires_at: expiresAt,
    refresh_token: refreshToken,
    user: await userJson(sql, user),
  };
}

/** Starts a session for a user who just proved who they are (GoTrue's IssueRefreshToken). */
export async function issueSession(ctx: TokenContext, sql: Sql, req: IncomingMessage, user: UserRow) {
  const sessionId = randomUUID();
  const refreshToken = newRefreshToken();
  // One statement for the session and its first refresh token.
  const [session] = await sql<SessionRow[]>`
    with session as (
      insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
      values (${sessionId}, ${user.id}, now(), now(), 'aal1', ${userAgent(req)}, ${clientIp(req)})
      returning id, user_id, created_at, not_after
    ), token as (
      insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
      select '00000000-0000-0000-0000-000000000000', ${refreshToken}, ${user.id}, false, now(), now(), null, id from session
    )
    select * from session`;
  return tokenResponse(ctx, sql, user, session, refreshToken);
}

/**
 * The refresh_token grant with rotation and reuse detection: a revoked token is
 * accepted only as the parent of the session's active token (the client lost
 * the answer) or within the reuse interval; later reuse revokes the family,
 * and a family without an active token stays revoked whatever its timestamps.
 */
export async function refreshSession(ctx: TokenContext, sql: postgres.Sql, req: IncomingMessage, presented: string) {
  if (!/^[a-z0-9]{12}$/.test(presented)) throw badRequest('validation_failed', 'Refresh token is not valid');
  return sql.begin(async (tx) => {
    // The session row lock serialises every refresh within one token family.
    const [locked] = await tx<{ id: string; session_created_at: Date; not_after: Date | null }[]>`
      select t.id, s.created_at as session_created_at, s.not_after
        from auth.refresh_tokens t join auth.sessions s on s.id = t.session_id
       where t.token = ${presented} for update of s`;
    if (!locked) {
      const [orphan] = await tx`select 1 from auth.refresh_tokens where token = ${presented}`;
      if (orphan) throw badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found');
      throw badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    }
    // Read (and lock, as GoTrue does) the token row only now: the row the first statement joined was
    // read before the lock was granted, so a parallel refresh's revocation would be invisible in it.
    const [row] = await tx<RefreshTokenRow[]>`select * from auth.refresh_tokens where id = ${locked.id} for update`;
    if (!row) throw badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found');
    const token = { ...row, session_created_at: locked.session_created_at, not_after: locked.not_after };
    const [user] = await tx<UserRow[]>`select * from auth.users where id::text = ${token.user_id}`;
    if (!user) throw badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    if (isBanned(user)) throw badRequest('user_banned', 'Invalid Refresh Token: User Banned');
    const session: SessionRow = { id: token.session_id!, user_id: user.id, created_at: token.session_created_at, not_after: token.not_after };
    if (session.not_after && session.not_after.getTime() < Date.now()) throw badRequest('session_expired', 'Invalid Refresh Token: Session Expired');

    let issued: string | null = null;
    if (token.revoked) {
      const [active] = await tx<RefreshTokenRow[]>`
        select * from auth.refresh_tokens where session_id = ${session.id} and revoked = false order by id desc limit 1`;
      if (active && active.parent === token.token) {
        issued = active.token;
      } else if (!active) {
        // The family was revoked (reuse detected): no token of it may mint a session again.
        return { reused: true as const };
      } else if (Date.now() > token.updated_at.getTime() + ctx.settings.refreshTokenReuseIntervalSeconds * 1000) {
        if (ctx.settings.refreshTokenRotation) {
          await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = ${session.id} and revoked = false`;
        }
        return { reused: true as const };
      }
    }
    if (!issued) {
      const next = newRefreshToken();
      await tx`
        with old as (update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${token.id})
        insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
        values ('00000000-0000-0000-0000-000000000000', ${next}, ${user.id}, false, now(), now(), ${token.token}, ${session.id})`;
      issued = next;
    }
    await tx`update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now(), user_agent = ${userAgent(req)}, ip = ${clientIp(req)} where id = ${session.id}`;
    return { reused: false as const, response: await tokenResponse(ctx, tx, user, session, issued) };
  }).then((result) => {
    // The family's revocation is committed before the client hears about the reuse.
    if (result.reused) throw badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used');
    return result.response;
  });
}
