// Functions through supabase-js rpc(): named arguments, GET for stable
// functions, scalar / composite / set-returning results (filterable and
// orderable), single json parameters, void → 204, and function errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { anonClient, ensureFixture, rest, serviceClient, unique, userClient } from './fixture.ts';

beforeAll(ensureFixture);
const db = () => anonClient();

describe('rpc', () => {
  it('calls a scalar function with named arguments (POST and GET)', async () => {
    const post = await db().rpc('add', { a: 2, b: 40 });
    expect(post).toMatchObject({ data: 42, status: 200, error: null });
    const get = await db().rpc('add', { a: 1, b: 2 }, { get: true });
    expect(get.data).toBe(3);
  });

  it('filters, orders and limits a set-returning function', async () => {
    const { data } = await db().rpc('vendors_in', { city: 'Lagos' }).select('id, name').gt('rating', 4).order('id', { ascending: false });
    expect(data).toEqual([{ id: 1, name: 'Mama Put' }]);
    const limited = await db().rpc('item_prices', { min_price: 150000 }).order('price', { ascending: false }).limit(2);
    expect(limited.data).toEqual([{ item: 'Margherita', price: 500000 }, { item: 'Beef suya', price: 250000 }]);
  });

  it('embeds from a function returning table rows', async () => {
    const { data } = await db().rpc('vendors_in', { city: 'Abuja' }).select('name, categories(name)');
    expect(data).toEqual([{ name: 'Suya Spot', categories: [{ name: 'Grills' }] }]);
  });

  it('returns a single composite as an object', async () => {
    const { data } = await db().rpc('get_vendor', { vid: 3 }).select('id, name');
    expect(data).toEqual({ id: 3, name: 'Pizza Place' });
  });

  it('returns setof scalars as an array, with defaults for missing arguments', async () => {
    expect((await db().rpc('numbers', { n: 3 })).data).toEqual([1, 2, 3]);
    const all = await db().rpc('item_prices');
    expect(all.data).toHaveLength(6);
  });

  it('counts a set-returning function with count: exact and head', async () => {
    const res = await db().rpc('numbers', { n: 7 }, { count: 'exact', head: true });
    expect(res.count).toBe(7);
    expect(res.data).toBeNull();
  });

  it('passes the whole body to a single unnamed json parameter', async () => {
    const { data } = await db().rpc('echo', { any: ['shape', 1] });
    expect(data).toEqual({ any: ['shape', 1] });
  });

  it('Prefer: params=single-object passes the body to a one-json-argument function', async () => {
    const res = await rest('/rpc/echo_object', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'params=single-object' }, body: JSON.stringify({ x: 1 }) });
    expect(await res.json()).toEqual({ x: 1 });
  });

  it('void functions answer 204', async () => {
    const { data: note } = await serviceClient().from('notes').insert({ title: `bump ${unique()}` }).select('id').single();
    const res = await serviceClient().rpc('bump_note', { note_id: note!.id });
    expect(res.status).toBe(204);
    const check = await serviceClient().from('notes').select('score').eq('id', note!.id).single();
    expect(check.data).toEqual({ score: 1 });
  });

  it('runs as the caller, with request.method, request.path and request.headers set', async () => {
    const anon = await rest('/rpc/whoami', { method: 'POST', headers: { 'content-type': 'application/json', 'x-test': 'hello' }, body: '{}' });
    expect(await anon.json()).toEqual({ role: 'anon', sub: null, method: 'POST', path: '/rpc/whoami', header: 'hello' });
    const { client, sub } = await userClient();
    const user = await client.rpc('whoami', {}, { get: true });
    expect(user.data).toMatchObject({ role: 'authenticated', sub, method: 'GET' });
  });

  it('GET runs read-only: a volatile function that writes answers 405 25006', async () => {
    const res = await serviceClient().rpc('bump_note', { note_id: 1 }, { get: true });
    expect(res.status).toBe(405);
    expect(res.error?.code).toBe('25006');
  });

  it('response.headers and response.status set in SQL reach the client', async () => {
    const res = await rest('/rpc/with_headers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-fixture')).toBe('set-by-sql');
  });
});

describe('rpc errors', () => {
  it('unknown function or arguments: 404 PGRST202', async () => {
    const res = await db().rpc('add', { a: 1, c: 2 });
    expect(res.status).toBe(404);
    expect(res.error).toMatchObject({ code: 'PGRST202', message: 'Could not find the function rest_fixture.add(a, c) in the schema cache' });
    const none = await db().rpc('no_such_function');
    expect(none.error?.message).toBe('Could not find the function rest_fixture.no_such_function without parameters in the schema cache');
  });

  it('suggests a close function name or parameter list', async () => {
    expect((await db().rpc('numbrs', { n: 1 })).error?.hint).toBe('Perhaps you meant to call the function rest_fixture.numbers');
    expect((await db().rpc('add', { a: 1, c: 2 })).error?.hint).toBe('Perhaps you meant to call the function rest_fixture.add(a, b)');
  });

  it('calls a function of one unnamed parameter with {"": value}, passing the body positionally', async () => {
    const res = await db().rpc('echo_text', { '': 'hi' });
    expect(res.error).toBeNull();
    expect(res.data).toBe('{"":"hi"}');
  });

  it('{} and {"": value} choose different overloads, also when the first call is remembered', async () => {
    expect((await db().rpc('either')).data).toBe('none');
    expect((await db().rpc('either', { '': 'x' })).data).toBe('text');
    expect((await db().rpc('either')).data).toBe('none');
  });

  it('ambiguous overloads: 300 PGRST203 listing candidates in PostgREST order', async () => {
    const res = await db().rpc('pick', { a: 1 });
    expect(res.status).toBe(300);
    expect(res.error).toMatchObject({
      code: 'PGRST203',
      message: 'Could not choose the best candidate function between: rest_fixture.pick(a => integer), rest_fixture.pick(a => text)',
      hint: 'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    });
    const none = await db().rpc('optional');
    expect(none.status).toBe(300);
    expect(none.error?.message).toBe('Could not choose the best candidate function between: rest_fixture.optional(), rest_fixture.optional( => text)');
    const given = await db().rpc('optional', { '': 'y' });
    expect(given.data).toBe('text');
  });

  it('a function PostgREST cannot call (unnamed row parameter): 404 PGRST202 without a hint', async () => {
    const res = await db().rpc('initials');
    expect(res.status).toBe(404);
    expect(res.error).toMatchObject({ code: 'PGRST202', message: 'Could not find the function rest_fixture.initials without parameters in the schema cache', hint: null });
    // It still works as a computed column.
    const people = await db().from('people').select('name, initials').eq('id', 1).single();
    expect(people.data).toEqual({ name: 'Ada', initials: 'A' });
  });

  it('raise exception: 400 P0001 with message and hint', async () => {
    const res = await db().rpc('fail', { message: 'Vendor is closed' });
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: 'P0001', message: 'Vendor is closed', hint: 'fixture hint' });
  });

  it("raise sqlstate 'PGRST' controls status, body and headers", async () => {
    const res = await rest('/rpc/teapot', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(418);
    expect(res.headers.get('x-teapot')).toBe('yes');
    expect(await res.json()).toEqual({ code: 'T001', message: 'I am a teapot', details: 'short and stout', hint: null });
  });

  it('a bad argument value: 400 22P02', async () => {
    const res = await db().rpc('add', { a: 'one', b: 2 });
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe('22P02');
  });

  it('other methods on /rpc: 405 PGRST101', async () => {
    const res = await rest('/rpc/add', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(405);
    expect((await res.json()).code).toBe('PGRST101');
  });
});
