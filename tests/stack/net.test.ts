// pg_net in the local stack: the extension's SQL API (the stand-in in
// stack/extensions) and the worker that sends committed requests
// (stack/services/background/net.ts), against a small local HTTP server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { freePort } from '../../stack/postgres.ts';

const sql = serviceSql();

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url!.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 3000).unref();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-probe': 'pong' });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function waitFor<T>(probe: () => T | Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const arrived = (path: string) => waitFor(() => received.find((r) => r.url === path), `a request to ${path}`);
const response = (id: string) =>
  waitFor(() => sql`select * from net._http_response where id = ${id}`.then((r) => r[0]), `the response to request ${id}`);

describe('pg_net SQL API', () => {
  it('is created by the migrations in schema extensions, with the net schema granted as on Supabase', async () => {
    const [ext] = await sql`select extversion, extnamespace::regnamespace::text as schema from pg_extension where extname = 'pg_net'`;
    expect(ext).toEqual({ extversion: '0.20.4', schema: 'extensions' });
    const [g] = await sql`
      select bool_and(has_schema_privilege(r, 'net', 'usage')) as usage,
             bool_and(has_function_privilege(r, 'net.http_post(text, jsonb, jsonb, jsonb, integer)', 'execute')) as post
      from unnest(array['postgres', 'anon', 'authenticated', 'service_role', 'supabase_functions_admin']) r`;
    expect(g).toEqual({ usage: true, post: true });
    const cols = await sql`select column_name from information_schema.columns where table_schema = 'net' and table_name = '_http_response' order by ordinal_position`;
    expect(cols.map((c) => c.column_name)).toEqual(['id', 'status_code', 'content_type', 'headers', 'content', 'timed_out', 'error_msg', 'created']);
    const fns = await sql`select p.oid::regprocedure::text as sig from pg_proc p where pronamespace = 'net'::regnamespace and proname like 'http%' order by 1`;
    expect(fns.map((f) => f.sig)).toEqual([
      'net.http_delete(text,jsonb,jsonb,integer,jsonb)',
      'net.http_get(text,jsonb,jsonb,integer)',
      'net.http_post(text,jsonb,jsonb,jsonb,integer)',
    ]);
  });

  it('refuses a POST whose Content-Type is not JSON', async () => {
    await expect(sql`select net.http_post(${base}, '{}', headers => '{"Content-Type": "text/plain"}')`).rejects.toThrow('Content-Type header must be "application/json"');
  });

  it('url-encodes params as curl does', async () => {
    const [{ url }] = await sql`select net._encode_url_with_params_array('http://h/p?x=1', array[net._urlencode_string('a b&c') || '=' || net._urlencode_string('ü~.-_')]) as url`;
    expect(url).toBe('http://h/p?x=1&a%20b%26c=%C3%BC~.-_');
  });
});

describe('pg_net worker', () => {
  it('sends only after the calling transaction commits', async () => {
    let requestId = '';
    const tx = sql.begin(async (t) => {
      const [{ id }] = await t`select net.http_post(${`${base}/held`}, '{"n": 1}') as id`;
      requestId = id;
      // While this transaction is open, a request committed by someone else goes out, and ours does not.
      const [{ id: other }] = await sql`select net.http_get(${`${base}/other`}) as id`;
      await arrived('/other');
      await response(other);
      expect(received.some((r) => r.url === '/held')).toBe(false);
    });
    await tx;
    const req = await arrived('/held');
    expect(JSON.parse(req.body)).toEqual({ n: 1 });
    expect((await response(requestId)).status_code).toBe(201);
  });

  it('a rolled-back transaction sends nothing', async () => {
    let rolledBack = '';
    await sql
      .begin(async (t) => {
        [{ id: rolledBack }] = await t`select net.http_post(${`${base}/rolled-back`}, '{}') as id`;
        throw new Error('rollback');
      })
      .catch(() => {});
    // A request queued after it is answered, so the worker has been past the rolled-back one.
    const [{ id: after }] = await sql`select net.http_get(${`${base}/after-rollback`}) as id`;
    await response(after);
    expect(received.some((r) => r.url === '/rolled-back')).toBe(false);
    expect(await sql`select count(*)::int as n from net._http_response where id = ${rolledBack}`).toEqual([{ n: 0 }]);
    expect(await sql`select count(*)::int as n from net.http_request_queue where id = ${rolledBack}`).toEqual([{ n: 0 }]);
  });

  it('delivers method, params, headers and body as sent, and stores the response', async () => {
    const [{ id }] = await sql`
      select net.http_post(
        url => ${`${base}/post`},
        body => '{"order": "abc", "amount": 2500, "nested": {"a": [1, 2]}}',
        params => '{"q": "a b&c", "lang": "yo"}',
        headers => '{"Authorization": "Bearer tok", "X-Custom": "yes"}'
      ) as id`;
    const req = await arrived('/post?q=a%20b%26c&lang=yo');
    expect(req.method).toBe('POST');
    expect(req.headers).toMatchObject({ authorization: 'Bearer tok', 'x-custom': 'yes', 'content-type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual({ order: 'abc', amount: 2500, nested: { a: [1, 2] } });
    const res = await response(id);
    expect(res).toMatchObject({ status_code: 201, content_type: 'application/json', timed_out: false, error_msg: null });
    expect(res.headers['x-probe']).toBe('pong');
    expect(JSON.parse(res.content)).toEqual({ ok: true, path: '/post?q=a%20b%26c&lang=yo' });
    const [{ r }] = await sql`select (net._http_collect_response(${id}::bigint)).status::text as r`;
    expect(r).toBe('SUCCESS');

    const [{ id: getId }] = await sql`select net.http_get(${`${base}/get`}, params => '{"page": "2"}', headers => '{"X-Probe": "1"}') as id`;
    const get = await arrived('/get?page=2');
    expect(get).toMatchObject({ method: 'GET', body: '' });
    expect(get.headers['x-probe']).toBe('1');
    expect((await response(getId)).status_code).toBe(201);

    const [{ id: delId }] = await sql`select net.http_delete(${`${base}/del`}, body => '{"why": "test"}') as id`;
    const del = await arrived('/del');
    expect(del.method).toBe('DELETE');
    expect(JSON.parse(del.body)).toEqual({ why: 'test' });
    expect((await response(delId)).status_code).toBe(201);
  });

  it('records timeouts and connection errors in net._http_response', async () => {
    const [{ id: slow }] = await sql`select net.http_get(${`${base}/slow`}, timeout_milliseconds => 300) as id`;
    const timedOut = await response(slow);
    expect(timedOut).toMatchObject({ status_code: null, content: null, timed_out: true });
    expect(timedOut.error_msg).toMatch(/^Timeout of 300 ms reached/);

    const closedPort = await freePort();
    const [{ id: refused }] = await sql`select net.http_post(${`http://127.0.0.1:${closedPort}/x`}, '{}') as id`;
    expect(await response(refused)).toMatchObject({ status_code: null, timed_out: false, error_msg: "Couldn't connect to server" });

    const [{ id: malformed }] = await sql`select net.http_get('not a url') as id`;
    expect(await response(malformed)).toMatchObject({ status_code: null, timed_out: false, error_msg: 'URL using bad/illegal format or missing URL' });
  });
});
