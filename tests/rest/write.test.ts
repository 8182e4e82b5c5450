// Writes through supabase-js: insert (single, bulk, missing=default), upsert
// (merge and ignore, on_conflict), update and delete with filters, the Prefer
// values (return, count, tx=rollback, max-affected) and the errors PostgREST gives.
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { anonClient, ensureFixture, rest, serviceClient, serviceKey, unique } from './fixture.ts';

beforeAll(ensureFixture);
const db = () => serviceClient();

describe('insert', () => {
  it('inserts one row and returns it with select()', async () => {
    const title = `one ${unique()}`;
    const res = await db().from('notes').insert({ title, score: 3 }).select('title, score, body').single();
    expect(res.status).toBe(201);
    expect(res.data).toEqual({ title, score: 3, body: 'empty' });
  });

  it('answers 201 without a body for return=minimal', async () => {
    const title = `minimal ${unique()}`;
    const res = await db().from('notes').insert({ title });
    expect(res.status).toBe(201);
    expect(res.data).toBeNull();
    const check = await db().from('notes').select('title').eq('title', title);
    expect(check.data).toEqual([{ title }]);
  });

  it('bulk inserts with columns=, nulls for missing keys by default', async () => {
    const tag = unique();
    const res = await db().from('notes').insert([{ title: `a ${tag}`, body: 'x' }, { title: `b ${tag}` }]).select('title, body').order('title');
    expect(res.error).toBeNull();
    expect(res.data).toEqual([{ title: `a ${tag}`, body: 'x' }, { title: `b ${tag}`, body: null }]);
  });

  it('uses column defaults for missing keys with defaultToNull: false (missing=default)', async () => {
    const tag = unique();
    const res = await db().from('notes').insert([{ title: `a ${tag}`, body: 'x' }, { title: `b ${tag}` }], { defaultToNull: false }).select('title, body, score, created_by');
    expect(res.error).toBeNull();
    expect(res.data).toEqual([
      { title: `a ${tag}`, body: 'x', score: 0, created_by: 'service_role' },
      { title: `b ${tag}`, body: 'empty', score: 0, created_by: 'service_role' },
    ]);
  });

  it('takes the identity default for a row missing the identity column (missing=default)', async () => {
    const tag = unique();
    const id = 800_000_000 + Math.floor(Math.random() * 1_000_000);
    const res = await db().from('notes').insert([{ id, title: `i1 ${tag}` }, { title: `i2 ${tag}` }], { defaultToNull: false }).select('id, title');
    expect(res.error).toBeNull();
    expect(res.data![0]).toEqual({ id, title: `i1 ${tag}` });
    expect(res.data![1].id).toEqual(expect.any(Number));
    expect(res.data![1].id).not.toBe(id);
  });

  it('missing=default evaluates the defaults for every row, as PostgREST does: a row giving the id still takes a sequence value', async () => {
    const sql = serviceSql();
    const [{ next }] = await sql`select nextval(pg_get_serial_sequence('rest_fixture.tickets', 'id'))::int as next`;
    const res = await db().from('tickets').insert([{ id: 1_000_000 + next, label: 'given' }, { label: 'defaulted' }], { defaultToNull: false }).select('id, label');
    expect(res.error).toBeNull();
    expect(res.data).toEqual([{ id: 1_000_000 + next, label: 'given' }, { id: next + 2, label: 'defaulted' }]);
  });

  it('counts inserted rows with count: exact', async () => {
    const tag = unique();
    const res = await db().from('notes').insert([{ title: `c1 ${tag}` }, { title: `c2 ${tag}` }], { count: 'exact' });
    expect(res.count).toBe(2);
  });

  it('gives a Location for return=headers-only', async () => {
    const res = await rest('/notes', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'return=headers-only' }, body: JSON.stringify({ title: `loc ${unique()}` }) });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(/^\/notes\?id=eq\.\d+$/);
  });

  it('stores JSON values as jsonb', async () => {
    const res = await db().from('notes').insert({ title: `json ${unique()}`, extra: { a: [1, 2], b: { c: null } } }).select('extra').single();
    expect(res.data).toEqual({ extra: { a: [1, 2], b: { c: null } } });
  });
});

