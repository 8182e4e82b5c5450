// Phone OTP: `POST /otp` sends a code (test OTP, Send SMS hook, or the stack
// log) and `POST /verify` exchanges it for a session, as GoTrue's SmsOtp and
// verifyPost do. Codes are stored as GoTrue stores them: sha224(phone + code).
import { createHash, randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type postgres from 'postgres';
import { AuthError, badRequest, forbidden, tooManyRequests, unprocessable } from './errors.ts';
import { clientIp, issueSession, type TokenContext } from './sessions.ts';
import { invokeSendSmsHook } from './sms-hook.ts';
import {
  findUserById, findUserByPhone, findUserByPhoneChange, insertUser, isBanned, normalizePhone, phoneTaken, syncProviders, upsertIdentity, userJson, type UserRow,
} from './users.ts';

export const tokenHash = (phone: string, otp: string) => createHash('sha224').update(phone + otp).digest('hex');

/** Per-instance hourly SMS budget (`[auth.rate_limit] sms_sent`), a sliding window like GoTrue's limiter. */
export class HourlyLimiter {
  private sent: number[] = [];
  constructor(private readonly perHour: number) {}
  take(): boolean {
    const now = Date.now();
    this.sent = this.sent.filter((t) => t > now - 3_600_000);
    if (this.sent.length >= this.perHour) return false;
    this.sent.push(now);
    return true;
  }
}

export interface OtpContext extends TokenContext {
  sql: postgres.Sql;
  smsLimiter: HourlyLimiter;
  /** Wrong codes per user and kind of OTP (attemptsKey) since that OTP was sent. */
  failedAttempts: Map<string, number>;
  log: (line: string) => void;
}

function generateOtp(length: number): string {
  let otp = '';
  for (let i = 0; i < length; i++) otp += String(randomInt(10));
  return otp;
}

function secondsUntil(sentAt: Date, intervalMs: number): number {
  return Math.max(1, Math.ceil((sentAt.getTime() + intervalMs - Date.now()) / 1000));
}

/** The `auth.one_time_tokens` type of each kind of phone OTP, as GoTrue's sendPhoneConfirmation records them. */
const ONE_TIME_TOKEN_TYPE = { confirmation: 'confirmation_token', phone_change: 'phone_change_token' } as const;
export type PhoneOtpKind = keyof typeof ONE_TIME_TOKEN_TYPE;

/** Serialises sign-ups of a number with phone changes to it (auth.users.phone is unique). */
const lockPhone = (tx: postgres.TransactionSql, phone: string) => tx`select pg_advisory_xact_lock(hashtextextended(${'auth.otp:' + phone}, 0))`;

/** Sign-in and phone-change codes are counted apart: wrong guesses at one never void the other. */
const attemptsKey = (userId: string, kind: PhoneOtpKind) => `${kind}:${userId}`;

/**
 * GoTrue's sendPhoneConfirmation: the sign-in `confirmation` OTP to the user's number, or the
 * `phone_change` OTP to the new number (kept pending in `phone_change`). Returns the message id.
 */
export async function sendPhoneConfirmation(
  ctx: OtpContext, req: IncomingMessage, tx: postgres.TransactionSql, user: UserRow, phone: string, kind: PhoneOtpKind = 'confirmation',
): Promise<string> {
  const { settings } = ctx;
  const sentAt = kind === 'confirmation' ? user.confirmation_sent_at : user.phone_change_sent_at;
  // Checked before the test OTP, so test numbers behave like real ones.
  if (sentAt && sentAt.getTime() + settings.smsMaxFrequencyMs > Date.now()) {
    throw tooManyRequests('over_sms_send_rate_limit', `For security purposes, you can only request this after ${secondsUntil(sentAt, settings.smsMaxFrequencyMs)} seconds.`);
  }
  let otp = settings.testOtp.get(phone);
  let messageId = '';
  if (otp) {
    messageId = 'test-otp';
  } else {
    if (!ctx.smsLimiter.take()) throw tooManyRequests('over_sms_send_rate_limit', 'SMS rate limit exceeded');
    otp = generateOtp(settings.smsOtpLength);
    if (settings.sendSmsHook) {
      await invokeSendSmsHook(settings.sendSmsHook, { user: await userJson(tx, user), otp, phone, ip: clientIp(req) });
    } else {
      // What Inbucket would show under `supabase start`: the code, for local development only.
      ctx.log(`auth: SMS OTP for +${phone}: ${otp} (no [auth.hook.send_sms] configured)`);
    }
  }
  const hash = tokenHash(phone, otp);
  if (kind === 'confirmation') {
    await tx`update auth.users set confirmation_token = ${hash}, confirmation_sent_at = now() where id = ${user.id}`;
  } else {
    await tx`update auth.users set phone_change = ${phone}, phone_change_token = ${hash}, phone_change_sent_at = now(), updated_at = now() where id = ${user.id}`;
  }
  await tx`
    insert into auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to, created_at, updated_at)
    values (gen_random_uuid(), ${user.id}, ${ONE_TIME_TOKEN_TYPE[kind]}, ${hash}, ${phone}, now(), now())
    on conflict (user_id, token_type) do update set token_hash = excluded.token_hash, relates_to = excluded.relates_to, updated_at = now()`;
  ctx.failedAttempts.delete(attemptsKey(user.id, kind));
  return messageId;
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export async function handleOtp(ctx: OtpContext, req: IncomingMessage, body: Record<string, unknown>): Promise<Record<string, string>> {
  const { settings } = ctx;
  if (body.email && body.phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided');
  if (body.email) throw badRequest('email_provider_disabled', 'Email OTP is not supported by the local stack; sign in by phone');
  if (!body.phone) throw badRequest('validation_failed', 'One of email or phone must be set');
  const createUser = body.create_user !== false;
  const phone = normalizePhone(body.phone);
  if (!createUser && !(await findUserByPhone(ctx.sql, phone))) throw unprocessable('otp_disabled', 'Signups not allowed for otp');
  if (!settings.phoneEnabled) throw badRequest('phone_provider_disabled', 'Unsupported phone provider');
  const channel = body.channel ?? 'sms';
  if (channel !== 'sms') {
    throw badRequest('validation_failed', "Invalid channel, supported values are 'sms' or 'whatsapp'. 'whatsapp' is only supported if Twilio or Twilio Verify is used as the provider.");
  }

  return ctx.sql.begin(async (tx) => {
    // Serialises concurrent requests for one number: the second sees the first's user and send time.
    await lockPhone(tx, phone);
    let user = await findUserByPhone(tx, phone, true);
    const signingUp = !user || !user.phone_confirmed_at;
    if (signingUp) {
      if (!settings.signupEnabled) throw unprocessable('signup_disabled', 'Signups not allowed for this instance');
      if (!user) {
        user = await insertUser(tx, { phone, phoneConfirmed: settings.phoneAutoconfirm, userMetadata: objectOrEmpty(body.data) });
      } else if (settings.phoneAutoconfirm) {
        [user] = await tx<UserRow[]>`update auth.users set phone_confirmed_at = now(), updated_at = now() where id = ${user.id} returning *`;
      }
    }
    const messageId = await sendPhoneConfirmation(ctx, req, tx, user!, phone);
    // A sign-up without autoconfirm answers `{}` like GoTrue's Signup; otherwise the message id.
    const answer: Record<string, string> = {};
    if (messageId && !(signingUp && !settings.phoneAutoconfirm)) answer.message_id = messageId;
    return answer;
  });
}

const INVALID_OTP = () => forbidden('otp_expired', 'Token has expired or is invalid');

export async function handleVerify(ctx: OtpContext, req: IncomingMessage, body: Record<string, unknown>) {
  const { settings } = ctx;
  const type = body.type;
  if (!type) throw badRequest('validation_failed', 'Verify requires a verification type');
  const token = typeof body.token === 'string' ? body.token : '';
  const hashParam = typeof body.token_hash === 'string' ? body.token_hash : '';
  if ((!token && !hashParam) || (token && hashParam)) throw badRequest('validation_failed', 'Verify requires either a token or a token hash');
  if (hashParam) throw badRequest('validation_failed', 'Verification by token_hash is for email links, which the local stack does not send');
  if (body.email && !body.phone) throw badRequest('validation_failed', 'Email OTP is not supported by the local stack; sign in by phone');
  if (!body.phone || body.email) throw badRequest('validation_failed', 'Only an email address or phone number should be provided on verify');
  const phone = normalizePhone(body.phone);
  if (type !== 'sms' && type !== 'phone_change') throw badRequest('validation_failed', 'Unsupported verification type');
  const phoneChange = type === 'phone_change';
  const kind: PhoneOtpKind = phoneChange ? 'phone_change' : 'confirmation';
  const hash = tokenHash(phone, token);

  const outcome = await ctx.sql.begin(async (tx) => {
    // sms: the user of this number; phone_change: the user waiting to move to it.
    const user = phoneChange ? await findUserByPhoneChange(tx, phone, hash) : await findUserByPhone(tx, phone, true);
    if (!user) return INVALID_OTP();
    if (isBanned(user)) return forbidden('user_banned', 'User is banned');
    const isTestOtp = settings.testOtp.get(phone) === token;
    if (!isTestOtp) {
      const sentAt = phoneChange ? user.phone_change_sent_at : user.confirmation_sent_at;
      const expected = phoneChange ? user.phone_change_token : user.confirmation_token;
      const valid = !!expected && !!sentAt
        && Date.now() <= sentAt.getTime() + settings.smsOtpExpirySeconds * 1000
        && expected === hash;
      if (!valid) {
        const failures = (ctx.failedAttempts.get(attemptsKey(user.id, kind)) ?? 0) + 1;
        ctx.failedAttempts.set(attemptsKey(user.id, kind), failures);
        if (failures >= settings.smsMaxVerifyAttempts && expected) {
          // Too many wrong codes: the OTP is void; only a new one can be used.
          if (phoneChange) await tx`update auth.users set phone_change_token = '' where id = ${user.id}`;
          else await tx`update auth.users set confirmation_token = '' where id = ${user.id}`;
          await tx`delete from auth.one_time_tokens where user_id = ${user.id} and token_type = ${ONE_TIME_TOKEN_TYPE[kind]}`;
        }
        return INVALID_OTP();
      }
    }
    let signedIn: UserRow;
    if (phoneChange) {
      // Someone may have signed up with the number while the change was pending.
      await lockPhone(tx, phone);
      if (await phoneTaken(tx, phone, user.id)) return unprocessable('phone_exists', 'A user with this phone number has already been registered');
      // GoTrue's ConfirmPhoneChange: the number moves (and the product's trigger moves the profile's), codes are used up.
      [signedIn] = await tx<UserRow[]>`
        update auth.users set phone = phone_change, phone_change = '', phone_change_token = '', phone_confirmed_at = now(),
               last_sign_in_at = now(), updated_at = now()
         where id = ${user.id} returning *`;
      await tx`delete from auth.one_time_tokens where user_id = ${user.id}`;
      await upsertIdentity(tx, signedIn, 'phone', { phone, phone_verified: true });
    } else {
      // GoTrue's ConfirmPhone (the code is used up), and the sign-in time.
      [signedIn] = await tx<UserRow[]>`
        update auth.users set phone_confirmed_at = coalesce(phone_confirmed_at, now()), confirmation_token = '', last_sign_in_at = now(), updated_at = now()
         where id = ${user.id} returning *`;
      if (user.confirmation_token) await tx`delete from auth.one_time_tokens where user_id = ${user.id}`;
      await upsertIdentity(tx, user, 'phone', { phone, phone_verified: true }, { signedIn: true });
    }
    if (!((signedIn.raw_app_meta_data?.providers as string[] | undefined) ?? []).includes('phone')) {
      await syncProviders(tx, user.id);
      signedIn = (await findUserById(tx, user.id))!;
    }
    ctx.failedAttempts.delete(attemptsKey(user.id, kind));
    return issueSession(ctx, tx, req, signedIn);
  });
  if (outcome instanceof AuthError) throw outcome;
  return outcome;
}
