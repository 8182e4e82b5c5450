// Reads through supabase-js: select, filters, order, limit/offset/Range, counts
// and Content-Range, single objects, CSV and HEAD, as PostgREST answers them.
import { beforeAll, describe, expect, it } from 'vitest';
import { anonClient, ensureFixture, rest } from './fixture.ts';

beforeAll(ensureFixture);
const db = () => anonClient();
const ids = (rows: Array<{ id: number }> | null) => (rows ?? []).map((r) => r.id);

describe('select', () => {
  it('returns chosen columns, aliases, casts and JSON paths', async () => {
    const { data, error } = await db()
      .from('vendors')
      .select('id, label:name, rating::text, fee:meta->delivery->fee, halal:meta->>halal, first_zone:meta->delivery->zones->>0')
      .eq('id', 1)
      .single();
    expect(error).toBeNull();
    expect(data).toEqual({ id: 1, label: 'Mama Put', rating: '4.5', fee: 500, halal: 'true', first_zone: 'ikeja' });
  });

  it('returns every column for * and keeps JSON, arrays and ranges typed', async () => {
    const { data } = await db().from('vendors').select('*').eq('id', 2).single();
    expect(data).toMatchObject({ id: 2, name: 'Suya Spot', rating: 4.8, tags: ['grill', 'local'], meta: { delivery: { fee: 800 }, halal: true }, hours: '[16,24)' });
  });
});

it('computed columns (functions of the row) in select, filters and order', async () => {
  const { data } = await db().from('vendors').select('id, label').in('id', [1, 5]).order('label', { ascending: false });
  expect(data).toEqual([{ id: 1, label: 'Mama Put (Lagos)' }, { id: 5, label: 'Bukka Hut (?)' }]);
  const filtered = await db().from('vendors').select('id').like('label', '%(Abuja)');
  expect(filtered.data).toEqual([{ id: 2 }]);
  const star = await db().from('vendors').select('*').eq('id', 1).single();
  expect(star.data).not.toHaveProperty('label');
});

describe('filters', () => {
  const cases: Array<[string, (q: any) => any, number[]]> = [
    ['eq', (q) => q.eq('city', 'Lagos'), [1, 3]],
    ['neq', (q) => q.neq('city', 'Lagos'), [2, 4]],
    ['gt / lte', (q) => q.gt('rating', 4).lte('rating', 4.5), [1, 5]],
    ['gte / lt', (q) => q.gte('rating', 3.9).lt('rating', 4.5), [3, 5]],
    ['like with *', (q) => q.like('name', '%Pla%'), [3]],
    ['ilike', (q) => q.ilike('name', '%SPOT'), [2]],
    ['match (regex)', (q) => q.match({ city: 'Lagos', active: true }), [1, 3]],
    ['is null', (q) => q.is('city', null), [5]],
    ['not is null', (q) => q.not('rating', 'is', null), [1, 2, 3, 5]],
    ['is false', (q) => q.is('active', false), [4]],
    ['in', (q) => q.in('id', [2, 4, 99]), [2, 4]],
    ['in with quoted commas', (q) => q.in('name', ['Mama Put', 'Suya Spot', 'a,b']), [1, 2]],
    ['not in', (q) => q.not('id', 'in', '(1,2,3)'), [4, 5]],
    ['contains (array)', (q) => q.contains('tags', ['rice']), [1, 5]],
    ['contained by (array)', (q) => q.containedBy('tags', ['rice', 'local', 'grill', 'soup']), [1, 2, 4, 5]],
    ['overlaps (array)', (q) => q.overlaps('tags', ['pizza', 'grill']), [2, 3]],
    ['contains (jsonb)', (q) => q.contains('meta', { halal: true }), [1, 2]],
    ['range contains range via cs', (q) => q.filter('hours', 'cs', '[21,22)'), [1, 2, 3]],
    ['rangeGt (sr)', (q) => q.rangeGt('hours', '[1,9)'), [2, 3]],
    ['rangeLt (sl)', (q) => q.rangeLt('hours', '[23,30)'), [1, 3, 5]],
    ['rangeGte (nxl)', (q) => q.rangeGte('hours', '[10,12)'), [2, 3]],
    ['rangeLte (nxr)', (q) => q.rangeLte('hours', '[0,22)'), [1, 5]],
    ['rangeAdjacent', (q) => q.rangeAdjacent('hours', '[22,23)'), [1]],
    ['isdistinct', (q) => q.filter('city', 'isdistinct', 'Lagos'), [2, 4, 5]],
    ['imatch', (q) => q.filter('name', 'imatch', '^(mama|suya)'), [1, 2]],
    ['match', (q) => q.filter('name', 'match', 'Hut$'), [5]],
    ['full text on tsvector', (q) => q.textSearch('search', 'pizza'), [3]],
    ['full text on text with config, websearch', (q) => q.textSearch('name', 'mama or suya', { type: 'websearch', config: 'english' }), [1, 2]],
    ['plain full text', (q) => q.textSearch('name', 'suya spot', { type: 'plain' }), [2]],
    ['phrase full text', (q) => q.textSearch('name', 'closed kitchen', { type: 'phrase' }), [4]],
    ['JSON path text filter', (q) => q.eq('meta->delivery->>fee', '500'), [1]],
    ['JSON path jsonb filter', (q) => q.eq('meta->halal', true), [1, 2]],
    ['or', (q) => q.or('city.eq.Abuja,rating.lt.4'), [2, 3]],
    ['or with nested and / not', (q) => q.or('and(city.eq.Lagos,rating.gt.4),rating.not.gte.3'), [1]],
    ['or with in and quoted values', (q) => q.or('id.in.(4,5),name.eq."Mama Put"'), [1, 4, 5]],
    ['or with cs array', (q) => q.or('tags.cs.{pizza},tags.cs.{soup}'), [3, 5]],
    ['like(any) quantifier', (q) => q.likeAnyOf('name', ['Mama*', 'Pizza*']), [1, 3]],
    ['eq(any) quantifier', (q) => q.filter('id', 'eq(any)', '{1,5}'), [1, 5]],
  ];
  for (const [name, apply, expected] of cases) {
    it(name, async () => {
      const { data, error } = await apply(db().from('vendors').select('id')).order('id');
      expect(error).toBeNull();
      expect(ids(data)).toEqual(expected);
    });
  }
});