describe('upsert', () => {
  it('merges duplicates on the on_conflict column', async () => {
    const tag = unique();
    await db().from('notes').insert({ title: 'first', tag, score: 1 });
    const res = await db().from('notes').upsert({ title: 'second', tag, score: 2 }, { onConflict: 'tag' }).select('title, tag, score');
    // PostgREST 12+: the upsert updated the row and inserted none, so 200.
    expect(res.status).toBe(200);
    expect(res.data).toEqual([{ title: 'second', tag, score: 2 }]);
  });

  it('ignores duplicates with ignoreDuplicates', async () => {
    const tag = unique();
    await db().from('notes').insert({ title: 'kept', tag });
    const res = await db().from('notes').upsert({ title: 'dropped', tag }, { onConflict: 'tag', ignoreDuplicates: true }).select('title');
    expect(res.data).toEqual([]);
    const check = await db().from('notes').select('title').eq('tag', tag).single();
    expect(check.data).toEqual({ title: 'kept' });
  });

  it('answers 201 when an upsert inserts a row, also beside updated ones', async () => {
    const tag = unique();
    const fresh = await db().from('notes').upsert({ title: 'new', tag }, { onConflict: 'tag' }).select('title');
    expect(fresh.status).toBe(201);
    const mixed = await db().from('notes').upsert([{ title: 'again', tag }, { title: 'other', tag: `${tag}-2` }], { onConflict: 'tag' }).select('title').order('title');
    expect(mixed.status).toBe(201);
    expect(mixed.data).toEqual([{ title: 'again' }, { title: 'other' }]);
    // ignore-duplicates keeps 201 even when nothing was inserted, as PostgREST does.
    const ignored = await db().from('notes').upsert({ title: 'dropped', tag }, { onConflict: 'tag', ignoreDuplicates: true }).select('title');
    expect(ignored.status).toBe(201);
  });

  it('updates the conflict columns to themselves for a payload of only them, and returns the row', async () => {
    const code = unique();
    await db().from('labels').insert({ code, note: 'kept' });
    const res = await db().from('labels').upsert({ code }).select('code, note');
    expect(res.status).toBe(200);
    expect(res.data).toEqual([{ code, note: 'kept' }]);
    const byConflict = await db().from('labels').upsert({ code }, { onConflict: 'code' }).select('note').single();
    expect(byConflict.data).toEqual({ note: 'kept' });
  });

  it('upserts on the primary key by default', async () => {
    const { data } = await db().from('notes').insert({ title: 'pk' }).select('id').single();
    const res = await db().from('notes').upsert({ id: data!.id, title: 'pk updated' }).select('id, title');
    expect(res.data).toEqual([{ id: data!.id, title: 'pk updated' }]);
  });
});

