// Random query strings, headers and bodies (seeded, bounded): /rest/v1 must
// answer every one with a non-5xx status and stay up. Writes carry
// Prefer: tx=rollback so the shared fixture never changes.
import { beforeAll, expect, it } from 'vitest';
import { ensureFixture, rest, serviceKey } from './fixture.ts';

beforeAll(ensureFixture);

const SEED = 20261124;
const CASES = 2500;
const CONCURRENCY = 8;

/** mulberry32: a small deterministic PRNG, so a failing case can be replayed from the seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TABLES = ['vendors', 'categories', 'items', 'available_items', 'modifiers', 'item_modifiers', 'people', 'messages', 'notes', 'secrets', 'vendor_profiles', 'nope', 'rpc/add', 'rpc/vendors_in', 'rpc/numbers', 'rpc/echo', 'rpc/whoami', 'rpc/missing', ''];
const COLUMNS = ['id', 'name', 'city', 'rating', 'tags', 'meta', 'active', 'hours', 'search', 'title', 'score', 'price', 'vendor_id', 'category_id', 'a', 'b', 'n', 'nope', '*', 'meta->delivery->>fee', 'meta->0', 'tags->1'];
const EMBEDS = ['categories', 'items', 'vendors', 'modifiers', 'people', 'people!sender_id', 'categories!inner', 'vendor_profiles', 'nope', 'x:items', '...vendors', '...categories', 'available_items', 'manager_id', 'people!manager_id'];
const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'is', 'isdistinct', 'in', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts', 'not.eq', 'eq(any)', 'like(all)', 'fts(english)', 'bogus', ''];
const VALUES = ['1', '0', '-1', 'abc', 'null', 'true', 'not_null', '(1,2)', '(a,"b,c")', '{a,b}', '{1,2}', '[1,5)', '"quoted"', '', '*', '%', "'", '\\', '1e400', '999999999999999999999', '{"a":1}', '()', '((', 'ß∂ƒ', '\u0000', '%00', '2026-01-01'];
const JUNK = ['(', ')', ',', '.', ':', '::', '!', '->', '->>', '"', "'", ';', '--', '/*', '\\', '%', '&', '=', '*', ' ', '\t', '\n', 'select', 'drop', '$1', '\u0000', '💥'];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

function selectParam(r: () => number, depth = 0): string {
  const n = 1 + Math.floor(r() * 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.5) parts.push(pick(r, COLUMNS) + (r() < 0.2 ? `::${pick(r, ['text', 'int', 'json', 'bogus', 'text[]', 'x y'])}` : ''));
    else if (x < 0.65) parts.push(`${pick(r, ['alias', 'a b', '"q"'])}:${pick(r, COLUMNS)}`);
    else if (x < 0.85 && depth < 3) parts.push(`${pick(r, EMBEDS)}(${selectParam(r, depth + 1)})`);
    else parts.push(pick(r, JUNK) + pick(r, COLUMNS));
  }
  return parts.join(',');
}

function filterValue(r: () => number): string {
  return `${pick(r, OPS)}.${pick(r, VALUES)}`;
}

function queryString(r: () => number): string {
  const params: string[] = [];
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.25) params.push(`select=${encodeURIComponent(selectParam(r))}`);
    else if (x < 0.55) params.push(`${encodeURIComponent(pick(r, COLUMNS))}=${encodeURIComponent(filterValue(r))}`);
    else if (x < 0.65) params.push(`${pick(r, ['or', 'and', 'not.or', 'categories.or'])}=${encodeURIComponent(`(${pick(r, COLUMNS)}.${filterValue(r)},${r() < 0.5 ? `and(${pick(r, COLUMNS)}.${filterValue(r)})` : pick(r, JUNK)})`)}`);
    else if (x < 0.75) params.push(`order=${encodeURIComponent(`${pick(r, COLUMNS)}${pick(r, ['', '.asc', '.desc', '.nullsfirst', '.desc.nullslast', '.x'])}`)}`);
    else if (x < 0.85) params.push(`${pick(r, ['limit', 'offset', 'categories.limit'])}=${pick(r, ['0', '1', '5', '-1', 'x', '99999999999999999999'])}`);
    else if (x < 0.9) params.push(`${pick(r, ['columns', 'on_conflict'])}=${encodeURIComponent(pick(r, COLUMNS))}`);
    else params.push(`${encodeURIComponent(pick(r, JUNK) + pick(r, COLUMNS))}=${encodeURIComponent(pick(r, JUNK) + pick(r, VALUES))}`);
  }
  return params.join('&');
}

function body(r: () => number): string {
  const x = r();
  const value = () => pick(r, [1, -1, 0.5, 'text', '', null, true, [1, 2], { a: 1 }, '1e400', 2 ** 60, '\u0000', ['x', null]]);
  if (x < 0.5) return JSON.stringify(Object.fromEntries(Array.from({ length: 1 + Math.floor(r() * 3) }, () => [pick(r, COLUMNS), value()])));
  if (x < 0.7) return JSON.stringify([{ [pick(r, COLUMNS)]: value() }, { [pick(r, COLUMNS)]: value() }]);
  if (x < 0.8) return pick(r, ['', '{', '[]', '[1]', 'null', '"s"', '{"a":', '[{}]', '{}', '\u0000']);
  return JSON.stringify(value());
}

function headers(r: () => number, method: string): Record<string, string> {
  const h: Record<string, string> = {};
  if (method !== 'GET' && method !== 'HEAD') {
    h['content-type'] = 'application/json';
    // Every write is rolled back: the fixture is shared with the other test files.
    h.prefer = ['tx=rollback', pick(r, ['return=representation', 'return=minimal', 'return=headers-only', 'resolution=merge-duplicates', 'resolution=ignore-duplicates', 'missing=default', 'count=exact', 'max-affected=1, handling=strict', 'params=single-object', 'bogus'])].join(', ');
  } else if (r() < 0.4) {
    h.prefer = pick(r, ['count=exact', 'count=planned', 'count=estimated', 'handling=strict, x=1', 'count=bogus']);
  }
  if (r() < 0.3) h.accept = pick(r, ['application/vnd.pgrst.object+json', 'text/csv', 'application/vnd.pgrst.array+json;nulls=stripped', 'application/xml', '*/*', 'text/plain;q=0.1, application/json']);
  if (r() < 0.1) h.range = pick(r, ['0-1', '5-2', 'x', '1-']);
  if (r() < 0.1) h.prefer = [h.prefer, pick(r, ['timezone=Africa/Lagos', 'timezone=nowhere', 'timezone='])].filter(Boolean).join(', ');
  if (r() < 0.5) h.authorization = `Bearer ${serviceKey()}`;
  return h;
}