it('negates a whole logic tree with not.or', async () => {
  const res = await rest('/vendors?select=id&not.or=(city.eq.Lagos,city.is.null)&order=id');
  expect(await res.json()).toEqual([{ id: 2 }, { id: 4 }]);
});

describe('order, limit, offset and ranges', () => {
  it('orders with direction and nulls placement', async () => {
    const { data } = await db().from('vendors').select('id').order('rating', { ascending: false, nullsFirst: true });
    expect(ids(data)).toEqual([4, 2, 1, 5, 3]);
    const last = await db().from('vendors').select('id').order('city', { ascending: true, nullsFirst: false }).order('id', { ascending: false });
    expect(ids(last.data)).toEqual([2, 4, 3, 1, 5]);
  });

  it('orders by a JSON path', async () => {
    const { data } = await db().from('vendors').select('id').not('meta->delivery->fee', 'is', null).order('meta->delivery->fee', { ascending: false });
    expect(ids(data)).toEqual([2, 1, 3]);
  });

  it('limits and offsets with range()', async () => {
    const { data } = await db().from('vendors').select('id').order('id').range(1, 2);
    expect(ids(data)).toEqual([2, 3]);
    const lim = await db().from('vendors').select('id').order('id').limit(2);
    expect(ids(lim.data)).toEqual([1, 2]);
  });

  it('honours a Range header from other clients', async () => {
    const res = await rest('/vendors?select=id&order=id', { headers: { range: '2-3', 'range-unit': 'items' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ id: 3 }, { id: 4 }]);
    expect(res.headers.get('content-range')).toBe('2-3/*');
  });
});

