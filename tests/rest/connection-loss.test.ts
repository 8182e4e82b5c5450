// Connections to Postgres lost in the middle of requests (terminated backends, a
// restart): those requests answer 503 PGRST000 at once, as PostgREST does, and
// the service goes on serving on every connection of its pool, never stalling a
// request on a connection that is gone. Against a private /rest/v1 with its own
// login role, so that only its connections are terminated.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformSql } from '../helpers/db.ts';
import { waitFor } from '../helpers/outbox.ts';
import { ensureFixture } from './fixture.ts';
import { startPrivateRest, type PrivateRest } from './private-rest.ts';

const role = `rest_lost_${randomUUID().slice(0, 8)}`;
let rest: PrivateRest;

beforeAll(async () => {
  await ensureFixture();
  rest = await startPrivateRest(role, {});
});
afterAll(() => rest?.close());

const post = (path: string, body: unknown) =>
  rest.fetch(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(15_000) });

describe('/rest/v1 when database connections are lost', () => {
  it('answers 503 for the requests whose connection died and serves every later request', async () => {
    for (let round = 0; round < 2; round++) {
      // Eight at once: all one caller may hold of the pool's ten connections.
      const naps = Array.from({ length: 8 }, () => post('/rpc/nap', { ms: 5000 }));
      const active = () => platformSql()`select count(*)::int as n from pg_stat_activity where usename = ${role} and state = 'active' and query like '%nap%'`;
      await waitFor(async () => (await active())[0].n === 8, 'eight requests running');
      await platformSql()`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${role} and state = 'active'`;
      const answers = await Promise.all(naps.map(async (r) => {
        const res = await r;
        return { status: res.status, code: (await res.json()).code };
      }));
      expect(answers).toEqual(Array(8).fill({ status: 503, code: 'PGRST000' }));
      // More requests than the pool has connections, so every connection serves some.
      const after = await Promise.all(Array.from({ length: 30 }, (_, i) => post('/rpc/add', { a: i, b: 1 }).then(async (r) => [r.status, await r.json()])));
      expect(after).toEqual(Array.from({ length: 30 }, (_, i) => [200, i + 1]));
    }
  }, 60_000);

  it('answers every request, 200 or 503, while backends are terminated again and again under load', async () => {
    const statuses = new Map<number | string, number>();
    let running = true;
    const load = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; running; i++) {
        const status = await post('/rpc/add', { a: c, b: i }).then(async (r) => (await r.text(), r.status), (e) => `${(e as Error).name}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    });
    for (let k = 0; k < 40; k++) {
      await platformSql()`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${role} and state <> 'idle'`;
      await new Promise((r) => setTimeout(r, 50));
    }
    running = false;
    await Promise.all(load);
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(0);
    const after = await Promise.all(Array.from({ length: 30 }, (_, i) => post('/rpc/add', { a: i, b: 1 }).then((r) => r.status)));
    expect(after).toEqual(Array(30).fill(200));
  }, 60_000);
});
