// Errors, authentication, RLS and hostile input: PostgREST's codes and statuses,
// JWT failures as 401s, RLS for anon and users, injection attempts rejected with
// 400 before reaching SQL, and the schema cache following DDL and NOTIFY pgrst.
import { beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../stack/keys.ts';
import { platformSql, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { anonClient, ensureFixture, rest, SCHEMA, serviceClient, userClient, userToken } from './fixture.ts';

beforeAll(ensureFixture);

const secret = () => new TextEncoder().encode(stackEnv().jwtSecret);
const withToken = (token: string) => ({ authorization: `Bearer ${token}` });

describe('authentication', () => {
  it('an expired JWT: 401 PGRST303 with WWW-Authenticate', async () => {
    const token = await signJwt({ role: 'authenticated', sub: 'x', exp: Math.floor(Date.now() / 1000) - 10 }, secret());
    const res = await rest('/vendors', { headers: withToken(token) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 'PGRST303', message: 'JWT expired', details: null, hint: null });
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="JWT expired"');
  });

  it('a JWT with a bad signature or shape: 401 PGRST301', async () => {
    const forged = await signJwt({ role: 'service_role' }, new TextEncoder().encode('x'.repeat(40)));
    const bad = await rest('/vendors', { headers: withToken(forged) });
    expect(bad.status).toBe(401);
    expect((await bad.json()).code).toBe('PGRST301');
    const garbage = await rest('/vendors', { headers: withToken('not-a-jwt') });
    expect(garbage.status).toBe(401);
    expect((await garbage.json()).message).toBe('Expected 3 parts in JWT; got 1');
  });

  it('a role that does not exist: 401; a role the authenticator cannot take: 403', async () => {
    const ghost = await rest('/vendors', { headers: withToken(await signJwt({ role: 'ghost' }, secret())) });
    expect(ghost.status).toBe(401);
    expect((await ghost.json()).code).toBe('22023');
    const superuser = await rest('/vendors', { headers: withToken(await signJwt({ role: 'postgres' }, secret())) });
    expect(superuser.status).toBe(403);
    expect((await superuser.json()).code).toBe('42501');
  });

  it("applies the role's statement_timeout, as PostgREST does", async () => {
    expect((await anonClient().rpc('statement_timeout')).data).toBe('3s');
    const { client } = await userClient();
    expect((await client.rpc('statement_timeout')).data).toBe('8s');
  });
});

describe('row level security', () => {
  it('users see and change only their own rows; anon has no access', async () => {
    const alice = await userClient();
    const bob = await userClient();
    const mine = await alice.client.from('secrets').insert({ content: 'alice only' }).select('id, owner, content').single();
    expect(mine.data).toMatchObject({ owner: alice.sub, content: 'alice only' });
    expect((await bob.client.from('secrets').select('id').eq('id', mine.data!.id)).data).toEqual([]);
    const stolen = await bob.client.from('secrets').update({ content: 'bob was here' }).eq('id', mine.data!.id).select();
    expect(stolen.data).toEqual([]);
    const forged = await bob.client.from('secrets').insert({ owner: alice.sub, content: 'as alice' });
    expect(forged.status).toBe(403);
    expect(forged.error?.code).toBe('42501');
    const anon = await anonClient().from('secrets').select('id');
    expect(anon.status).toBe(401);
    expect(anon.error?.code).toBe('42501');
    const again = await alice.client.from('secrets').select('content').eq('id', mine.data!.id).single();
    expect(again.data).toEqual({ content: 'alice only' });
  });

  it('insert without a select policy: return=minimal succeeds, asking for the row back is refused', async () => {
    const minimal = await anonClient().from('feedback').insert({ message: 'great jollof' });
    expect(minimal.status).toBe(201);
    expect(minimal.error).toBeNull();
    const representation = await anonClient().from('feedback').insert({ message: 'and show it to me' }).select();
    expect(representation.status).toBe(401);
    expect(representation.error?.code).toBe('42501');
    expect(await anonClient().from('feedback').select()).toMatchObject({ data: [], error: null });
  });

  it('service_role bypasses RLS', async () => {
    const { client } = await userClient();
    await client.from('secrets').insert({ content: 'visible to service' });
    const res = await serviceClient().from('secrets').select('id', { count: 'exact', head: true });
    expect(res.count).toBeGreaterThan(0);
  });
});

describe('request errors', () => {
  it('unknown table: 404 PGRST205', async () => {
    const res = await anonClient().from('nope').select();
    expect(res.status).toBe(404);
    expect(res.error).toMatchObject({ code: 'PGRST205', message: "Could not find the table 'rest_fixture.nope' in the schema cache" });
  });

  it('suggests a close table name', async () => {
    const res = await anonClient().from('vendor').select();
    expect(res.error?.hint).toBe("Perhaps you meant the table 'rest_fixture.vendors'");
    expect((await anonClient().from('zzzz').select()).error?.hint).toBeNull();
  });

  it('unknown column: 400 42703', async () => {
    const res = await anonClient().from('vendors').select('id, nope');
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: '42703', message: 'column vendors.nope does not exist' });
  });

  it('malformed select, filter, order and limit: 400 PGRST100', async () => {
    for (const qs of ['select=id,(', 'id=zz.1', 'id=eq', 'order=id.sideways', 'limit=ten', 'or=(id.eq.1', 'in=in.1,2', 'id=in.(1,2']) {
      const res = await rest(`/vendors?${qs}`);
      expect(res.status, qs).toBe(400);
      expect((await res.json()).code, qs).toBe('PGRST100');
    }
  });

  it('a value of the wrong type: 400 22P02', async () => {
    const res = await anonClient().from('vendors').select('id').eq('id', 'abc');
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe('22P02');
  });

  it('a schema that is not exposed: 406 PGRST106', async () => {
    const client = testClient({ db: { schema: 'auth' } });
    const res = await client.from('users').select();
    expect(res.status).toBe(406);
    expect(res.error).toMatchObject({ code: 'PGRST106', message: 'Invalid schema: auth' });
  });

  it('an invalid path: 404 PGRST125; an unsupported method: 405', async () => {
    const path = await rest('/vendors/1');
    expect(path.status).toBe(404);
    expect((await path.json()).code).toBe('PGRST125');
    const method = await rest('/vendors', { method: 'COPY' });
    expect(method.status).toBe(405);
  });

  it('describes the exposed schema as OpenAPI at the root', async () => {
    const res = await rest('/');
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.swagger).toBe('2.0');
    expect(Object.keys(doc.definitions)).toContain('vendors');
    expect(doc.paths['/rpc/add']).toBeDefined();
  });
});

