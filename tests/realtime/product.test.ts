// The product's realtime contract end to end, through supabase-js: the order
// triggers' broadcasts on order:<id>, vendor:<id>:orders and user:<id>, admin
// announcements, and postgres_changes on public.orders, each reaching exactly
// the users the product's RLS allows.
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdmin, createCustomer, createVendor, fundWallet, placeOrder, setStatus, type TestUser, type TestVendor } from '../db/fixtures.ts';
import { Inbox, realtimeClient, subscribe, subscribed, userToken } from './clients.ts';

let vendor: TestVendor;
let ada: TestUser & { addressId: string };
let bola: TestUser & { addressId: string };
let admin: TestUser;

beforeAll(async () => {
  [vendor, ada, bola, admin] = await Promise.all([createVendor(), createCustomer(), createCustomer(), createAdmin()]);
  await Promise.all([fundWallet(ada.id, 5_000_000), fundWallet(bola.id, 5_000_000)]);
});

async function clientOf(userId: string) {
  return realtimeClient({ accessToken: await userToken(userId) });
}

describe('product realtime topics', () => {
  it('tells the vendor about new orders, the customer about his order, and nobody else', async () => {
    const vendorCh = (await clientOf(vendor.owner.id)).channel(`vendor:${vendor.id}:orders`, { config: { private: true } });
    const vendorInbox = new Inbox();
    vendorCh.on('broadcast', { event: '*' }, vendorInbox.push);
    const adaClient = await clientOf(ada.id);
    const adaUser = adaClient.channel(`user:${ada.id}`, { config: { private: true } });
    const adaNotifications = new Inbox();
    adaUser.on('broadcast', { event: 'notification' }, adaNotifications.push);
    await Promise.all([subscribed(vendorCh), subscribed(adaUser)]);

    // Bola may not listen to the vendor's orders.
    const refused = await subscribe((await clientOf(bola.id)).channel(`vendor:${vendor.id}:orders`, { config: { private: true } }));
    expect(refused.status).toBe('CHANNEL_ERROR');

    const order = await placeOrder(ada.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: ada.addressId });
    const [created] = await vendorInbox.until((ms) => ms.some((m) => m.payload.order_id === order.id));
    expect(created).toMatchObject({ event: 'order_created', payload: { order_id: order.id, status: order.status } });
    await adaNotifications.until((ms) => ms.some((m) => m.payload.order_id === order.id));

    // Ada follows her order; Bola cannot.
    const adaOrder = adaClient.channel(`order:${order.id}`, { config: { private: true } });
    const adaOrderInbox = new Inbox();
    adaOrder.on('broadcast', { event: 'status_changed' }, adaOrderInbox.push);
    await subscribed(adaOrder);
    expect((await subscribe((await clientOf(bola.id)).channel(`order:${order.id}`, { config: { private: true } }))).status).toBe('CHANNEL_ERROR');

    await setStatus(vendor.owner.id, order.id, 'preparing');
    const [changed] = await adaOrderInbox.next(1);
    expect(changed.payload).toMatchObject({ order_id: order.id, old_status: order.status, new_status: 'preparing' });
  });

  it('delivers postgres_changes on public.orders to the customer whose order it is, not to another', async () => {
    const adaCh = (await clientOf(ada.id)).channel(`orders-feed-${ada.id}`);
    const bolaCh = (await clientOf(bola.id)).channel(`orders-feed-${bola.id}`);
    const adaInbox = new Inbox();
    const bolaInbox = new Inbox();
    adaCh.on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'orders' }, adaInbox.push);
    bolaCh.on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'orders' }, bolaInbox.push);
    await Promise.all([subscribed(adaCh), subscribed(bolaCh)]);

    const adaOrder = await placeOrder(ada.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: ada.addressId });
    const bolaOrder = await placeOrder(bola.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 2 }], addressId: bola.addressId });
    await setStatus(vendor.owner.id, adaOrder.id, 'preparing');
    await setStatus(vendor.owner.id, bolaOrder.id, 'preparing');

    const adaGot = await adaInbox.until((cs) => cs.some((c) => c.new.id === adaOrder.id && c.new.status === 'preparing'));
    expect(adaGot.find((c) => c.new.status === 'preparing')).toMatchObject({ eventType: 'UPDATE', schema: 'public', table: 'orders', new: { id: adaOrder.id, customer_id: ada.id, status: 'preparing' } });
    await bolaInbox.until((cs) => cs.some((c) => c.new.id === bolaOrder.id && c.new.status === 'preparing'));
    // Bola saw his own order's updates and never Ada's (his came after hers, on one ordered feed).
    expect(bolaInbox.items.every((c) => c.new.customer_id === bola.id)).toBe(true);
    expect(adaInbox.items.every((c) => c.new.customer_id === ada.id)).toBe(true);
  });

  it('lets an admin announce to every signed-in user on the announcements topic', async () => {
    const listener = (await clientOf(bola.id)).channel('announcements', { config: { private: true } });
    const inbox = new Inbox();
    listener.on('broadcast', { event: 'notice' }, inbox.push);
    await subscribed(listener);
    const adminCh = (await clientOf(admin.id)).channel('announcements', { config: { private: true, broadcast: { ack: true } } });
    await subscribed(adminCh);
    expect(await adminCh.send({ type: 'broadcast', event: 'notice', payload: { text: 'Free delivery today' } })).toBe('ok');
    expect((await inbox.next(1))[0].payload).toEqual({ text: 'Free delivery today' });
  });
});