describe('update and delete', () => {
  it('updates the filtered rows and returns them', async () => {
    const tag = unique();
    await db().from('notes').insert([{ title: `u1 ${tag}`, score: 1 }, { title: `u2 ${tag}`, score: 5 }]);
    const res = await db().from('notes').update({ score: 9 }).like('title', `%${tag}`).lt('score', 3).select('title, score');
    expect(res.status).toBe(200);
    expect(res.data).toEqual([{ title: `u1 ${tag}`, score: 9 }]);
  });

  it('answers 204 for an update without select()', async () => {
    const tag = unique();
    await db().from('notes').insert({ title: `n ${tag}` });
    const res = await db().from('notes').update({ body: 'changed' }).eq('title', `n ${tag}`);
    expect(res.status).toBe(204);
  });

  it('deletes the filtered rows, with count', async () => {
    const tag = unique();
    await db().from('notes').insert([{ title: `d1 ${tag}` }, { title: `d2 ${tag}` }]);
    const res = await db().from('notes').delete({ count: 'exact' }).like('title', `%${tag}`).select('title').order('title');
    expect(res.data).toEqual([{ title: `d1 ${tag}` }, { title: `d2 ${tag}` }]);
    expect(res.count).toBe(2);
    const left = await db().from('notes').select('id').like('title', `%${tag}`);
    expect(left.data).toEqual([]);
  });

  it('refuses an update or delete without filters (pg-safeupdate on Supabase)', async () => {
    const upd = await db().from('notes').update({ body: 'all' }).select();
    expect(upd.status).toBe(400);
    expect(upd.error).toMatchObject({ code: '21000', message: 'UPDATE requires a WHERE clause' });
    const del = await db().from('notes').delete();
    expect(del.status).toBe(400);
    expect(del.error).toMatchObject({ code: '21000', message: 'DELETE requires a WHERE clause' });
  });

  it('limits an update with order and limit', async () => {
    const tag = unique();
    await db().from('notes').insert([{ title: `l1 ${tag}` }, { title: `l2 ${tag}` }, { title: `l3 ${tag}` }]);
    const res = await rest(`/notes?title=like.*${tag}&order=title.desc&limit=1&select=title`, {
      method: 'PATCH', headers: { 'content-type': 'application/json', prefer: 'return=representation', authorization: `Bearer ${serviceKey()}` }, body: JSON.stringify({ score: 7 }),
    });
    expect(await res.json()).toEqual([{ title: `l3 ${tag}` }]);
  });
});

describe('preferences', () => {
  it('tx=rollback (rollback()) shows the result and keeps nothing', async () => {
    const title = `rolled back ${unique()}`;
    const res = await db().from('notes').insert({ title }).select('title').rollback();
    expect(res.data).toEqual([{ title }]);
    const check = await db().from('notes').select('id').eq('title', title);
    expect(check.data).toEqual([]);
  });

  it('max-affected with handling=strict refuses and rolls back a larger change', async () => {
    const tag = unique();
    await db().from('notes').insert([{ title: `m1 ${tag}` }, { title: `m2 ${tag}` }]);
    // maxAffected() is typed for PostgREST 13+ servers only; the untyped client here needs the cast.
    const res = await (db().from('notes').update({ score: 100 }).like('title', `%${tag}`) as any).maxAffected(1);
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: 'PGRST124', details: 'The query affects 2 rows' });
    const check = await db().from('notes').select('score').like('title', `%${tag}`);
    expect(check.data).toEqual([{ score: 0 }, { score: 0 }]);
    const ok = await (db().from('notes').update({ score: 1 }).like('title', `m1 ${tag}`) as any).maxAffected(1);
    expect(ok.error).toBeNull();
  });

  it('handling=strict rejects unknown preferences with PGRST122', async () => {
    const res = await rest('/vendors', { headers: { prefer: 'handling=strict, bogus=1' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'PGRST122', details: 'Invalid preferences: bogus=1' });
    const lenient = await rest('/vendors?limit=1', { headers: { prefer: 'bogus=1' } });
    expect(lenient.status).toBe(200);
  });

  it('Prefer: timezone= sets the time zone of the transaction', async () => {
    const res = await rest('/rpc/current_timezone', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'timezone=Africa/Lagos' }, body: '{}' });
    expect(await res.json()).toBe('Africa/Lagos');
    expect(res.headers.get('preference-applied')).toBe('timezone=Africa/Lagos');
    const bad = await rest('/rpc/current_timezone', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'handling=strict, timezone=Mars/Olympus' }, body: '{}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('PGRST122');
  });

  it('echoes applied preferences', async () => {
    const res = await rest('/notes', { method: 'POST', headers: { 'content-type': 'application/json', prefer: 'return=minimal, tx=rollback' }, body: JSON.stringify({ title: 'x' }) });
    expect(res.headers.get('preference-applied')).toBe('return=minimal, tx=rollback');
  });
});

