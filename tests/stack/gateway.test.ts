// The gateway in front of the services, as Kong is in front of Supabase's.
import { describe, expect, it } from 'vitest';
import { stackEnv } from '../helpers/env.ts';

describe.runIf(stackEnv().embedded)('gateway', () => {
  const env = stackEnv();

  it('rejects a request without an API key with Supabase\'s message', async () => {
    const res = await fetch(`${env.url}/rest/v1/profiles`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' });
  });

  it('rejects an unknown API key', async () => {
    const res = await fetch(`${env.url}/rest/v1/profiles`, { headers: { apikey: 'not-a-key' } });
    expect(res.status).toBe(401);
    expect((await res.json()).message).toBe('Invalid API key');
  });

  it('accepts the key as a header or as the apikey query parameter', async () => {
    for (const init of [{ headers: { apikey: env.anonKey } }, {}]) {
      const url = init.headers ? `${env.url}/auth/v1/settings` : `${env.url}/auth/v1/settings?apikey=${env.anonKey}`;
      const res = await fetch(url, init);
      expect(res.status).not.toBe(401);
    }
  });

  it('answers browser preflights with CORS headers', async () => {
    const res = await fetch(`${env.url}/rest/v1/profiles`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'apikey, authorization, content-type' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toBe('apikey, authorization, content-type');
  });

  it('reports each component at /health', async () => {
    const res = await fetch(`${env.url}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.components.postgres).toEqual({ ok: true });
    expect(Object.keys(body.components).sort()).toEqual(['auth', 'functions', 'postgres', 'realtime', 'rest']);
  });

  it('answers 404 for paths outside the mount points', async () => {
    const res = await fetch(`${env.url}/nothing/here`, { headers: { apikey: env.anonKey } });
    expect(res.status).toBe(404);
  });

  it('answers 501 naming the Supabase API it does not provide', async () => {
    for (const [path, name] of [['/storage/v1/bucket', 'Supabase Storage'], ['/graphql/v1', 'GraphQL']]) {
      const res = await fetch(`${env.url}${path}`, { headers: { apikey: env.anonKey } });
      expect(res.status).toBe(501);
      const body = await res.json();
      expect(body.code).toBe('not_implemented');
      expect(body.message).toContain(name);
    }
  });
});
