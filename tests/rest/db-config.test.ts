// PostgREST's in-database configuration: the `pgrst.*` settings of the role it
// logs in as (`alter role authenticator set pgrst.… = …`), and what they turn on:
// aggregates in `select`, the plan media type, and how transactions end. The
// shared stack's authenticator has aggregates and plans on (tests/rest/fixture.ts);
// PostgREST's defaults are checked on private instances logging in as roles of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { ensureFixture, rest, serviceClient, unique } from './fixture.ts';
import { startPrivateRest, type PrivateRest } from './private-rest.ts';

beforeAll(ensureFixture);
const db = () => serviceClient();

describe('aggregates (pgrst.db_aggregates_enabled)', () => {
  it('count() of the rows, grouped by the other columns', async () => {
    expect((await db().from('vendors').select('count()')).data).toEqual([{ count: 5 }]);
    const byCity = await db().from('vendors').select('city, count()').order('city');
    expect(byCity.data).toEqual([{ city: 'Abuja', count: 1 }, { city: 'Ibadan', count: 1 }, { city: 'Lagos', count: 2 }, { city: null, count: 1 }]);
  });

  it('sum, avg, max, min of a column, with aliases and casts on input and output', async () => {
    const res = await db().from('vendors').select('total:rating.sum(), mean:rating.avg()::int, rating.max(), rating.min(), top_id:id::text.max(), n:count()::text');
    expect(res.error).toBeNull();
    expect(res.data).toEqual([{ total: 17.3, mean: 4, max: 4.8, min: 3.9, top_id: '5', n: '5' }]);
  });

  it('inside embeds: count(), col.sum() and the bare `count` PostgREST passes to Postgres', async () => {
    const res = await db().from('vendors').select('id, categories(n:count(), position.sum())').in('id', [1, 2, 4]).order('id');
    expect(res.data).toEqual([
      { id: 1, categories: [{ n: 2, sum: 3 }] },
      { id: 2, categories: [{ n: 1, sum: 1 }] },
      { id: 4, categories: [{ n: 0, sum: null }] },
    ]);
    const bare = await db().from('vendors').select('id, categories(count)').eq('id', 3).single();
    expect(bare.data).toEqual({ id: 3, categories: [{ count: 2 }] });
  });

  it('grouped by embedded resources too (compared as jsonb, as PostgREST embeds)', async () => {
    // Vendors 3 and 5 share (active, no profile): one group of two.
    const res = await db().from('vendors').select('active, count(), profile:vendor_profiles(bio)').order('active');
    expect(res.error).toBeNull();
    expect(res.data).toHaveLength(4);
    expect(res.data).toEqual(expect.arrayContaining([
      { active: false, count: 1, profile: null },
      { active: true, count: 2, profile: null },
      { active: true, count: 1, profile: { bio: 'Home cooking since 1999' } },
      { active: true, count: 1, profile: { bio: 'Best suya in town' } },
    ]));
    const withMany = await db().from('vendors').select('active, count(), categories(position)').eq('active', true);
    expect(withMany.data).toHaveLength(3);
    expect(withMany.data).toEqual(expect.arrayContaining([
      { active: true, count: 2, categories: [{ position: 1 }, { position: 2 }] },
      { active: true, count: 1, categories: [{ position: 1 }] },
      { active: true, count: 1, categories: [] },
    ]));
  });

  it('on the rows of a function, with col.count()', async () => {
    const res = await db().rpc('vendors_in', { city: 'Lagos' }).select('city, n:id.count(), rating.max()');
    expect(res.data).toEqual([{ city: 'Lagos', n: 2, max: 4.5 }]);
  });

  it('an unknown column in an aggregate is 42703, named as PostgREST names embedded relations', async () => {
    const top = await db().from('vendors').select('alias:nope.count()');
    expect(top.error).toMatchObject({ code: '42703', message: 'column vendors.nope does not exist' });
    const nested = await db().from('vendors').select('id, categories(nope.sum())');
    expect(nested.error).toMatchObject({ code: '42703', message: 'column categories_1.nope does not exist' });
  });

  it('a bad aggregate is a parse error, not SQL', async () => {
    const res = await rest('/vendors?select=rating.median()');
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('PGRST100');
  });
});

