// postgres_changes as Supabase Realtime (walrus and subscriptions.ex) delivers
// them: rows with NULLs under REPLICA IDENTITY FULL, every filter operator with
// Postgres's semantics, the `not.` prefix, comma-joined filters ANDed, `select`,
// deletes, and the bindings Realtime refuses, with its messages.
import { randomUUID } from 'node:crypto';
import type { RealtimeChannel } from '@supabase/supabase-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { Inbox, realtimeClient, subscribe, subscribed, userToken } from './clients.ts';
import { fidelityFixtures, withPublicationLock } from './fidelity-fixtures.ts';

beforeAll(() => fidelityFixtures());

type Event = '*' | 'INSERT' | 'UPDATE' | 'DELETE';

async function ownerChannel(owner: string): Promise<RealtimeChannel> {
  return realtimeClient({ accessToken: await userToken(owner) }).channel(`items-${randomUUID()}`);
}

function listen(channel: RealtimeChannel, event: Event, extra: { filter?: string; select?: string[] } = {}): Inbox {
  const inbox = new Inbox();
  channel.on('postgres_changes', { event, schema: 'rt_fidelity', table: 'items', ...extra } as never, inbox.push);
  return inbox;
}

interface Row {
  label: string;
  qty?: number;
  note?: string | null;
  flag?: boolean | null;
}

async function insert(owner: string, rows: Row[]): Promise<void> {
  const values = rows.map((r) => ({ owner, label: r.label, qty: r.qty ?? 0, note: r.note ?? null, flag: r.flag ?? null }));
  await serviceSql()`insert into rt_fidelity.items ${serviceSql()(values, 'owner', 'label', 'qty', 'note', 'flag')}`;
}

/** The system message that follows the join of a channel with postgres_changes bindings. */
async function systemReply(channel: RealtimeChannel): Promise<{ status: string; message: string }> {
  const system = new Inbox();
  channel.on('system', {}, system.push);
  expect((await subscribe(channel)).status).toBe('SUBSCRIBED');
  return (await system.next(1))[0];
}

