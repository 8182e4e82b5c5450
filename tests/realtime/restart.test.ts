// A restart of the Realtime service mid-stream: a subscriber that reconnects
// (realtime-js does so by itself) and rejoins with replay loses no message
// committed to realtime.messages, including those committed while it was down;
// and a dropped replication connection loses nothing for joined subscribers.
// This file runs its own Realtime service on the test database, so it can stop it.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../stack/config.ts';
import { createGateway, type Gateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createRealtimeService } from '../../stack/services/realtime/index.ts';
import type { Service } from '../../stack/services/service.ts';
import { platformSql, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { Inbox, realtimeClient, userToken } from './clients.ts';
import { realtimeFixtures } from './fixtures.ts';

const slot = `rt_restart_test_${process.pid}`;

async function startRealtime(apiPort: number): Promise<{ service: Service; gateway: Gateway }> {
  const config = loadConfig({ apiPort, dbPort: Number(new URL(stackEnv().dbUrl).port) });
  const service = await createRealtimeService({ config, log: () => {} }, { slot });
  const gateway = createGateway(config, [service], async () => ({ ok: true }), () => {});
  await new Promise<void>((resolve) => gateway.server.listen(apiPort, config.host, resolve));
  return { service, gateway };
}

async function stopRealtime(r: { service: Service; gateway: Gateway }): Promise<void> {
  // The service first: the gateway's close waits for open sockets, which the service ends.
  await r.service.close();
  await r.gateway.close();
}

afterAll(async () => {
  await serviceSql()`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot} and not active`;
});

describe.runIf(stackEnv().embedded)('restart of the Realtime service', () => {
  it('loses no committed database message for a subscriber that reconnects', async () => {
    await realtimeFixtures();
    const apiPort = await freePort();
    let running = await startRealtime(apiPort);
    try {
      const user = randomUUID();
      const client = realtimeClient({ url: `http://127.0.0.1:${apiPort}`, accessToken: await userToken(user) });
      const channel = client.channel(`rtfx:user:${user}`, { config: { private: true, broadcast: { replay: { since: Date.now() - 1000, limit: 25 } } } });
      const inbox = new Inbox();
      channel.on('broadcast', { event: 'delivery' }, inbox.push);
      const statuses = new Inbox<string>();
      channel.subscribe((status) => statuses.push(status));
      await statuses.until((s) => s.includes('SUBSCRIBED'));
      const sql = serviceSql();
      const deliver = (note: string) => sql`insert into rt_fixture.deliveries (user_id, note) values (${user}, ${note})`;
      const notes = () => [...new Map(inbox.items.map((m) => [m.meta?.id ?? m.payload.id, m.payload.note])).values()];

      await deliver('before restart');
      await inbox.until(() => notes().includes('before restart'));

      await stopRealtime(running);
      await deliver('while down 1');
      await deliver('while down 2');
      running = await startRealtime(apiPort);

      // realtime-js reconnects and rejoins; the rejoin replays what it missed.
      await statuses.until((s) => s.filter((x) => x === 'SUBSCRIBED').length >= 2);
      await deliver('after restart');
      await inbox.until(() => notes().length === 4);
      expect(notes().sort()).toEqual(['after restart', 'before restart', 'while down 1', 'while down 2']);
      expect(inbox.items.filter((m) => m.meta?.replayed).length).toBeGreaterThan(0);
    } finally {
      await stopRealtime(running);
    }
  });

  it('resumes its replication stream from the slot after a dropped connection, in commit order', async () => {
    await realtimeFixtures();
    const apiPort = await freePort();
    const running = await startRealtime(apiPort);
    try {
      const user = randomUUID();
      const channel = realtimeClient({ url: `http://127.0.0.1:${apiPort}`, accessToken: await userToken(user) }).channel(`rtfx:user:${user}`, { config: { private: true } });
      const inbox = new Inbox();
      channel.on('broadcast', { event: 'delivery' }, inbox.push);
      const statuses = new Inbox<string>();
      channel.subscribe((status) => statuses.push(status));
      await statuses.until((s) => s.includes('SUBSCRIBED'));
      const sql = serviceSql();
      await sql`insert into rt_fixture.deliveries (user_id, note) values (${user}, 'n1')`;
      await inbox.next(1);
      // The walsender goes away (as on a network drop); commits keep coming meanwhile.
      // Only the platform may end Realtime's walsender (postgres cannot signal a superuser's backend).
      const [killed] = await platformSql()`select pg_terminate_backend(active_pid) as ok from pg_replication_slots where slot_name = ${slot} and active`;
      expect(killed?.ok).toBe(true);
      for (const n of ['n2', 'n3', 'n4']) await sql`insert into rt_fixture.deliveries (user_id, note) values (${user}, ${n})`;
      const got = await inbox.next(4);
      expect(got.map((m) => m.payload.note)).toEqual(['n1', 'n2', 'n3', 'n4']);
      expect(statuses.items).toEqual(['SUBSCRIBED']);
    } finally {
      await stopRealtime(running);
    }
  });
});
