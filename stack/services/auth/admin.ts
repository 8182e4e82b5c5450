// GoTrue's admin user API (`/admin/users[/id]`), for service_role tokens only.
import type { IncomingMessage } from 'node:http';
import type postgres from 'postgres';
import type { Keys } from '../../keys.ts';
import { parseBearer } from './account.ts';
import { AuthError, badRequest, forbidden, unprocessable } from './errors.ts';
import { parseGoDuration } from './settings.ts';
import {
  emailTaken, findUserById, insertUser, mergeMetadata, normalizeEmail, normalizePhone, phoneTaken, syncProviders, upsertIdentity, userJson, type UserRow,
} from './users.ts';

type Body = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** GoTrue's requireAdminCredentials with GOTRUE_JWT_ADMIN_ROLES=service_role. */
export async function requireAdmin(req: IncomingMessage, keys: Keys): Promise<void> {
  const claims = await parseBearer(req, keys);
  if (claims.role !== 'service_role') throw forbidden('not_admin', 'User not allowed');
}

function metadataParam(body: Body, key: string): Record<string, unknown> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('validation_failed', `${key} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** `ban_duration`: a Go duration, or `none` to lift a ban. */
function banUntil(body: Body): Date | null | undefined {
  if (body.ban_duration === undefined || body.ban_duration === '') return undefined;
  if (body.ban_duration === 'none') return null;
  try {
    return new Date(Date.now() + parseGoDuration(body.ban_duration, 0));
  } catch {
    throw badRequest('validation_failed', `invalid format for ban duration: ${JSON.stringify(body.ban_duration)}`);
  }
}

async function loadUser(sql: postgres.Sql | postgres.TransactionSql, id: string, forUpdate = false): Promise<UserRow> {
  if (!UUID.test(id)) throw new AuthError(404, 'validation_failed', 'user_id must be an UUID');
  const user = await findUserById(sql, id, forUpdate);
  if (!user) throw new AuthError(404, 'user_not_found', 'User not found');
  return user;
}

export async function createUser(sql: postgres.Sql, body: Body) {
  if (body.password !== undefined || body.password_hash !== undefined) throw unprocessable('validation_failed', 'Password sign-in is not supported by the local stack');
  if (!body.email && !body.phone) throw badRequest('validation_failed', 'Cannot create a user without either an email or phone');
  const email = body.email ? normalizeEmail(body.email) : null;
  const phone = body.phone ? normalizePhone(body.phone) : null;
  if (body.id !== undefined && (typeof body.id !== 'string' || !UUID.test(body.id))) throw badRequest('validation_failed', 'ID must conform to the uuid v4 format');
  const userMetadata = metadataParam(body, 'user_metadata');
  const appMetadata = metadataParam(body, 'app_metadata');
  const bannedUntil = banUntil(body);
  return sql.begin(async (tx) => {
    if (email && (await emailTaken(tx, email))) throw unprocessable('email_exists', 'A user with this email address has already been registered');
    if (phone && (await phoneTaken(tx, phone))) throw unprocessable('phone_exists', 'Phone number already registered by another user');
    const user = await insertUser(tx, {
      id: body.id as string | undefined,
      email,
      phone,
      emailConfirmed: body.email_confirm === true,
      phoneConfirmed: body.phone_confirm === true,
      userMetadata,
      appMetadata,
      role: typeof body.role === 'string' && body.role ? body.role : undefined,
      bannedUntil: bannedUntil ?? null,
    });
    return userJson(tx, user);
  }).catch((err: { code?: string; constraint_name?: string }) => {
    // A concurrent create with the same phone or email loses the race on the unique index.
    if (err.code === '23505' && err.constraint_name === 'users_phone_key') throw unprocessable('phone_exists', 'Phone number already registered by another user');
    if (err.code === '23505' && err.constraint_name === 'users_email_partial_key') throw unprocessable('email_exists', 'A user with this email address has already been registered');
    if (err.code === '23505' && err.constraint_name === 'users_pkey') throw unprocessable('user_already_exists', 'A user with this ID already exists');
    throw err;
  });
}

export async function getUserById(sql: postgres.Sql, id: string) {
  return userJson(sql, await loadUser(sql, id));
}

export async function listUsers(sql: postgres.Sql, url: URL): Promise<{ body: unknown; headers: Record<string, string> }> {
  const parse = (name: string, fallback: number) => {
    const raw = url.searchParams.get(name);
    if (!raw) return fallback;
    if (!/^\d+$/.test(raw)) throw badRequest('validation_failed', `Bad Pagination Parameters: invalid ${name} ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const page = Math.max(1, parse('page', 1));
  const perPage = Math.max(1, parse('per_page', 50));
  const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from auth.users where aud = 'authenticated'`;
  const rows = await sql<UserRow[]>`
    select * from auth.users where aud = 'authenticated' order by created_at desc, id limit ${perPage} offset ${(page - 1) * perPage}`;
  const users = await Promise.all(rows.map((u) => userJson(sql, u)));
  // GoTrue's Link header, which auth-js's listUsers parses for nextPage/lastPage.
  const totalPages = Math.ceil(count / perPage);
  const link = (p: number) => `</admin/users?page=${p}&per_page=${perPage}>`;
  const links = [...(totalPages > page ? [`${link(page + 1)}; rel="next"`] : []), `${link(totalPages)}; rel="last"`];
  return { body: { users, aud: 'authenticated' }, headers: { link: links.join(', '), 'x-total-count': String(count) } };
}

export async function updateUserById(sql: postgres.Sql, id: string, body: Body) {
  if (body.password !== undefined) throw unprocessable('validation_failed', 'Password sign-in is not supported by the local stack');
  const email = body.email ? normalizeEmail(body.email) : null;
  const phone = body.phone ? normalizePhone(body.phone) : null;
  const userMetadata = metadataParam(body, 'user_metadata');
  const appMetadata = metadataParam(body, 'app_metadata');
  const bannedUntil = banUntil(body);
  return sql.begin(async (tx) => {
    let user = await loadUser(tx, id, true);
    if (email && email !== user.email) {
      if (await emailTaken(tx, email, user.id)) throw unprocessable('email_exists', 'A user with this email address has already been registered');
      [user] = await tx<UserRow[]>`update auth.users set email = ${email} where id = ${user.id} returning *`;
      await upsertIdentity(tx, user, 'email', { email, email_verified: body.email_confirm === true });
    }
    if (phone && phone !== user.phone) {
      if (await phoneTaken(tx, phone, user.id)) throw unprocessable('phone_exists', 'Phone number already registered by another user');
      [user] = await tx<UserRow[]>`update auth.users set phone = ${phone} where id = ${user.id} returning *`;
      await upsertIdentity(tx, user, 'phone', { phone, phone_verified: body.phone_confirm === true });
    }
    if (body.email_confirm === true) await tx`update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) where id = ${user.id} and email is not null`;
    if (body.phone_confirm === true) await tx`update auth.users set phone_confirmed_at = coalesce(phone_confirmed_at, now()) where id = ${user.id} and phone is not null`;
    if (userMetadata) {
      const merged = mergeMetadata(user.raw_user_meta_data, userMetadata);
      await tx`update auth.users set raw_user_meta_data = ${tx.json(merged as postgres.JSONValue)} where id = ${user.id}`;
    }
    if (appMetadata) {
      const merged = mergeMetadata(user.raw_app_meta_data, appMetadata);
      await tx`update auth.users set raw_app_meta_data = ${tx.json(merged as postgres.JSONValue)} where id = ${user.id}`;
    }
    if (typeof body.role === 'string' && body.role) await tx`update auth.users set role = ${body.role} where id = ${user.id}`;
    if (bannedUntil !== undefined) await tx`update auth.users set banned_until = ${bannedUntil} where id = ${user.id}`;
    await syncProviders(tx, user.id);
    const [updated] = await tx<UserRow[]>`update auth.users set updated_at = now() where id = ${user.id} returning *`;
    return userJson(tx, updated);
  });
}

export async function deleteUser(sql: postgres.Sql, id: string, body: Body) {
  await sql.begin(async (tx) => {
    const user = await loadUser(tx, id, true);
    if (body.should_soft_delete === true) {
      // GoTrue's soft delete: the row stays (so foreign keys hold), identities and sessions go.
      await tx`delete from auth.identities where user_id = ${user.id}`;
      await tx`delete from auth.sessions where user_id = ${user.id}`;
      await tx`update auth.users set deleted_at = now(), phone = null, email = null, raw_app_meta_data = '{}', raw_user_meta_data = '{}', updated_at = now() where id = ${user.id}`;
    } else {
      await tx`delete from auth.users where id = ${user.id}`;
    }
  }).catch((err: { code?: string; message?: string }) => {
    // Product tables may keep a user's history on purpose (foreign keys with `on delete restrict`):
    // GoTrue answers 500 here; a 409 tells the caller to soft-delete or ban instead.
    if (err.code === '23503') throw new AuthError(409, 'conflict', `Database error deleting user: ${err.message}`);
    throw err;
  });
  return {};
}