describe('plans (pgrst.db_plan_enabled)', () => {
  it('Accept: application/vnd.pgrst.plan+json answers the EXPLAIN of the request in JSON', async () => {
    const res = await rest('/vendors?select=id,categories(name)&city=eq.Lagos', { headers: { accept: 'application/vnd.pgrst.plan+json; for="application/json"; options=analyze|verbose;' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.pgrst.plan+json; for="application/json"; charset=utf-8');
    const [plan] = await res.json();
    expect(plan.Plan['Node Type']).toEqual(expect.any(String));
    expect(plan.Plan['Actual Rows']).toEqual(expect.any(Number));
  });

  it("options=verbose|settings shows the query identifier and the settings PostgREST and Supabase's Postgres set", async () => {
    const res = await rest('/vendors?select=id', { headers: { accept: 'application/vnd.pgrst.plan+json; options=verbose|settings' } });
    const [plan] = await res.json();
    expect(plan['Query Identifier']).toEqual(expect.any(Number));
    expect(plan.Settings).toEqual({ effective_cache_size: '128MB', search_path: '"rest_fixture", "public", "extensions"' });
  });

  it('+text answers the text plan; the plan of a write inside tx=rollback changes nothing', async () => {
    const text = await rest('/vendors?select=id', { headers: { accept: 'application/vnd.pgrst.plan+text' } });
    expect(text.headers.get('content-type')).toBe('application/vnd.pgrst.plan+text; for="application/json"; charset=utf-8');
    expect(await text.text()).toMatch(/Aggregate {2}\(cost=/);
    const title = `plan ${unique()}`;
    const write = await rest('/notes', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/vnd.pgrst.plan+json; options=analyze', prefer: 'tx=rollback' }, body: JSON.stringify({ title }) });
    expect(write.status).toBe(200);
    expect((await db().from('notes').select('id').eq('title', title)).data).toEqual([]);
  });
});

describe('defaults and precedence, on private instances', () => {
  let plain: PrivateRest;
  let configured: PrivateRest;
  const suffix = unique().replace(/-/g, '');
  beforeAll(async () => {
    plain = await startPrivateRest(`rest_plain_${suffix}`, {});
    // Role-wide settings, one of them overridden for this database (which PostgREST prefers).
    configured = await startPrivateRest(`rest_tuned_${suffix}`, { 'pgrst.db_aggregates_enabled': 'false', 'pgrst.db_tx_end': 'rollback', 'pgrst.db_max_rows': '2' });
    await serviceSql().unsafe(`alter role rest_tuned_${suffix} in database postgres set pgrst.db_aggregates_enabled = 'true'`);
    await serviceSql()`notify pgrst, 'reload config'`;
  });
  afterAll(async () => {
    await plain?.close();
    await configured?.close();
  });

  it('without settings: aggregates refused (400 PGRST123), no plan media type (406), Prefer: tx ignored', async () => {
    for (const select of ['count()', 'rating.sum()', 'id,categories(count())']) {
      const res = await plain.fetch(`/vendors?select=${select}`);
      expect(res.status, select).toBe(400);
      expect((await res.json()).code, select).toBe('PGRST123');
    }
    const plan = await plain.fetch('/vendors?select=id', { headers: { accept: 'application/vnd.pgrst.plan+json' } });
    expect(plan.status).toBe(406);
    expect((await plan.json()).code).toBe('PGRST107');
    const title = `kept ${unique()}`;
    const write = await plain.fetch('/notes', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'tx=rollback, return=minimal' }, body: JSON.stringify({ title }) });
    expect(write.status).toBe(201);
    expect(write.headers.get('preference-applied')).toBe('return=minimal');
    expect((await db().from('notes').select('title').eq('title', title)).data).toEqual([{ title }]);
  });

  it('db_tx_end = rollback ends every transaction in a rollback, Prefer: tx=commit cannot override it', async () => {
    const title = `rolled back ${unique()}`;
    const write = await configured.fetch('/notes', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'tx=commit, return=representation' }, body: JSON.stringify({ title }) });
    expect(write.status).toBe(201);
    expect(await write.json()).toEqual([expect.objectContaining({ title })]);
    expect((await db().from('notes').select('title').eq('title', title)).data).toEqual([]);
  });

  it('db_max_rows caps reads in place of [api] max_rows', async () => {
    const res = await configured.fetch('/vendors?select=id&order=id');
    expect(await res.json()).toEqual([{ id: 1 }, { id: 2 }]);
    expect(res.headers.get('content-range')).toBe('0-1/*');
  });

  it("a role's setting for this database wins over its role-wide one, re-read on NOTIFY pgrst, 'reload config'", async () => {
    const deadline = Date.now() + 10_000;
    let res = await configured.fetch('/vendors?select=count()');
    while (res.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      res = await configured.fetch('/vendors?select=count()');
    }
    expect(await res.json()).toEqual([{ count: 5 }]);
  });
});