describe('postgres_changes fidelity', () => {
  it('A: delivers rows with NULL columns on a REPLICA IDENTITY FULL table (visibility by primary key)', async () => {
    const [owner, stranger] = [randomUUID(), randomUUID()];
    const channel = await ownerChannel(owner);
    const inbox = listen(channel, '*');
    const strangerChannel = await ownerChannel(stranger);
    const strangerInbox = listen(strangerChannel, '*');
    await Promise.all([subscribed(channel), subscribed(strangerChannel)]);

    const sql = serviceSql();
    // Visibility is checked against the row as it is at dispatch (as walrus does): wait before each next change.
    const [row] = await sql`insert into rt_fidelity.items (owner, label, note, flag) values (${owner}, 'with nulls', null, null) returning id`;
    await inbox.next(1);
    await sql`update rt_fidelity.items set qty = 3 where id = ${row.id}`;
    await inbox.next(2);
    await sql`delete from rt_fidelity.items where id = ${row.id}`;
    const [ins, upd, del] = await inbox.next(3);
    expect(ins).toMatchObject({ eventType: 'INSERT', errors: null, new: { id: Number(row.id), owner, label: 'with nulls', qty: 0, note: null, flag: null } });
    expect(upd).toMatchObject({ eventType: 'UPDATE', errors: null, new: { qty: 3, note: null }, old: { qty: 0, note: null, flag: null } });
    // A delete cannot be checked against RLS, so walrus sends only the key of the old row.
    expect(del).toMatchObject({ eventType: 'DELETE', old: { id: Number(row.id) } });
    expect(Object.keys(del.old)).toEqual(['id']);

    // RLS still applies: the stranger saw nothing but the delete (deletes are not RLS-checked, as on Supabase).
    await insert(stranger, [{ label: 'fence' }]);
    const seen = await strangerInbox.until((items) => items.some((c) => c.new?.label === 'fence'));
    expect(seen.filter((c) => c.eventType !== 'DELETE').map((c) => c.new.label)).toEqual(['fence']);
  });

  it('B: applies every operator of subscriptions.ex with Postgres semantics, and the not. prefix', async () => {
    const owner = randomUUID();
    const channel = await ownerChannel(owner);
    const expected: Record<string, string[]> = {
      'qty=eq.10': ['beta'],
      'qty=neq.10': ['Alpha', 'Gamma'],
      'qty=lt.10': ['Alpha'],
      'qty=lte.10': ['Alpha', 'beta'],
      // Compared as integers: as text, '10' and '20' would sort before '9'.
      'qty=gt.9': ['beta', 'Gamma'],
      'qty=gte.10': ['beta', 'Gamma'],
      'label=in.(Alpha,Gamma)': ['Alpha', 'Gamma'],
      'label=like.G%': ['Gamma'],
      'label=like.A_pha': ['Alpha'],
      'label=ilike.al%': ['Alpha'],
      'note=is.null': ['Alpha'],
      'flag=is.true': ['Alpha'],
      'flag=is.false': ['beta'],
      'flag=is.null': ['Gamma'],
      'label=match.^[A-Z]': ['Alpha', 'Gamma'],
      'label=imatch.^B': ['beta'],
      // NULL is distinct from any value; under neq and not.eq a NULL never passes.
      'note=isdistinct.x': ['Alpha', 'Gamma'],
      'note=neq.x': ['Gamma'],
      'note=not.eq.x': ['Gamma'],
      'qty=not.eq.10': ['Alpha', 'Gamma'],
      'label=not.like.G%': ['Alpha', 'beta'],
      'label=not.in.(Alpha)': ['beta', 'Gamma'],
      'note=not.is.null': ['beta', 'Gamma'],
      'note=not.isdistinct.x': ['beta'],
      'flag=not.is.true': ['beta', 'Gamma'],
      'label=not.imatch.^b': ['Alpha', 'Gamma'],
      'qty=not.gt.5': ['Alpha'],
    };
    const inboxes = Object.fromEntries(Object.keys(expected).map((filter) => [filter, listen(channel, 'INSERT', { filter })]));
    const all = listen(channel, 'INSERT');
    await subscribed(channel);
    await insert(owner, [
      { label: 'Alpha', qty: 5, note: null, flag: true },
      { label: 'beta', qty: 10, note: 'x', flag: false },
      { label: 'Gamma', qty: 20, note: 'y', flag: null },
    ]);
    // One frame per change carries every matching binding: once the unfiltered one has all three, so have the others.
    await all.next(3);
    const got = Object.fromEntries(Object.entries(inboxes).map(([filter, inbox]) => [filter, inbox.items.map((c) => c.new.label)]));
    expect(got).toEqual(expected);
  });

  it('C: ANDs comma-joined filters, and keeps quoted values with commas and parentheses whole', async () => {
    const owner = randomUUID();
    const channel = await ownerChannel(owner);
    const expected: Record<string, string[]> = {
      'qty=gte.5,qty=lte.10': ['b', 'c'],
      'label=like.%,note=is.null': ['a'],
      'label=in.("x,y",b),qty=gt.0': ['b', 'x,y'],
      'label=eq."x,y"': ['x,y'],
      'label=eq."(p)"': ['(p)'],
      'qty=gt.1,label=not.eq.c,note=not.is.null': ['b', 'x,y'],
    };
    const inboxes = Object.fromEntries(Object.keys(expected).map((filter) => [filter, listen(channel, 'INSERT', { filter })]));
    const all = listen(channel, 'INSERT');
    await subscribed(channel);
    await insert(owner, [
      { label: 'a', qty: 1, note: null },
      { label: 'b', qty: 5, note: 'n' },
      { label: 'c', qty: 10, note: 'n' },
      { label: 'x,y', qty: 20, note: 'n' },
      { label: '(p)', qty: 0, note: 'n' },
    ]);
    await all.next(5);
    const got = Object.fromEntries(Object.entries(inboxes).map(([filter, inbox]) => [filter, inbox.items.map((c) => c.new.label)]));
    expect(got).toEqual(expected);
  });

  it('D: limits columns, record and old_record to the select list (the primary key always kept)', async () => {
    const owner = randomUUID();
    const channel = await ownerChannel(owner);
    const narrow = listen(channel, '*', { select: ['label', 'qty'] });
    const full = listen(channel, '*');
    await subscribed(channel);
    const sql = serviceSql();
    const [row] = await sql`insert into rt_fidelity.items (owner, label, qty, note) values (${owner}, 'selected', 1, 'hidden') returning id`;
    await sql`update rt_fidelity.items set qty = 2 where id = ${row.id}`;
    const [ins, upd] = await narrow.next(2);
    expect(ins.new).toEqual({ id: Number(row.id), label: 'selected', qty: 1 });
    expect(upd.new).toEqual({ id: Number(row.id), label: 'selected', qty: 2 });
    expect(upd.old).toEqual({ id: Number(row.id), label: 'selected', qty: 1 });
    // The unfiltered binding of the same channel still gets every column, in its own message.
    const [fullIns] = await full.next(2);
    expect(Object.keys(fullIns.new).sort()).toEqual(['flag', 'id', 'label', 'note', 'owner', 'qty']);
  });

  it('D: refuses select on a wildcard table, as a string, or naming a column that does not exist', async () => {
    const owner = randomUUID();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ event: '*', schema: 'rt_fidelity', select: ['label'] }, 'Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name.'],
      [{ event: '*', schema: 'rt_fidelity', table: 'items', select: 'label' }, 'Error parsing `select` params: expected a list of column name strings'],
      [{ event: '*', schema: 'rt_fidelity', table: 'items', select: ['label', 'nope'] }, 'invalid column for select nope'],
    ];
    for (const [binding, message] of cases) {
      const channel = await ownerChannel(owner);
      channel.on('postgres_changes', binding as never, () => {});
      const reply = await systemReply(channel);
      expect(reply.status).toBe('error');
      expect(reply.message).toContain(message);
    }
  });

  it('refuses the filters and tables Realtime refuses, with its messages', async () => {
    const owner = randomUUID();
    const cases: Array<[string, string, string]> = [
      ['items', 'qty=foo.1', 'Error parsing `filter` params: ["foo", "1"]'],
      ['items', 'undefined', 'Error parsing `filter` params: ["undefined"]'],
      ['items', 'label=in.Alpha', 'Error parsing `filter` params: `in` filter value must be wrapped by parentheses'],
      ['items', 'qty=eq.1,,label=eq.a', 'Error parsing `filter` params: filter must not contain empty segments (check for extra commas)'],
      ['items', 'nope=eq.1', 'Exception: ERROR P0001 (raise_exception) invalid column for filter nope'],
      ['items', 'qty=eq.abc', 'Exception: ERROR 22P02 (invalid_text_representation) invalid input syntax for type integer: "abc"'],
      ['items', 'label=match.(', 'invalid regular expression for match filter'],
      ['items', 'qty=like.1%', 'operator like requires a text-compatible column type, got integer'],
      ['items', 'qty=is.true', 'is true filter requires a boolean column, got integer'],
      ['items', 'note=is.maybe', 'invalid value for is filter: must be null, true, false, or unknown'],
      ['unpublished', 'id=eq.1', 'Please check Realtime is enabled for the given connect parameters: [event: INSERT, schema: rt_fidelity, table: unpublished'],
    ];
    for (const [table, filter, message] of cases) {
      const channel = await ownerChannel(owner);
      channel.on('postgres_changes', { event: 'INSERT', schema: 'rt_fidelity', table, filter }, () => {});
      const reply = await systemReply(channel);
      expect({ filter, status: reply.status }).toEqual({ filter, status: 'error' });
      expect(reply.message).toContain(message);
    }
  });

  it('without RLS delivers every row unchecked (even one deleted before dispatch), with only the columns the role may select', async () => {
    const channel = await ownerChannel(randomUUID());
    const inbox = new Inbox();
    channel.on('postgres_changes', { event: '*', schema: 'rt_fidelity', table: 'board' }, inbox.push);
    await subscribed(channel);
    const id = Math.floor(Math.random() * 2 ** 40);
    await serviceSql().begin(async (tx) => {
      await tx`insert into rt_fidelity.board (id, title, secret) values (${id}, 'menu of the day', 'supplier prices')`;
      await tx`delete from rt_fidelity.board where id = ${id}`;
    });
    const [ins, del] = await inbox.next(2);
    expect(ins).toMatchObject({ eventType: 'INSERT', errors: null, new: { id, title: 'menu of the day' } });
    expect(ins.new).not.toHaveProperty('secret');
    expect(del).toMatchObject({ eventType: 'DELETE', old: { id } });
    expect(del.old).not.toHaveProperty('secret');
  });

  it('a filter that fails at delivery (its column changed type since) fails alone', async () => {
    const sql = serviceSql();
    const table = `shifty_${randomUUID().replace(/-/g, '')}`;
    await withPublicationLock(`create table rt_fidelity.${table} (id bigint primary key, code text not null);
                      grant select on rt_fidelity.${table} to authenticated;
                      alter publication supabase_realtime add table rt_fidelity.${table}`);
    try {
      const channel = await ownerChannel(randomUUID());
      const byCode = new Inbox();
      const all = new Inbox();
      channel.on('postgres_changes', { event: 'INSERT', schema: 'rt_fidelity', table, filter: 'code=eq.abc' }, byCode.push);
      channel.on('postgres_changes', { event: 'INSERT', schema: 'rt_fidelity', table, filter: 'id=gt.0' }, all.push);
      await subscribed(channel);
      // 'abc' is no integer: the first filter now errors in Postgres, the second still works.
      await sql.unsafe(`alter table rt_fidelity.${table} alter column code type integer using length(code)`);
      await sql.unsafe(`insert into rt_fidelity.${table} (id, code) values (1, 3)`);
      const [change] = await all.next(1);
      expect(change.new).toEqual({ id: 1, code: 3 });
      expect(byCode.items).toEqual([]);
    } finally {
      await withPublicationLock(`drop table rt_fidelity.${table}`);
    }
  });

  it('filters deletes on the old row: a column outside the replica identity never matches', async () => {
    const owner = randomUUID();
    const sql = serviceSql();
    const channel = await ownerChannel(owner);
    // rt_fidelity.items has REPLICA IDENTITY FULL: the old row carries `label`.
    const byLabel = listen(channel, 'DELETE', { filter: 'label=eq.gone' });
    await subscribed(channel);
    const [gone] = await sql`insert into rt_fidelity.items (owner, label) values (${owner}, 'gone') returning id`;
    await sql`insert into rt_fidelity.items (owner, label) values (${owner}, 'kept')`;
    await sql`delete from rt_fidelity.items where owner = ${owner}`;
    const [del] = await byLabel.next(1);
    expect(del.old).toEqual({ id: Number(gone.id) });

    // The same filter on a default-identity table: the old row holds only the key, so nothing matches (as walrus).
    const table = `plain_${randomUUID().replace(/-/g, '')}`;
    await withPublicationLock(`create table rt_fidelity.${table} (id bigint primary key, label text not null);
                               grant select on rt_fidelity.${table} to authenticated;
                               alter publication supabase_realtime add table rt_fidelity.${table}`);
    try {
      const again = await ownerChannel(owner);
      const noMatch = new Inbox();
      const byId = new Inbox();
      again.on('postgres_changes', { event: 'DELETE', schema: 'rt_fidelity', table, filter: 'label=eq.gone' }, noMatch.push);
      again.on('postgres_changes', { event: 'DELETE', schema: 'rt_fidelity', table, filter: 'id=eq.1' }, byId.push);
      await subscribed(again);
      await sql.unsafe(`insert into rt_fidelity.${table} (id, label) values (1, 'gone')`);
      await sql.unsafe(`delete from rt_fidelity.${table} where id = 1`);
      expect((await byId.next(1))[0].old).toEqual({ id: 1 });
      expect(noMatch.items).toEqual([]);
    } finally {
      await withPublicationLock(`drop table rt_fidelity.${table}`);
    }
  });
});