describe('write errors', () => {
  it('unknown column in the payload: 400 PGRST204', async () => {
    const res = await db().from('notes').insert({ title: 'x', nope: 1 });
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: 'PGRST204', message: "Could not find the 'nope' column of 'notes' in the schema cache" });
  });

  it('invalid JSON: 400 PGRST102', async () => {
    const res = await rest('/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title": ' });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('PGRST102');
  });

  it('unique violation: 409 23505; foreign key violation: 409 23503; not null: 400 23502', async () => {
    const tag = unique();
    await db().from('notes').insert({ title: 'u', tag });
    const dup = await db().from('notes').insert({ title: 'u2', tag });
    expect(dup.status).toBe(409);
    expect(dup.error?.code).toBe('23505');
    const fk = await db().from('categories').insert({ id: 9999, vendor_id: 9999, name: 'x', position: 1 });
    expect(fk.status).toBe(409);
    expect(fk.error?.code).toBe('23503');
    const nn = await db().from('notes').insert({ body: 'no title' });
    expect(nn.status).toBe(400);
    expect(nn.error?.code).toBe('23502');
  });

  it('a failing row in a bulk insert writes nothing', async () => {
    const tag = unique();
    const res = await db().from('notes').insert([{ title: `ok ${tag}` }, { title: null }]);
    expect(res.error?.code).toBe('23502');
    const check = await db().from('notes').select('id').eq('title', `ok ${tag}`);
    expect(check.data).toEqual([]);
  });

  it('anon without the privilege: 401 42501', async () => {
    const res = await anonClient().from('vendors').insert({ id: 77, name: 'nope' });
    expect(res.status).toBe(401);
    expect(res.error?.code).toBe('42501');
  });
});

describe('representation with embeds', () => {
  it('returns inserted rows with an embedded parent', async () => {
    const id = 5000 + Math.floor(Math.random() * 100000);
    // Rolled back: other test files read the fixture's categories at the same time.
    const res = await serviceClient().from('categories').insert({ id, vendor_id: 2, name: 'Drinks', position: 9 }).select('name, vendors(name)').rollback().single();
    expect(res.data).toEqual({ name: 'Drinks', vendors: { name: 'Suya Spot' } });
  });
});

describe('PUT (single-row upsert by primary key)', () => {
  const put = (qs: string, body: unknown, prefer = 'return=representation') =>
    rest(`/notes?${qs}`, { method: 'PUT', headers: { 'content-type': 'application/json', prefer, authorization: `Bearer ${serviceKey()}` }, body: JSON.stringify(body) });

  it('inserts, then replaces, the row the primary-key filter names', async () => {
    const id = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    const first = await put(`id=eq.${id}&select=id,title`, { id, title: 'put one' });
    // Inserted: 201, as PostgREST answers a PUT that created the row.
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual([{ id, title: 'put one' }]);
    const replaced = await put(`id=eq.${id}&select=title`, { id, title: 'put again' });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual([{ title: 'put again' }]);
    const second = await put(`id=eq.${id}`, { id, title: 'put two' }, 'return=minimal');
    expect(second.status).toBe(204);
    const check = await serviceClient().from('notes').select('title').eq('id', id).single();
    expect(check.data).toEqual({ title: 'put two' });
  });

  it('needs eq filters on exactly the primary key (405 PGRST105) and a matching payload (400 PGRST115)', async () => {
    const noKey = await put('title=eq.x', { id: 1, title: 'x' });
    expect(noKey.status).toBe(405);
    expect((await noKey.json()).code).toBe('PGRST105');
    const mismatch = await put('id=eq.1', { id: 2, title: 'x' });
    expect(mismatch.status).toBe(400);
    expect((await mismatch.json()).code).toBe('PGRST115');
    const limited = await put('id=eq.1&limit=1', { id: 1, title: 'x' });
    expect((await limited.json()).code).toBe('PGRST114');
  });
});
