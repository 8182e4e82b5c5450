// Fake Google for push: the OAuth 2.0 token endpoint (JWT bearer grant of a
// service account, https://developers.google.com/identity/protocols/oauth2/service-account)
// and FCM HTTP v1 (POST /v1/projects/{project}/messages:send,
// https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send).
//
// firebase-admin has no base-URL setting for either host, so the functions
// reach them as production does, by name, through an HTTPS proxy
// (HTTPS_PROXY, honoured by the notify function) that this module also runs:
// CONNECT to oauth2.googleapis.com or fcm.googleapis.com is answered with TLS
// under a CA made for this run (given to Deno as DENO_CERT) and handed to the
// fakes; CONNECT to any other host is tunnelled unchanged (Deno fetches npm
// packages through the same proxy).
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { sendJson, startFake, type FakeServer } from './recorder.ts';

export const FIREBASE_PROJECT_ID = 'rambini-local-test';
const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** FCM v1's error body, as `failCalls` answers it for a token (e.g. UNREGISTERED with 404). */
export function fcmError(status: number, errorCode: 'UNREGISTERED' | 'INVALID_ARGUMENT' | 'INTERNAL' | 'UNAVAILABLE' | 'QUOTA_EXCEEDED', message?: string) {
  const grpc: Record<number, string> = { 400: 'INVALID_ARGUMENT', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
  return {
    error: {
      code: status,
      message: message ?? (errorCode === 'UNREGISTERED' ? 'Requested entity was not found.' : errorCode === 'INVALID_ARGUMENT' ? 'The registration token is not a valid FCM registration token' : 'Internal error encountered.'),
      status: grpc[status] ?? 'UNKNOWN',
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
    },
  };
}

function b64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function startFakeOAuth(clientEmail: string, publicKey: KeyObject, issued: Set<string>): Promise<FakeServer> {
  return startFake('Google OAuth', (req, res, body, url) => {
    if (req.method !== 'POST' || url.pathname !== '/token') return false;
    const form = new URLSearchParams(body);
    const invalid = (description: string) => sendJson(res, 400, { error: 'invalid_grant', error_description: description });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
      return true;
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return (invalid('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.'), true);
    const header = b64urlJson(parts[0]);
    const claims = b64urlJson(parts[1]) as { iss?: string; aud?: string; scope?: string; exp?: number; iat?: number };
    const signed = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
    const now = Math.floor(Date.now() / 1000);
    if (header.alg !== 'RS256' || !signed) invalid('Invalid JWT Signature.');
    else if (claims.iss !== clientEmail) invalid('Invalid issuer.');
    else if (claims.aud !== TOKEN_URL) invalid('Invalid JWT: audience mismatch.');
    else if (!claims.exp || !claims.iat || claims.exp < now || claims.iat > now + 300 || claims.exp - claims.iat > 3600) invalid('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    else if (!String(claims.scope ?? '').split(' ').includes(FCM_SCOPE)) invalid('Invalid OAuth scope or ID token audience provided.');
    else {
      const token = `ya29.fake-${randomUUID()}`;
      issued.add(token);
      sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    return true;
  });
}

function startFakeFcm(issued: Set<string>): Promise<FakeServer> {
  return startFake('FCM', (req, res, body, url) => {
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) return false;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !issued.has(bearer)) {
      sendJson(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', status: 'UNAUTHENTICATED' } });
      return true;
    }
    if (m[1] !== FIREBASE_PROJECT_ID) {
      sendJson(res, 403, { error: { code: 403, message: 'SenderId mismatch', status: 'PERMISSION_DENIED', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'SENDER_ID_MISMATCH' }] } });
      return true;
    }
    let message: { token?: unknown; notification?: unknown; data?: Record<string, unknown> } | undefined;
    try {
      message = JSON.parse(body).message;
    } catch { /* answered below */ }
    const badData = message?.data && Object.values(message.data).some((v) => typeof v !== 'string');
    if (!message || typeof message.token !== 'string' || badData) {
      sendJson(res, 400, fcmError(400, 'INVALID_ARGUMENT', badData ? 'Invalid value at \'message.data\': values must be strings' : 'Invalid JSON payload received. message.token is required.'));
      return true;
    }
    sendJson(res, 200, { name: `projects/${m[1]}/messages/${randomUUID()}` });
    return true;
  });
}

function makeCertificates(dir: string): { caFile: string; key: Buffer; cert: Buffer } {
  const run = (args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`the fake Google endpoints need the openssl command to make their TLS certificates: ${(err as Error).message}`);
    }
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7', '-subj', '/CN=Rambini test fakes CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=googleapis.com']);
  writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=DNS:fcm.googleapis.com,DNS:oauth2.googleapis.com\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '7', '-extfile', 'leaf.ext']);
  return { caFile: path.join(dir, 'ca.pem'), key: readFileSync(path.join(dir, 'leaf.key')), cert: readFileSync(path.join(dir, 'leaf.pem')) };
}

/** An HTTPS proxy that terminates TLS for `routes` (host → local port) and tunnels everything else. */
async function startProxy(routes: Record<string, number>, key: Buffer, cert: Buffer): Promise<FakeServer> {
  const context = tls.createSecureContext({ key, cert });
  const server = http.createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('This proxy only tunnels (CONNECT)');
  });
  const sockets = new Set<net.Socket>();
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const [host, port = '443'] = (req.url ?? '').split(':');
    const local = routes[host];
    const upstream = local ? net.connect(local, '127.0.0.1') : net.connect(Number(port), host);
    upstream.on('error', () => {
      if (!client.writableEnded) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      client.destroy();
    });
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) client.unshift(head);
      const inner = local ? new tls.TLSSocket(client, { isServer: true, secureContext: context }) : client;
      inner.on('error', () => { client.destroy(); upstream.destroy(); });
      inner.pipe(upstream).pipe(inner);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export interface FakeGoogle {
  fcmUrl: string;
  oauthUrl: string;
  proxyUrl: string;
  /** The CA of the proxy's certificates (DENO_CERT for the functions). */
  caFile: string;
  /** A service account JSON whose key the fake token endpoint knows (FIREBASE_SERVICE_ACCOUNT). */
  serviceAccount: string;
  close(): Promise<void>;
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rambini-fake-google-'));
  const certs = makeCertificates(dir);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `notify@${FIREBASE_PROJECT_ID}.iam.gserviceaccount.com`;
  const serviceAccount = JSON.stringify({
    type: 'service_account',
    project_id: FIREBASE_PROJECT_ID,
    private_key_id: randomUUID().replace(/-/g, ''),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: clientEmail,
    client_id: '100000000000000000000',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: TOKEN_URL,
  });
  const issued = new Set<string>();
  const [oauth, fcm] = await Promise.all([startFakeOAuth(clientEmail, createPublicKey(privateKey), issued), startFakeFcm(issued)]);
  const port = (url: string) => Number(new URL(url).port);
  const proxy = await startProxy({ 'oauth2.googleapis.com': port(oauth.url), 'fcm.googleapis.com': port(fcm.url) }, certs.key, certs.cert);
  return {
    fcmUrl: fcm.url,
    oauthUrl: oauth.url,
    proxyUrl: proxy.url,
    caFile: certs.caFile,
    serviceAccount,
    async close() {
      await Promise.all([proxy.close(), oauth.close(), fcm.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
