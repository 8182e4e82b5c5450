// Replay delivers each stored message once: a message replayed on join is not
// sent again when its live copy comes through the change feed later (as
// Realtime skips replayed ids). This file runs its own Realtime service on the
// test database, whose feed it stalls at a known change by holding a lock the
// change's visibility check needs.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../stack/config.ts';
import { createGateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createRealtimeService } from '../../stack/services/realtime/index.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { Inbox, realtimeClient, subscribed, userToken } from './clients.ts';
import { fidelityFixtures } from './fidelity-fixtures.ts';
import { realtimeFixtures } from './fixtures.ts';

const slot = `rt_replay_test_${process.pid}`;

afterAll(async () => {
  await serviceSql()`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ${slot} and not active`;
});

describe.runIf(stackEnv().embedded)('replay', () => {
  it('delivers a replayed message once, also when its live copy arrives after the join', async () => {
    await Promise.all([realtimeFixtures(), fidelityFixtures()]);
    const apiPort = await freePort();
    const config = loadConfig({ apiPort, dbPort: Number(new URL(stackEnv().dbUrl).port) });
    // Checks may wait as long as the test holds its lock.
    const service = await createRealtimeService({ config, log: () => {} }, { slot, checkTimeoutMs: 60_000 });
    const gateway = createGateway(config, [service], async () => ({ ok: true }), () => {});
    await new Promise<void>((resolve) => gateway.server.listen(apiPort, config.host, resolve));
    const sql = serviceSql();
    const lock = await sql.reserve();
    try {
      const url = `http://127.0.0.1:${apiPort}`;
      const user = randomUUID();
      const topic = `rtfx:user:${user}`;
      const watcher = realtimeClient({ url, accessToken: await userToken(user) }).channel(`gate-${user}`);
      const gateChanges = new Inbox();
      watcher.on('postgres_changes', { event: 'INSERT', schema: 'rt_fidelity', table: 'gate' }, gateChanges.push);
      await subscribed(watcher);

      // The feed stops at this insert until the lock is released; the messages after it wait behind it.
      await lock`begin`;
      await lock`lock table rt_fidelity.gate_keys in access exclusive mode`;
      await sql`insert into rt_fidelity.gate default values`;
      const since = Date.now() - 1000;
      await sql`select realtime.send('{"n": 1}', 'note', ${topic}, true)`;
      await sql`select realtime.send_binary('\\x0102', 'note', ${topic}, true)`;

      const channel = realtimeClient({ url, accessToken: await userToken(user) }).channel(topic, { config: { private: true, broadcast: { replay: { since, limit: 25 } } } });
      const inbox = new Inbox();
      channel.on('broadcast', { event: '*' }, inbox.push);
      await subscribed(channel);
      await inbox.next(2);
      expect(gateChanges.items).toEqual([]);

      await lock`rollback`;
      await gateChanges.next(1);
      await sql`select realtime.send('{"fence": true}', 'fence', ${topic}, true)`;
      const got = await inbox.until((items) => items.some((m) => m.event === 'fence'));
      const notes = got.filter((m) => m.event === 'note');
      expect(notes.map((m) => m.meta.replayed)).toEqual([true, true]);
      expect(new Set(notes.map((m) => m.meta.id)).size).toBe(2);
      expect(notes[0].payload).toMatchObject({ n: 1 });
      expect(Buffer.from(new Uint8Array(notes[1].payload))).toEqual(Buffer.from([1, 2]));
    } finally {
      lock.release();
      await service.close();
      await gateway.close();
    }
  });
});
