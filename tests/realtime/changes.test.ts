// postgres_changes through supabase-js: RLS per subscriber, filters, the wire
// shape, no lost writes right after SUBSCRIBED, and failing RLS checks that
// only affect their own subscriber.
import { randomUUID } from 'node:crypto';
import type { RealtimeChannel } from '@supabase/supabase-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { Inbox, realtimeClient, subscribe, subscribed, userToken } from './clients.ts';
import { realtimeFixtures } from './fixtures.ts';

beforeAll(() => realtimeFixtures());

async function asCustomer(id: string) {
  return realtimeClient({ accessToken: await userToken(id) });
}

function listen(channel: RealtimeChannel, event: '*' | 'INSERT' | 'UPDATE' | 'DELETE', filter?: string): Inbox {
  const inbox = new Inbox();
  channel.on('postgres_changes', { event, schema: 'rt_fixture', table: 'orders', ...(filter ? { filter } : {}) }, inbox.push);
  return inbox;
}

describe('postgres_changes', () => {
  it("delivers a customer's order update to him and not to another customer (RLS)", async () => {
    const [ada, bola] = [randomUUID(), randomUUID()];
    const sql = serviceSql();
    const [adaOrder] = await sql`insert into rt_fixture.orders (customer_id, total_kobo) values (${ada}, 150000) returning id`;
    const [bolaOrder] = await sql`insert into rt_fixture.orders (customer_id, total_kobo) values (${bola}, 90000) returning id`;
    const adaCh = (await asCustomer(ada)).channel(`orders-${ada}`);
    const bolaCh = (await asCustomer(bola)).channel(`orders-${bola}`);
    const adaInbox = listen(adaCh, 'UPDATE');
    const bolaInbox = listen(bolaCh, 'UPDATE');
    await Promise.all([subscribed(adaCh), subscribed(bolaCh)]);

    await sql`update rt_fixture.orders set status = 'accepted', tags = '{"spicy","no onions"}', paid = true where id = ${adaOrder.id}`;
    await sql`update rt_fixture.orders set status = 'accepted' where id = ${bolaOrder.id}`;
    const [change] = await adaInbox.next(1);
    expect(change).toMatchObject({
      schema: 'rt_fixture',
      table: 'orders',
      eventType: 'UPDATE',
      errors: null,
      new: { id: adaOrder.id, customer_id: ada, status: 'accepted', total_kobo: 150000, tags: ['spicy', 'no onions'], paid: true },
      old: { id: adaOrder.id },
    });
    expect(Object.keys(change.old)).toEqual(['id']);
    expect(change.new.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
    expect(new Date(change.commit_timestamp).getTime()).toBeGreaterThan(0);
    // Bola's own update arrives, and it is the only one he ever saw.
    const bolaGot = await bolaInbox.next(1);
    expect(bolaGot.map((c) => c.new.id)).toEqual([bolaOrder.id]);
    expect(adaInbox.items).toHaveLength(1);
  });

  it('applies eq, neq, lt, lte, gt, gte and in filters', async () => {
    const customer = randomUUID();
    const channel = (await asCustomer(customer)).channel(`filters-${customer}`);
    const inboxes = {
      eq: listen(channel, 'INSERT', 'total_kobo=eq.200'),
      neq: listen(channel, 'INSERT', 'status=neq.pending'),
      lt: listen(channel, 'INSERT', 'total_kobo=lt.200'),
      lte: listen(channel, 'INSERT', 'total_kobo=lte.200'),
      gt: listen(channel, 'INSERT', 'total_kobo=gt.200'),
      gte: listen(channel, 'INSERT', 'total_kobo=gte.200'),
      in: listen(channel, 'INSERT', 'status=in.(ready,"out for delivery")'),
      all: listen(channel, '*'),
    };
    await subscribed(channel);
    const sql = serviceSql();
    for (const [total, status] of [[100, 'pending'], [200, 'ready'], [300, 'out for delivery'], [400, 'delivered']] as const) {
      await sql`insert into rt_fixture.orders (customer_id, total_kobo, status) values (${customer}, ${total}, ${status})`;
    }
    await inboxes.all.next(4);
    const totals = (inbox: Inbox) => inbox.items.map((c) => c.new.total_kobo);
    expect(totals(inboxes.eq)).toEqual([200]);
    expect(totals(inboxes.neq)).toEqual([200, 300, 400]);
    expect(totals(inboxes.lt)).toEqual([100]);
    expect(totals(inboxes.lte)).toEqual([100, 200]);
    expect(totals(inboxes.gt)).toEqual([300, 400]);
    expect(totals(inboxes.gte)).toEqual([200, 300, 400]);
    expect(totals(inboxes.in)).toEqual([200, 300]);
  });

  it('loses no write made the moment SUBSCRIBED arrives, and delivers deletes with the old key', async () => {
    const customer = randomUUID();
    const channel = (await asCustomer(customer)).channel(`instant-${customer}`);
    const inbox = listen(channel, '*');
    const sql = serviceSql();
    const id = randomUUID();
    const wrote = new Promise<void>((resolve, reject) => {
      channel.subscribe((status) => {
        if (status === 'SUBSCRIBED') sql`insert into rt_fixture.orders (id, customer_id) values (${id}, ${customer})`.then(() => resolve(), reject);
      });
    });
    await wrote;
    // Visibility is checked against the row as it is at dispatch (as walrus does), so delete after.
    await inbox.next(1);
    await sql`delete from rt_fixture.orders where id = ${id}`;
    const [insert, del] = await inbox.next(2);
    expect(insert).toMatchObject({ eventType: 'INSERT', new: { id }, old: {} });
    expect(del).toMatchObject({ eventType: 'DELETE', new: {}, old: { id } });
  });

  it("tells a role without SELECT on the table 'Error 401: Unauthorized' and shows it no row", async () => {
    const customer = randomUUID();
    const anon = realtimeClient().channel(`anon-${customer}`);
    const inbox = listen(anon, 'INSERT');
    await subscribed(anon);
    await serviceSql()`insert into rt_fixture.orders (customer_id) values (${customer})`;
    const [change] = await inbox.next(1);
    expect(change).toMatchObject({ eventType: 'INSERT', errors: ['Error 401: Unauthorized'], new: {} });
  });

  it('echoes the bindings in the join reply and reports a table that does not exist', async () => {
    const channel = realtimeClient().channel(`missing-${randomUUID()}`);
    channel.on('postgres_changes', { event: '*', schema: 'rt_fixture', table: 'no_such_table' }, () => {});
    const system = new Inbox();
    channel.on('system', {}, system.push);
    expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
    const [message] = await system.next(1);
    expect(message).toMatchObject({ extension: 'postgres_changes', status: 'error' });
    expect(message.message).toContain('Unable to subscribe to changes with given parameters');
  });

  it('gives a subscriber whose RLS check fails or hangs an error entry, and the others the change', async () => {
    const [good, raising, slow] = [randomUUID(), randomUUID(), randomUUID()];
    const sql = serviceSql();
    await sql`insert into rt_fixture.flaky_users (user_id, behaviour) values (${raising}, 'raise'), (${slow}, 'slow')`;
    const listenNotes = async (user: string) => {
      const channel = (await asCustomer(user)).channel(`notes-${user}`);
      const inbox = new Inbox();
      channel.on('postgres_changes', { event: 'INSERT', schema: 'rt_fixture', table: 'notes' }, inbox.push);
      await subscribed(channel);
      return inbox;
    };
    const [goodInbox, raisingInbox, slowInbox] = await Promise.all([listenNotes(good), listenNotes(raising), listenNotes(slow)]);
    const marker = randomUUID();
    await sql`insert into rt_fixture.notes (body) values (${marker})`;
    await sql`insert into rt_fixture.notes (body) values (${marker + '-2'})`;
    const got = await goodInbox.until((items) => items.filter((c) => c.new.body?.startsWith(marker)).length === 2);
    expect(got.filter((c) => c.new.body?.startsWith(marker)).map((c) => c.errors)).toEqual([null, null]);
    const [raised] = await raisingInbox.next(1);
    expect(raised.errors).toEqual([expect.stringContaining('policy failure for this reader')]);
    expect(raised.new).toEqual({});
    const [timedOut] = await slowInbox.next(1);
    expect(timedOut.errors).toEqual([expect.stringContaining('statement timeout')]);
    expect(timedOut.new).toEqual({});
  });
});
