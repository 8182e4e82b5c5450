// What the database publishes for Realtime: broadcast rows on the contract's
// topics written in the same transaction as the order change, and RLS on
// realtime.messages that lets exactly the right users read them.
import { beforeAll, describe, expect, it } from 'vitest';
import { asAnon, asUser, createUser, serviceSql } from '../helpers/db.ts';
import { createAdmin, createCustomer, createVendor, fundWallet, placeOrder, setStatus, type TestUser, type TestVendor } from './fixtures.ts';

let vendor: TestVendor;
let customer: TestUser & { addressId: string };
let admin: TestUser;

beforeAll(async () => {
  [vendor, customer, admin] = await Promise.all([createVendor(), createCustomer(), createAdmin()]);
  await fundWallet(customer.id, 5_000_000);
});

async function messages(topic: string) {
  return serviceSql()`select event, payload from realtime.messages where topic = ${topic} and extension = 'broadcast' and private order by inserted_at, event`;
}

/** Which of the given users may read the topic's messages, as the authenticated role. */
async function readers(topic: string, users: Record<string, string>): Promise<string[]> {
  const can: string[] = [];
  for (const [name, id] of Object.entries(users)) {
    const rows = await asUser(id, (tx) => tx`select 1 from realtime.messages where topic = ${topic}`);
    if (rows.length > 0) can.push(name);
  }
  return can;
}

describe('order broadcasts', () => {
  it('publishes created and status_changed on order:<id> and vendor:<id>:orders', async () => {
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: customer.addressId });
    await setStatus(vendor.owner.id, order.id, 'preparing');
    const onOrder = await messages(`order:${order.id}`);
    expect(onOrder.map((m) => m.event)).toEqual(['created', 'status_changed']);
    expect(onOrder[1].payload).toMatchObject({ order_id: order.id, number: order.number, old_status: 'new', new_status: 'preparing' });
    expect(onOrder[1].payload.at).toBeTruthy();
    const onVendor = (await messages(`vendor:${vendor.id}:orders`)).filter((m) => m.payload.order_id === order.id);
    expect(onVendor.map((m) => m.event)).toEqual(['order_created', 'status_changed']);
  });

  it('publishes nothing when the change rolls back', async () => {
    const poor = await createCustomer();
    const before = await serviceSql()`select count(*)::int as n from realtime.messages where topic = ${`vendor:${vendor.id}:orders`}`;
    await expect(placeOrder(poor.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: poor.addressId })).rejects.toThrow('insufficient_funds');
    const after = await serviceSql()`select count(*)::int as n from realtime.messages where topic = ${`vendor:${vendor.id}:orders`}`;
    expect(after[0].n).toBe(before[0].n);
  });

  it('lets only the customer, the vendor owner and admins read an order topic', async () => {
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: customer.addressId });
    const [stranger, otherVendor] = await Promise.all([createUser(), createVendor()]);
    const users = { customer: customer.id, owner: vendor.owner.id, admin: admin.id, stranger: stranger.id, otherOwner: otherVendor.owner.id };
    expect(await readers(`order:${order.id}`, users)).toEqual(['customer', 'owner', 'admin']);
    expect(await readers(`vendor:${vendor.id}:orders`, users)).toEqual(['owner', 'admin']);
    const anon = await asAnon((tx) => tx`select 1 from realtime.messages where topic = ${`order:${order.id}`}`);
    expect(anon).toHaveLength(0);
  });
});

describe('notifications', () => {
  it('notifies customer and vendor of a new order and the customer of each change, each on user:<id>, readable only by that user', async () => {
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: customer.addressId });
    const theirs = await asUser(vendor.owner.id, (tx) => tx`select type, title from public.notifications where order_id = ${order.id}`);
    expect(theirs).toEqual([{ type: 'new_order', title: `New order ${order.number}` }]);
    await setStatus(vendor.owner.id, order.id, 'preparing');
    const mine = await asUser(customer.id, (tx) => tx`select id, type, title, body from public.notifications where order_id = ${order.id} order by created_at`);
    expect(mine).toHaveLength(2);
    expect(mine.every((n) => n.type === 'order_update' && n.title === `Order ${order.number}`)).toBe(true);
    expect(mine.map((n) => n.body)).toEqual([
      expect.stringContaining('has been sent to the restaurant'), expect.stringContaining('is being prepared'),
    ]);

    const topic = `user:${customer.id}`;
    const pushed = await messages(topic);
    expect(pushed.some((m) => m.event === 'notification' && m.payload.id === mine[0].id)).toBe(true);
    expect(await readers(topic, { customer: customer.id, owner: vendor.owner.id, admin: admin.id })).toEqual(['customer']);
  });

  it('marks the caller\'s notifications read, some or all, and no one else\'s', async () => {
    const c = await createCustomer();
    await fundWallet(c.id, 1_000_000);
    const order = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId });
    await setStatus(vendor.owner.id, order.id, 'preparing');
    const ids = (await asUser(c.id, (tx) => tx`select id from public.notifications order by created_at`)).map((r) => r.id);
    expect(ids).toHaveLength(2);
    expect((await asUser(vendor.owner.id, (tx) => tx`select public.mark_notifications_read(${[ids[0]]}::uuid[]) as n`))[0].n).toBe(0);
    expect((await asUser(c.id, (tx) => tx`select public.mark_notifications_read(${[ids[0]]}::uuid[]) as n`))[0].n).toBe(1);
    expect((await asUser(c.id, (tx) => tx`select public.mark_notifications_read() as n`))[0].n).toBe(1);
    expect((await asUser(c.id, (tx) => tx`select public.mark_notifications_read() as n`))[0].n).toBe(0);
  });
});

describe('announcements', () => {
  it('lets every signed-in user read and only admins send', async () => {
    const user = await createUser();
    const before = await serviceSql()`select count(*)::int as n from realtime.messages where topic = 'announcements'`;
    // A user's send is refused by RLS (realtime.send reports it and carries on).
    await asUser(user.id, (tx) => tx`select realtime.send('{"title":"spam"}'::jsonb, 'announcement', 'announcements', true)`);
    const afterUser = await serviceSql()`select count(*)::int as n from realtime.messages where topic = 'announcements'`;
    expect(afterUser[0].n).toBe(before[0].n);
    await asUser(admin.id, (tx) => tx`select realtime.send('{"title":"Promo"}'::jsonb, 'announcement', 'announcements', true)`);
    const afterAdmin = await serviceSql()`select count(*)::int as n from realtime.messages where topic = 'announcements'`;
    expect(afterAdmin[0].n).toBe(before[0].n + 1);
    expect(await readers('announcements', { user: user.id })).toEqual(['user']);
    expect(await asAnon((tx) => tx`select 1 from realtime.messages where topic = 'announcements'`)).toHaveLength(0);
  });

  it('keeps orders and notifications in the supabase_realtime publication', async () => {
    const rows = await serviceSql()`select tablename from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public' order by tablename`;
    expect(rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(['notifications', 'orders']));
  });
});