describe('counts and Content-Range', () => {
  it('exact count with a partial page answers 206 and the total', async () => {
    const res = await db().from('vendors').select('id', { count: 'exact' }).order('id').range(0, 1);
    expect(res.status).toBe(206);
    expect(res.count).toBe(5);
    expect(ids(res.data)).toEqual([1, 2]);
    const raw = await rest('/vendors?select=id&limit=2', { headers: { prefer: 'count=exact' } });
    expect(raw.headers.get('content-range')).toBe('0-1/5');
  });

  it('exact count of a full page answers 200', async () => {
    const res = await db().from('vendors').select('id', { count: 'exact' }).eq('city', 'Lagos');
    expect(res.status).toBe(200);
    expect(res.count).toBe(2);
  });

  it('planned and estimated counts come back as numbers', async () => {
    for (const count of ['planned', 'estimated'] as const) {
      const res = await db().from('vendors').select('id', { count });
      expect(res.error).toBeNull();
      expect(typeof res.count).toBe('number');
    }
  });

  it('head: true gives the count without a body', async () => {
    const res = await db().from('vendors').select('*', { count: 'exact', head: true }).eq('active', true);
    expect(res.status).toBe(200);
    expect(res.count).toBe(4);
    expect(res.data).toBeNull();
  });

  it('an offset past the end answers 416 PGRST103', async () => {
    const res = await db().from('vendors').select('id', { count: 'exact' }).range(10, 12);
    expect(res.status).toBe(416);
    expect(res.error?.code).toBe('PGRST103');
    expect(res.error?.details).toBe('An offset of 10 was requested, but there are only 5 rows.');
  });

  it('an empty result has Content-Range */0 with an exact count', async () => {
    const raw = await rest('/vendors?id=eq.999', { headers: { prefer: 'count=exact' } });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-range')).toBe('*/0');
    expect(await raw.json()).toEqual([]);
  });
});

describe('media types', () => {
  it('single() returns an object, and 406 PGRST116 for zero or many rows', async () => {
    const one = await db().from('vendors').select('name').eq('id', 3).single();
    expect(one.data).toEqual({ name: 'Pizza Place' });
    const none = await db().from('vendors').select('name').eq('id', 99).single();
    expect(none.status).toBe(406);
    expect(none.error).toMatchObject({ code: 'PGRST116', message: 'Cannot coerce the result to a single JSON object', details: 'The result contains 0 rows' });
    const many = await db().from('vendors').select('name').single();
    expect(many.error?.details).toBe('The result contains 5 rows');
  });

  it('maybeSingle() gives null for no row', async () => {
    const res = await db().from('vendors').select('name').eq('id', 99).maybeSingle();
    expect(res.error).toBeNull();
    expect(res.data).toBeNull();
  });

  it('csv() returns text/csv with a header line, values quoted as Postgres quotes a record (here: spaces)', async () => {
    const res = await db().from('vendors').select('id, name, city').in('id', [1, 5]).order('id').csv();
    expect(res.data).toBe('id,name,city\n1,"Mama Put",Lagos\n5,"Bukka Hut",');
  });

  it("csv() writes values in Postgres's text form, as PostgREST does: jsonb spacing, t/f, arrays, ranges, embedded JSON", async () => {
    const res = await db().from('vendors').select('id, tags, meta, active, hours, rating, profile:vendor_profiles(bio)').eq('id', 1).csv();
    expect(res.error).toBeNull();
    expect(res.data).toBe(
      'id,tags,meta,active,hours,rating,profile\n'
      + '1,"{rice,local}","{""halal"": true, ""delivery"": {""fee"": 500, ""zones"": [""ikeja"", ""yaba""]}}",t,"[8,22)",4.5,"{""bio"":""Home cooking since 1999""}"',
    );
    const empty = await db().from('vendors').select('id').eq('id', -1).csv();
    expect(empty.data).toBe('\n');
  });

  it('stripNulls() leaves out null fields', async () => {
    const res = await db().from('vendors').select('id, city, rating').eq('id', 4).stripNulls();
    expect(res.data).toEqual([{ id: 4, city: 'Ibadan' }]);
  });

  it('an unsupported Accept answers 406 PGRST107', async () => {
    const res = await rest('/vendors', { headers: { accept: 'application/xml' } });
    expect(res.status).toBe(406);
    expect((await res.json()).code).toBe('PGRST107');
  });

  it('HEAD answers headers only', async () => {
    const res = await rest('/vendors?select=id', { method: 'HEAD', headers: { prefer: 'count=exact' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBe('0-4/5');
    expect(await res.text()).toBe('');
  });
});

it('accepts a long in() list (one array parameter)', async () => {
  const list = Array.from({ length: 2_500 }, (_, i) => i + 1);
  const res = await rest(`/vendors?select=id&order=id&id=in.(${list.join(',')})`);
  expect(res.status).toBe(200);
  expect((await res.json()).map((r: { id: number }) => r.id)).toEqual([1, 2, 3, 4, 5]);
});
