// `/auth/v1`: Supabase Auth (GoTrue) for phone sign-in, on the `auth` schema
// tables, speaking GoTrue's paths, JSON shapes, error codes and statuses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import postgres from 'postgres';
import { BodyTooLargeError, readBody, sendJson } from '../../http.ts';
import type { Service, ServiceContext } from '../service.ts';
import { getUser, logout, requireAuthentication, updateUser } from './account.ts';
import { createUser, deleteUser, getUserById, listUsers, requireAdmin, updateUserById } from './admin.ts';
import { ipLimiters, limitByIp, verifyCaptcha } from './abuse.ts';
import { AuthError, badRequest, sendAuthError } from './errors.ts';
import { handleOtp, handleVerify, HourlyLimiter, type OtpContext } from './otp.ts';
import { refreshSession } from './sessions.ts';
import { authSettings } from './settings.ts';
import { parseTimestamptz } from './users.ts';

type Body = Record<string, unknown>;

/** The CLI's providers block of GET /settings: only email and phone exist locally. */
const EXTERNAL_PROVIDERS = [
  'anonymous_users', 'apple', 'azure', 'bitbucket', 'discord', 'facebook', 'snapchat', 'figma', 'fly', 'github', 'gitlab',
  'google', 'keycloak', 'kakao', 'linkedin', 'linkedin_oidc', 'notion', 'spotify', 'slack', 'slack_oidc', 'workos', 'twitch', 'twitter', 'zoom',
];