it(`answers ${CASES} random requests (seed ${SEED}) without a 5xx`, async () => {
  const r = prng(SEED);
  const cases = Array.from({ length: CASES }, () => {
    const method = pick(r, ['GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'PATCH', 'DELETE', 'PUT']);
    const path = `/${pick(r, TABLES)}?${queryString(r)}`;
    const h = headers(r, method);
    return { method, path, headers: h, body: method === 'POST' || method === 'PATCH' || method === 'PUT' ? body(r) : undefined };
  });
  const failures: string[] = [];
  const byClass = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const c = cases[next++];
        const res = await rest(c.path, { method: c.method, headers: c.headers, body: c.body });
        const text = await res.text();
        byClass.set(Math.floor(res.status / 100), (byClass.get(Math.floor(res.status / 100)) ?? 0) + 1);
        if (res.status >= 500) failures.push(`${res.status} ${c.method} ${c.path} ${JSON.stringify(c.headers)} ${c.body ?? ''} → ${text.slice(0, 300)}`);
      }
    }),
  );
  expect(failures.slice(0, 10)).toEqual([]);
  // The generator must reach SQL often, not only the parser's 400s.
  expect(byClass.get(2) ?? 0).toBeGreaterThan(CASES / 20);
  expect(byClass.get(4) ?? 0).toBeGreaterThan(CASES / 10);
  // Still serving after all of it.
  const health = await rest('/vendors?select=id&id=eq.1');
  expect(await health.json()).toEqual([{ id: 1 }]);
}, 120_000);