describe('hostile input never reaches SQL', () => {
  const attempts = [
    'select=id;drop table rest_fixture.notes',
    'select=id,"name""; drop table rest_fixture.notes; --"',
    'select=name::text;drop table rest_fixture.notes',
    'select=meta->>x\');drop table rest_fixture.notes;--',
    'id;drop table rest_fixture.notes=eq.1',
    'order=id;drop table rest_fixture.notes',
    'order=id.desc;delete from rest_fixture.notes',
    'select=id,categories!inner;drop(id)',
    'meta->x\'\'=eq.1',
    'select=id,pg_sleep(10)',
    'select=id&id=eq.1) or (1=1',
  ];
  for (const qs of attempts) {
    it(`rejects ${qs}`, async () => {
      const res = await rest(`/vendors?${qs.replace(/ /g, '%20').replace(/#/g, '%23')}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = await res.json();
      expect(body.code).toMatch(/^(PGRST1\d\d|PGRST2\d\d|42703|22P02)$/);
    });
  }

  it('values are parameters: a quote in a filter value matches literally', async () => {
    const res = await anonClient().from('vendors').select('id').eq('name', "Mama Put' or '1'='1");
    expect(res.data).toEqual([]);
    const [{ n }] = await serviceSql()`select count(*)::int as n from rest_fixture.notes`;
    expect(n).toBeGreaterThanOrEqual(0);
  });
});

describe('schema cache', () => {
  // Polls until the schema cache has (`visible`) or lacks (PGRST205) the table, or 10 s pass; returns the last answer.
  async function untilVisible(table: string, visible: boolean) {
    const deadline = Date.now() + 10_000;
    const done = (res: { error: { code: string } | null }) => (visible ? !res.error : res.error?.code === 'PGRST205');
    let res = await anonClient().from(table).select();
    while (!done(res) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      res = await anonClient().from(table).select();
    }
    return res;
  }

  it('DDL reloads it by itself, through the pgrst_ddl_watch and pgrst_drop_watch event triggers', async () => {
    const table = `ddl_${Math.random().toString(36).slice(2, 8)}`;
    const sql = serviceSql();
    const [triggers] = await sql`select array_agg(evtname::text order by evtname) as names from pg_event_trigger where evtname like 'pgrst_%' and evtenabled = 'O'`;
    expect(triggers.names).toEqual(['pgrst_ddl_watch', 'pgrst_drop_watch']);
    await sql.unsafe(`create table ${SCHEMA}.${table} (id int primary key); grant select on ${SCHEMA}.${table} to anon`);
    const created = await untilVisible(table, true);
    expect(created.error).toBeNull();
    expect(created.data).toEqual([]);
    await sql.unsafe(`drop table ${SCHEMA}.${table}`);
    expect((await untilVisible(table, false)).error?.code).toBe('PGRST205');
  });

  it("reloads on NOTIFY pgrst, 'reload schema'", async () => {
    const table = `probe_${Math.random().toString(36).slice(2, 8)}`;
    const sql = serviceSql();
    // Created with the event triggers held back (replica mode, as supabase_admin), so only the NOTIFY below reloads.
    await platformSql().begin((tx) => tx.unsafe(`set local session_replication_role = replica; create table ${SCHEMA}.${table} (id int primary key); grant select on ${SCHEMA}.${table} to anon`));
    try {
      const before = await anonClient().from(table).select();
      expect(before.error?.code).toBe('PGRST205');
      await sql`notify pgrst, 'reload schema'`;
      const deadline = Date.now() + 10_000;
      let res = await anonClient().from(table).select();
      while (res.error && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        res = await anonClient().from(table).select();
      }
      expect(res.error).toBeNull();
      expect(res.data).toEqual([]);
    } finally {
      await sql.unsafe(`drop table ${SCHEMA}.${table}`);
      await sql`notify pgrst, 'reload schema'`;
    }
  });

  it('user tokens carry their claims into request.jwt.claims', async () => {
    const token = await userToken(undefined, { app_metadata: { tier: 'gold' } });
    const res = await rest('/rpc/whoami', { method: 'POST', headers: { ...withToken(token), 'content-type': 'application/json' }, body: '{}' });
    expect((await res.json()).role).toBe('authenticated');
  });
});