/** GoTrue's retrieveRequestParams: JSON bodies only, 1 MB at most. */
async function jsonBody(req: IncomingMessage): Promise<Body> {
  let raw: Buffer;
  try {
    raw = await readBody(req, 1 << 20);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new AuthError(413, 'request_entity_too_large', 'Request body too large');
    throw err;
  }
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw badRequest('bad_json', `Could not parse request body as JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('bad_json', 'Could not parse request body as JSON: expected an object');
  return parsed as Body;
}

/** The auth service's own database role, as GoTrue connects (it owns the `auth` tables). */
function authDbUrl(dbUrl: string): string {
  const url = new URL(dbUrl);
  url.username = 'supabase_auth_admin';
  url.password = 'postgres';
  return url.toString();
}

export function createAuthService(ctx: ServiceContext): Service {
  const { config, log } = ctx;
  const settings = authSettings(config);
  const sql = postgres(authDbUrl(config.dbUrl), {
    max: 8,
    onnotice: () => {},
    idle_timeout: 30,
    connection: { application_name: 'auth' },
    types: { timestamptz: { to: 1184, from: [1184], serialize: (d: Date) => d.toISOString(), parse: parseTimestamptz } },
  });
  const otp: OtpContext = {
    settings,
    keys: config.keys,
    sql,
    smsLimiter: new HourlyLimiter(settings.smsSentPerHour),
    failedAttempts: new Map(),
    log,
  };

  const limiters = ipLimiters(settings);
  /** GoTrue skips captcha for requests bearing a service_role token. */
  const isAdminRequest = (req: IncomingMessage) => requireAdmin(req, config.keys).then(() => true, () => false);

  const settingsJson = () => ({
    external: { ...Object.fromEntries(EXTERNAL_PROVIDERS.map((p) => [p, false])), email: config.toml.auth?.email?.enable_signup !== false, phone: settings.phoneEnabled },
    disable_signup: !settings.signupEnabled,
    mailer_autoconfirm: config.toml.auth?.email?.enable_confirmations !== true,
    phone_autoconfirm: settings.phoneAutoconfirm,
    // GOTRUE_SMS_PROVIDER: `supabase start` sets none unless a provider section is enabled; the hook replaces providers.
    sms_provider: '',
    saml_enabled: false,
    saml_private_key_next_configured: false,
    passkeys_enabled: false,
  });

  async function route(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const p = path.replace(/\/+$/, '') || '/';
    const adminUser = /^\/admin\/users\/([^/]+)$/.exec(p);

    if (p === '/health' && method === 'GET') return sendJson(res, 200, { version: 'local-stack', name: 'GoTrue', description: 'GoTrue is a user registration and authentication API' });
    // As GoTrue: the public halves of the asymmetric keys; the HS256 secret is never published.
    if (p === '/.well-known/jwks.json' && method === 'GET') {
      return sendJson(res, 200, config.keys.jwks, { 'cache-control': 'public, max-age=600' });
    }
    if (p === '/settings' && method === 'GET') return sendJson(res, 200, settingsJson());
    if (p === '/otp' && method === 'POST') {
      // GoTrue's order: the per-IP limit, then the captcha, then the handler.
      limitByIp(settings, limiters.otp, req);
      const body = await jsonBody(req);
      await verifyCaptcha(settings, req, body, await isAdminRequest(req));
      return sendJson(res, 200, await handleOtp(otp, req, body));
    }
    if (p === '/verify' && method === 'POST') {
      limitByIp(settings, limiters.verify, req);
      return sendJson(res, 200, await handleVerify(otp, req, await jsonBody(req)));
    }
    if (p === '/token' && method === 'POST') {
      const grant = url.searchParams.get('grant_type');
      const body = await jsonBody(req);
      if (grant !== 'refresh_token') throw badRequest('validation_failed', `unsupported_grant_type: the local stack supports grant_type=refresh_token (got ${JSON.stringify(grant ?? '')})`);
      // Refreshes skip the captcha (GoTrue's isIgnoreCaptchaRoute).
      limitByIp(settings, limiters.token, req);
      return sendJson(res, 200, await refreshSession(otp, sql, req, typeof body.refresh_token === 'string' ? body.refresh_token : ''));
    }
    if (p === '/user' && (method === 'GET' || method === 'PUT')) {
      const auth = await requireAuthentication(sql, req, config.keys);
      if (method === 'GET') return sendJson(res, 200, await getUser(sql, auth));
      limitByIp(settings, limiters.user, req);
      return sendJson(res, 200, await updateUser(otp, req, auth, await jsonBody(req)));
    }
    if (p === '/logout' && method === 'POST') {
      const auth = await requireAuthentication(sql, req, config.keys);
      await logout(sql, auth, url.searchParams.get('scope'));
      res.writeHead(204).end();
      return;
    }
    if (p === '/admin/users' || adminUser) {
      await requireAdmin(req, config.keys);
      if (p === '/admin/users' && method === 'GET') {
        const { body, headers } = await listUsers(sql, url);
        return sendJson(res, 200, body, headers);
      }
      if (p === '/admin/users' && method === 'POST') return sendJson(res, 200, await createUser(sql, await jsonBody(req)));
      if (adminUser && method === 'GET') return sendJson(res, 200, await getUserById(sql, adminUser[1]));
      if (adminUser && method === 'PUT') return sendJson(res, 200, await updateUserById(sql, adminUser[1], await jsonBody(req)));
      if (adminUser && method === 'DELETE') return sendJson(res, 200, await deleteUser(sql, adminUser[1], await jsonBody(req)));
      throw new AuthError(405, 'method_not_allowed', `${method} is not allowed on ${p}`);
    }
    throw new AuthError(404, 'not_found', `The local stack's Auth has no ${method} ${p} (see stack/README.md for what it supports)`);
  }

  return {
    mount: '/auth/v1',
    // Kong's open auth routes (no API key needed), as in Supabase's gateway config.
    openPaths: (path) => ['/verify', '/callback', '/authorize', '/.well-known/jwks.json'].includes(path.replace(/\/+$/, '')),
    async handle(req, res, gw) {
      try {
        await route(req, res, gw.path, gw.url);
      } catch (err) {
        if (err instanceof AuthError) return sendAuthError(req, res, err);
        throw err;
      }
    },
    async health() {
      await sql`select 1`;
      return { ok: true };
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
