// Users and identities as GoTrue keeps them in `auth.users` / `auth.identities`,
// and their JSON shape (GoTrue's models.User) on the wire.
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { badRequest } from './errors.ts';

export type Sql = postgres.Sql | postgres.TransactionSql;
type Json = Record<string, unknown>;

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  email_confirmed_at: Date | null;
  invited_at: Date | null;
  confirmation_token: string | null;
  confirmation_sent_at: Date | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Json | null;
  raw_user_meta_data: Json | null;
  created_at: Date;
  updated_at: Date;
  phone: string | null;
  phone_confirmed_at: Date | null;
  phone_change: string | null;
  phone_change_token: string | null;
  phone_change_sent_at: Date | null;
  confirmed_at: Date | null;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
}

export interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Json;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date;
  updated_at: Date;
  email: string | null;
}

export const INSTANCE_ID = '00000000-0000-0000-0000-000000000000';
export const AUDIENCE = 'authenticated';

const E164 = /^[1-9][0-9]{1,14}$/;

/** GoTrue's validatePhone: drop a leading `+` and spaces, then require E.164 digits. */
export function normalizePhone(phone: unknown): string {
  const formatted = typeof phone === 'string' ? phone.replace(/^\+/, '').replaceAll(' ', '') : '';
  if (!E164.test(formatted)) throw badRequest('validation_failed', 'Invalid phone number format (E.164 required)');
  return formatted;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: unknown): string {
  const value = typeof email === 'string' ? email.trim().toLowerCase() : '';
  if (!EMAIL.test(value) || value.length > 255) throw badRequest('email_address_invalid', 'Unable to validate email address: invalid format');
  return value;
}

export function isBanned(user: Pick<UserRow, 'banned_until'>): boolean {
  return !!user.banned_until && user.banned_until.getTime() > Date.now();
}

export async function findUserById(sql: Sql, id: string, forUpdate = false): Promise<UserRow | null> {
  const rows = forUpdate
    ? await sql<UserRow[]>`select * from auth.users where id = ${id} for update`
    : await sql<UserRow[]>`select * from auth.users where id = ${id}`;
  return rows[0] ?? null;
}

/** The user with a pending change to this number whose code matches (GoTrue's FindUserByPhoneChangeAndAudience, narrowed by the code). */
export async function findUserByPhoneChange(sql: Sql, phone: string, tokenHash: string | null): Promise<UserRow | null> {
  const rows = await sql<UserRow[]>`
    select * from auth.users
     where phone_change = ${phone} and aud = ${AUDIENCE} and deleted_at is null and is_sso_user = false
     order by (phone_change_token = ${tokenHash ?? ''}) desc, phone_change_sent_at desc nulls last
     limit 1 for update`;
  return rows[0] ?? null;
}

export async function findUserByPhone(sql: Sql, phone: string, forUpdate = false): Promise<UserRow | null> {
  const rows = forUpdate
    ? await sql<UserRow[]>`select * from auth.users where phone = ${phone} and aud = ${AUDIENCE} and deleted_at is null for update`
    : await sql<UserRow[]>`select * from auth.users where phone = ${phone} and aud = ${AUDIENCE} and deleted_at is null`;
  return rows[0] ?? null;
}

export async function emailTaken(sql: Sql, email: string, exceptUserId?: string): Promise<boolean> {
  const rows = await sql`select 1 from auth.users where lower(email) = ${email} and is_sso_user = false and id is distinct from ${exceptUserId ?? null}`;
  return rows.length > 0;
}

export async function phoneTaken(sql: Sql, phone: string, exceptUserId?: string): Promise<boolean> {
  const rows = await sql`select 1 from auth.users where phone = ${phone} and id is distinct from ${exceptUserId ?? null}`;
  return rows.length > 0;
}

export interface NewUser {
  id?: string;
  phone?: string | null;
  email?: string | null;
  phoneConfirmed: boolean;
  emailConfirmed?: boolean;
  userMetadata?: Json;
  appMetadata?: Json;
  role?: string;
  bannedUntil?: Date | null;
}

