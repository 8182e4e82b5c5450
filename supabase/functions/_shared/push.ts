// Push through FCM HTTP v1 with the official Admin SDK (firebase-admin), from
// the FIREBASE_SERVICE_ACCOUNT secret (the service account JSON). Outbound
// calls honour HTTPS_PROXY (minus NO_PROXY) as Deno's own fetch does: the
// SDK's FCM client uses node:https, which ignores the variable, so it gets the
// proxy as its documented `httpAgent`; its OAuth token request goes through
// fetch, which honours the variable itself.
import { cert, deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';
import { HttpsProxyAgent } from 'https-proxy-agent';

export class PushNotConfigured extends Error {}

export interface PushMessage {
  title: string;
  body: string;
  data: Record<string, string>;
}

export interface PushOutcome {
  /** FCM message names of the tokens that accepted the message. */
  sent: string[];
  /** Tokens FCM says are unregistered or invalid, with FCM's error code. */
  invalid: { token: string; code: string }[];
  /** Errors of the other tokens (worth retrying: FCM unavailable, quota, network). */
  errors: string[];
}

let cached: { key: string; app: App; messaging: Messaging } | null = null;

function proxyFor(host: string): string | null {
  const proxy = Deno.env.get('HTTPS_PROXY') || Deno.env.get('https_proxy');
  if (!proxy) return null;
  const noProxy = (Deno.env.get('NO_PROXY') || Deno.env.get('no_proxy') || '').split(',').map((s) => s.trim()).filter(Boolean);
  const bypass = noProxy.some((entry) => entry === '*' || host === entry.replace(/^\./, '') || host.endsWith(entry.startsWith('.') ? entry : `.${entry}`));
  return bypass ? null : proxy;
}

async function messaging(): Promise<Messaging> {
  const raw = Deno.env.get('FIREBASE_SERVICE_ACCOUNT');
  if (!raw) throw new PushNotConfigured('push_not_configured: FIREBASE_SERVICE_ACCOUNT is not set');
  if (cached?.key === raw) return cached.messaging;
  let account: Record<string, string>;
  try {
    account = JSON.parse(raw);
  } catch {
    throw new PushNotConfigured('push_not_configured: FIREBASE_SERVICE_ACCOUNT is not JSON (set it to the service account key file)');
  }
  if (!account.project_id || !account.client_email || !account.private_key) {
    throw new PushNotConfigured('push_not_configured: FIREBASE_SERVICE_ACCOUNT lacks project_id, client_email or private_key');
  }
  if (cached) await deleteApp(cached.app);
  const proxy = proxyFor('fcm.googleapis.com');
  // Keep-alive: one tunnel and TLS session serve many sends.
  const httpAgent = proxy ? new HttpsProxyAgent(proxy, { keepAlive: true }) : undefined;
  // A named app, so a changed secret (a new worker would also do) never mixes credentials.
  const app = initializeApp({ credential: cert(account, httpAgent), projectId: account.project_id, httpAgent }, `notify-${crypto.randomUUID()}`);
  cached = { key: raw, app, messaging: getMessaging(app) };
  return cached.messaging;
}

/** Error codes after which a token never works again (the seed deactivates on these). */
const DEAD_TOKEN_CODES = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);

function isDeadToken(err: { code?: string; message?: string }): boolean {
  if (err.code && DEAD_TOKEN_CODES.has(err.code)) return true;
  // FCM v1 answers a malformed token with INVALID_ARGUMENT naming the token.
  return err.code === 'messaging/invalid-argument' && /registration token/i.test(err.message ?? '');
}

/** Sends one message to each token; never throws for per-token failures. */
export async function sendPush(tokens: string[], message: PushMessage): Promise<PushOutcome> {
  const fcm = await messaging();
  const outcome: PushOutcome = { sent: [], invalid: [], errors: [] };
  await Promise.all(tokens.map(async (token) => {
    try {
      outcome.sent.push(await fcm.send({
        token,
        notification: { title: message.title, body: message.body },
        data: message.data,
        android: { priority: 'high' },
        apns: { headers: { 'apns-priority': '10' } },
      }));
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (isDeadToken(e)) outcome.invalid.push({ token, code: e.code ?? 'messaging/invalid-argument' });
      else outcome.errors.push(`${e.code ?? 'fcm'}: ${String(e.message ?? err).slice(0, 200)}`);
    }
  }));
  return outcome;
}