/** Inserts a user and its identities as GoTrue's signup does, so `auth.users` triggers run. */
export async function insertUser(sql: Sql, user: NewUser): Promise<UserRow> {
  const id = user.id ?? randomUUID();
  const providers = [...(user.email ? ['email'] : []), ...(user.phone ? ['phone'] : [])];
  const appMetadata = { provider: providers[0], providers, ...(user.appMetadata ?? {}) };
  const [row] = await sql<UserRow[]>`
    insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, phone, phone_confirmed_at,
                            confirmation_token, recovery_token, email_change_token_new, email_change,
                            raw_app_meta_data, raw_user_meta_data, banned_until, created_at, updated_at)
    values (${INSTANCE_ID}, ${id}, ${AUDIENCE}, ${user.role ?? AUDIENCE}, ${user.email ?? null},
            ${user.email && user.emailConfirmed ? sql`now()` : null}, ${user.phone ?? null},
            ${user.phone && user.phoneConfirmed ? sql`now()` : null},
            '', '', '', '', ${sql.json(appMetadata as postgres.JSONValue)}, ${sql.json((user.userMetadata ?? {}) as postgres.JSONValue)},
            ${user.bannedUntil ?? null}, now(), now())
    returning *`;
  if (user.email) await upsertIdentity(sql, row, 'email', { email: user.email, email_verified: !!user.emailConfirmed, phone_verified: false });
  if (user.phone) await upsertIdentity(sql, row, 'phone', { phone: user.phone, email_verified: false, phone_verified: false });
  return row;
}

/** Creates or updates the user's identity for a provider; identity_data keeps `sub`. */
export async function upsertIdentity(sql: Sql, user: UserRow, provider: 'email' | 'phone', data: Json, options: { signedIn?: boolean } = {}): Promise<void> {
  const identityData = { sub: user.id, ...data };
  const signedInAt = options.signedIn ? sql`now()` : null;
  await sql`
    insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
    values (${user.id}, ${user.id}, ${sql.json(identityData as postgres.JSONValue)}, ${provider}, ${signedInAt}, now(), now())
    on conflict (provider_id, provider) do update
      set identity_data = auth.identities.identity_data || excluded.identity_data,
          last_sign_in_at = coalesce(excluded.last_sign_in_at, auth.identities.last_sign_in_at), updated_at = now()`;
}

/** GoTrue's UpdateAppMetaDataProviders: `providers` lists the user's identities. */
export async function syncProviders(sql: Sql, userId: string): Promise<void> {
  await sql`
    update auth.users u
       set raw_app_meta_data = coalesce(u.raw_app_meta_data, '{}'::jsonb)
                               || jsonb_build_object('providers', coalesce((select jsonb_agg(distinct i.provider) from auth.identities i where i.user_id = u.id), '[]'::jsonb))
     where u.id = ${userId}`;
}

/** Merges metadata as GoTrue does: keys set to null are removed. */
export function mergeMetadata(current: Json | null, patch: Json): Json {
  const merged: Json = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** The extremes of a JS Date stand for Postgres' `infinity` (a permanent ban is `banned_until = 'infinity'`). */
const INFINITY_MS = 8.64e15;

export function parseTimestamptz(text: string): Date {
  if (text === 'infinity') return new Date(INFINITY_MS);
  if (text === '-infinity') return new Date(-INFINITY_MS);
  return new Date(text);
}

const iso = (d: Date | null | undefined) => {
  if (!d) return undefined;
  if (Math.abs(d.getTime()) === INFINITY_MS) return d.getTime() > 0 ? 'infinity' : '-infinity';
  return d.toISOString();
};

function identityJson(i: IdentityRow): Json {
  return {
    identity_id: i.id,
    id: i.provider_id,
    user_id: i.user_id,
    identity_data: i.identity_data,
    provider: i.provider,
    last_sign_in_at: iso(i.last_sign_in_at),
    created_at: iso(i.created_at),
    updated_at: iso(i.updated_at),
    email: i.email ?? undefined,
  };
}

/** The user as GoTrue serialises it (omitempty fields left out, email/phone as ''). */
export async function userJson(sql: Sql, user: UserRow): Promise<Json> {
  const identities = await sql<IdentityRow[]>`select * from auth.identities where user_id = ${user.id} order by created_at, id`;
  return {
    id: user.id,
    aud: user.aud ?? '',
    role: user.role ?? '',
    email: user.email ?? '',
    email_confirmed_at: iso(user.email_confirmed_at),
    invited_at: iso(user.invited_at),
    phone: user.phone ?? '',
    phone_confirmed_at: iso(user.phone_confirmed_at),
    confirmation_sent_at: iso(user.confirmation_sent_at),
    confirmed_at: iso(user.confirmed_at),
    recovery_sent_at: iso(user.recovery_sent_at),
    new_email: user.email_change || undefined,
    email_change_sent_at: iso(user.email_change_sent_at),
    new_phone: user.phone_change || undefined,
    phone_change_sent_at: iso(user.phone_change_sent_at),
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    identities: identities.map(identityJson),
    created_at: iso(user.created_at),
    updated_at: iso(user.updated_at),
    banned_until: iso(user.banned_until),
    deleted_at: iso(user.deleted_at),
    is_anonymous: user.is_anonymous,
  };
}
