// Ordering through the RPCs a client calls: server-side pricing, every refusal
// with its code and nothing written, the lifecycle per actor, and the money
// that moves with it.
import { beforeAll, describe, expect, it } from 'vitest';
import { asService, asUser, createUser, serviceSql } from '../helpers/db.ts';
import {
  createAdmin, createCustomer, createVendor, errorOf, fundWallet, IKEJA, jollofWithChicken, placeOrder, setStatus,
  walletBalance, type TestUser, type TestVendor,
} from './fixtures.ts';

let vendor: TestVendor;
let otherVendor: TestVendor;
let customer: TestUser & { addressId: string };
let admin: TestUser;

beforeAll(async () => {
  [vendor, otherVendor, customer, admin] = await Promise.all([createVendor(), createVendor(), createCustomer(), createAdmin()]);
  await fundWallet(customer.id, 10_000_000);
});

async function orderCount(userId: string): Promise<number> {
  const [r] = await serviceSql()`select count(*)::int as n from public.orders where customer_id = ${userId}`;
  return r.n;
}

describe('pricing', () => {
  it('prices from current catalogue rows, with modifiers, quantities and the delivery fee', async () => {
    const items = [
      { menu_item_id: vendor.jollof, quantity: 2, modifier_ids: [vendor.beef, vendor.plantain, vendor.coleslaw] },
      { menu_item_id: vendor.suya, quantity: 3 },
    ];
    const [{ quote }] = await asUser(customer.id, (tx) => tx`
      select public.quote_order(${vendor.id}::uuid, ${JSON.stringify(items)}::text::jsonb, 'delivery', ${customer.addressId}::uuid) as quote`);
    const subtotal = (250000 + 60000 + 30000 + 20000) * 2 + 150000 * 3;
    expect(quote).toMatchObject({ subtotal, delivery_fee: 50000, total: subtotal + 50000, currency: 'NGN' });
    expect(quote.items).toHaveLength(2);
    expect(quote.items[0].modifiers.map((m: { name: string }) => m.name)).toEqual(['Beef', 'Coleslaw', 'Plantain']);

    const order = await placeOrder(customer.id, { vendorId: vendor.id, items, addressId: customer.addressId });
    expect(Number(order.subtotal)).toBe(subtotal);
    expect(Number(order.total)).toBe(subtotal + 50000);
    expect(Number(order.commission)).toBe(Math.round(subtotal * 0.15));
    expect(order.status).toBe('new');
    expect(order.payment_status).toBe('paid');
    expect(order.number).toMatch(/^RB-\d{6,}$/);
    expect(order.delivery_address).toMatchObject({ line1: '12 Adeola Odeku St', city: 'Lagos' });
    const lines = await serviceSql()`select name, unit_price, modifiers_total, quantity, line_total from public.order_items where order_id = ${order.id} order by position`;
    expect(lines.map((l) => [l.name, Number(l.unit_price), Number(l.modifiers_total), l.quantity, Number(l.line_total)])).toEqual([
      ['Jollof rice', 250000, 110000, 2, 720000],
      ['Suya', 150000, 0, 3, 450000],
    ]);
  });

  it('charges no delivery fee for pickup and needs no address', async () => {
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment: 'pickup', addressId: null });
    expect(Number(order.delivery_fee)).toBe(0);
    expect(Number(order.total)).toBe(330000);
    expect(order.delivery_address).toBeNull();
  });

  it('uses the price at order time: a later price change does not alter the order', async () => {
    const v = await createVendor();
    const order = await placeOrder(customer.id, { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 1 }], fulfillment: 'pickup' });
    await asUser(v.owner.id, (tx) => tx`update public.menu_items set price = 999900 where id = ${v.suya}`);
    const [line] = await serviceSql()`select unit_price from public.order_items where order_id = ${order.id}`;
    expect(Number(line.unit_price)).toBe(150000);
    const again = await placeOrder(customer.id, { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 1 }], fulfillment: 'pickup' });
    expect(Number(again.subtotal)).toBe(999900);
  });

  it('reads ids in any spelling Postgres accepts as a uuid', async () => {
    const bare = (id: string) => id.replaceAll('-', '').toUpperCase();
    const items = [{ menu_item_id: bare(vendor.jollof), quantity: 1, modifier_ids: [`{${vendor.chicken}}`] }];
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items, fulfillment: 'pickup' });
    expect(Number(order.subtotal)).toBe(330000);
  });

  it('ignores prices sent by the client', async () => {
    const items = [{ menu_item_id: vendor.suya, quantity: 1, price: 1, unit_price: 1, line_total: 1 }];
    const order = await placeOrder(customer.id, { vendorId: vendor.id, items, fulfillment: 'pickup' });
    expect(Number(order.subtotal)).toBe(150000);
  });
});

describe('refusals: a clear code and nothing written', () => {
  const cases: Array<[string, () => Promise<Parameters<typeof placeOrder>[1]>, string, string]> = [
    ['items from two vendors', async () => ({ vendorId: vendor.id, items: [jollofWithChicken(vendor), { menu_item_id: otherVendor.suya, quantity: 1 }] }), 'P0001', 'mixed_vendors'],
    ['an unavailable item', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.soldOut, quantity: 1 }] }), 'P0001', 'item_unavailable'],
    ['an unknown item', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: crypto.randomUUID(), quantity: 1 }] }), 'PT404', 'item_not_found'],
    ['a closed vendor', async () => { const v = await createVendor({ isOpen: false }); return { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 1 }] }; }, 'P0001', 'vendor_closed'],
    ['a pending vendor', async () => { const v = await createVendor({ status: 'pending' }); return { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 1 }] }; }, 'P0001', 'vendor_unavailable'],
    ['an unknown vendor', async () => ({ vendorId: crypto.randomUUID(), items: [{ menu_item_id: vendor.suya, quantity: 1 }] }), 'PT404', 'vendor_not_found'],
    ['below the minimum order', async () => { const v = await createVendor({ minOrder: 500000 }); return { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 3 }] }; }, 'P0001', 'below_min_order'],
    ['outside the delivery radius', async () => {
      const [a] = await asUser(customer.id, (tx) => tx`insert into public.addresses (label, line1, city, lat, lng) values ('Office', 'Allen Ave', 'Ikeja', ${IKEJA.lat}, ${IKEJA.lng}) returning id`);
      return { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: a.id };
    }, 'P0001', 'outside_delivery_radius'],
    ['someone else\'s address', async () => { const other = await createCustomer(); return { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: other.addressId }; }, 'PT404', 'address_not_found'],
    ['delivery without an address', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: null }), 'P0001', 'address_required'],
    ['quantity 0', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 0 }] }), 'P0001', 'invalid_quantity'],
    ['quantity 51', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 51 }] }), 'P0001', 'invalid_quantity'],
    ['a fractional quantity', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1.5 }] }), 'P0001', 'invalid_quantity'],
    ['a negative quantity', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: -2 }] }), 'P0001', 'invalid_quantity'],
    ['no items', async () => ({ vendorId: vendor.id, items: [] }), 'P0001', 'invalid_items'],
    ['items that are not a list', async () => ({ vendorId: vendor.id, items: { menu_item_id: vendor.suya } }), 'P0001', 'invalid_items'],
    ['a malformed item id', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: 'jollof', quantity: 1 }] }), 'P0001', 'invalid_items'],
    ['a malformed modifier id', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.jollof, quantity: 1, modifier_ids: [vendor.chicken, 'extra-pepper'] }] }), 'P0001', 'invalid_items'],
    ['a quantity sent as text', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: '2' }] }), 'P0001', 'invalid_quantity'],
    ['a quantity beyond any integer', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1e20 }] }), 'P0001', 'invalid_quantity'],
    ['a required modifier group left out', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.jollof, quantity: 1 }] }), 'P0001', 'invalid_modifier_selection'],
    ['two options in a pick-one group', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.jollof, quantity: 1, modifier_ids: [vendor.chicken, vendor.beef] }] }), 'P0001', 'invalid_modifier_selection'],
    ['more extras than allowed', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.jollof, quantity: 1, modifier_ids: [vendor.chicken, vendor.plantain, vendor.coleslaw, vendor.moimoi] }] }), 'P0001', 'invalid_modifier_selection'],
    ['a modifier of another item', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1, modifier_ids: [vendor.chicken] }] }), 'P0001', 'invalid_modifier'],
    ['a modifier of another vendor', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.jollof, quantity: 1, modifier_ids: [otherVendor.chicken] }] }), 'P0001', 'invalid_modifier'],
    ['the same modifier twice', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.jollof, quantity: 1, modifier_ids: [vendor.chicken, vendor.plantain, vendor.plantain] }] }), 'P0001', 'invalid_modifier'],
    ['an unknown fulfillment', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'drone' }), 'P0001', 'invalid_fulfillment'],
    ['an unknown payment method', async () => ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], paymentMethod: 'cash' }), 'P0001', 'invalid_payment_method'],
  ];

  for (const [name, args, code, message] of cases) {
    it(`refuses ${name} with ${message}`, async () => {
      const a = await args();
      const before = await orderCount(customer.id);
      const balance = await walletBalance(customer.id);
      const err = await errorOf(placeOrder(customer.id, { addressId: customer.addressId, ...a }));
      expect(err).toMatchObject({ code, message });
      expect(err.detail).toBeTruthy();
      expect(await orderCount(customer.id)).toBe(before);
      expect(await walletBalance(customer.id)).toBe(balance);
    });
  }

  it('refuses a wallet order the balance does not cover, writing nothing', async () => {
    const poor = await createCustomer();
    await fundWallet(poor.id, 100000);
    const err = await errorOf(placeOrder(poor.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: poor.addressId }));
    expect(err).toMatchObject({ code: 'P0001', message: 'insufficient_funds' });
    expect(await orderCount(poor.id)).toBe(0);
    expect(await walletBalance(poor.id)).toBe(100000);
  });

  it('refuses a vendor with hours when now is outside them (Africa/Lagos)', async () => {
    const v = await createVendor();
    // A one-minute window twelve hours from now (Lagos time) is certainly closed now.
    await serviceSql()`
      insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at)
      select ${v.id}, extract(dow from t)::smallint, t::time, (t + interval '1 minute')::time
      from (select date_trunc('minute', (now() at time zone 'Africa/Lagos') + interval '12 hours') as t) s
      where (t + interval '1 minute')::time > t::time`;
    const err = await errorOf(placeOrder(customer.id, { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 1 }], fulfillment: 'pickup' }));
    expect(err.message).toBe('vendor_closed');
    await serviceSql()`delete from public.vendor_hours where vendor_id = ${v.id}`;
    await serviceSql()`
      insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at)
      values (${v.id}, extract(dow from now() at time zone 'Africa/Lagos')::smallint, '00:00', '24:00')`;
    const order = await placeOrder(customer.id, { vendorId: v.id, items: [{ menu_item_id: v.suya, quantity: 1 }], fulfillment: 'pickup' });
    expect(order.status).toBe('new');
  });

  it('refuses anonymous callers and suspended users', async () => {
    const [{ anon }] = await serviceSql()`select has_function_privilege('anon', 'public.place_order(uuid, jsonb, text, uuid, text, text, text, text, bigint, timestamptz)', 'execute') as anon`;
    expect(anon).toBe(false);
    const suspended = await createCustomer();
    await fundWallet(suspended.id, 1_000_000);
    await serviceSql()`update public.profiles set status = 'suspended' where id = ${suspended.id}`;
    const err = await errorOf(placeOrder(suspended.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: suspended.addressId }));
    expect(err).toMatchObject({ code: '42501', message: 'account_suspended' });
  });
});

describe('idempotency', () => {
  it('returns the same order for the same key without charging twice', async () => {
    const c = await createCustomer();
    await fundWallet(c.id, 1_000_000);
    const args = { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId, idempotencyKey: 'checkout-1' };
    const first = await placeOrder(c.id, args);
    const second = await placeOrder(c.id, args);
    expect(second.id).toBe(first.id);
    expect(await walletBalance(c.id)).toBe(1_000_000 - 200000);
    // Keys are per customer: another customer's same key is another order.
    const other = await createCustomer();
    await fundWallet(other.id, 1_000_000);
    const theirs = await placeOrder(other.id, { ...args, addressId: other.addressId });
    expect(theirs.id).not.toBe(first.id);
  });
});

describe('card orders', () => {
  it('waits for payment without touching the wallet', async () => {
    const c = await createCustomer();
    const order = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId, paymentMethod: 'paystack' });
    expect(order).toMatchObject({ status: 'awaiting_payment', payment_status: 'pending', payment_method: 'paystack' });
    expect(await walletBalance(c.id)).toBe(0);
  });

  it('expires unpaid orders after 30 minutes, by service_role only', async () => {
    const c = await createCustomer();
    const fresh = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId, paymentMethod: 'stripe' });
    const old = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 2 }], addressId: c.addressId, paymentMethod: 'stripe' });
    await serviceSql()`update public.orders set created_at = now() - interval '31 minutes' where id = ${old.id}`;
    expect((await errorOf(asUser(c.id, (tx) => tx`select public.expire_unpaid_orders()`))).code).toBe('42501');
    // Other test files expire their own orders concurrently, so the count is not ours to assert; the states are.
    const [{ n }] = await asService((tx) => tx`select public.expire_unpaid_orders() as n`);
    expect(typeof n).toBe('number');
    const rows = await serviceSql()`select id, status, payment_status, cancel_reason, cancelled_by_role from public.orders where id in (${fresh.id}, ${old.id})`;
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[old.id]).toMatchObject({ status: 'cancelled', payment_status: 'cancelled', cancel_reason: 'payment_timeout', cancelled_by_role: 'system' });
    expect(byId[fresh.id].status).toBe('awaiting_payment');
  });
});

describe('lifecycle', () => {
  async function walletOrder(fulfillment = 'delivery') {
    return placeOrder(customer.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], fulfillment, addressId: customer.addressId });
  }

  it('walks a delivery order to completion; the vendor is paid and the commission booked', async () => {
    const order = await walletOrder();
    const ownerBefore = await walletBalance(vendor.owner.id);
    for (const s of ['preparing', 'ready', 'out_for_delivery', 'completed']) {
      const o = await setStatus(vendor.owner.id, order.id, s);
      expect(o.status).toBe(s);
    }
    const [o] = await serviceSql()`select * from public.orders where id = ${order.id}`;
    expect(o.accepted_at && o.ready_at && o.out_for_delivery_at && o.completed_at).toBeTruthy();
    // 330000 + 50000 delivery - round(330000 * 0.15) commission
    expect(await walletBalance(vendor.owner.id)).toBe(ownerBefore + 330000 + 50000 - 49500);
    const [c] = await serviceSql()`select amount from public.platform_ledger where order_id = ${order.id}`;
    expect(Number(c.amount)).toBe(49500);
    const events = await serviceSql()`select from_status, to_status, actor_role from public.order_events where order_id = ${order.id} order by id`;
    expect(events.map((e) => `${e.from_status ?? '-'}>${e.to_status}:${e.actor_role}`)).toEqual([
      '->new:customer', 'new>preparing:vendor', 'preparing>ready:vendor', 'ready>out_for_delivery:vendor',
      'out_for_delivery>completed:vendor',
    ]);
  });

  it('completes a pickup order from ready, and refuses out_for_delivery for pickup', async () => {
    const order = await walletOrder('pickup');
    await setStatus(vendor.owner.id, order.id, 'preparing');
    await setStatus(vendor.owner.id, order.id, 'ready');
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'out_for_delivery'))).message).toBe('invalid_transition');
    expect((await setStatus(vendor.owner.id, order.id, 'completed')).status).toBe('completed');
  });

  it('refuses skipping stages and going backwards', async () => {
    const order = await walletOrder();
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'ready'))).message).toBe('invalid_transition');
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'completed'))).message).toBe('invalid_transition');
    await setStatus(vendor.owner.id, order.id, 'preparing');
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'new'))).message).toBe('invalid_transition');
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'shipped'))).message).toBe('invalid_status');
  });

  it('lets the customer cancel only in awaiting_payment or new, with a full wallet refund', async () => {
    const order = await walletOrder();
    const before = await walletBalance(customer.id);
    const cancelled = await asUser(customer.id, (tx) => tx`select * from public.cancel_order(${order.id}::uuid, 'changed my mind')`);
    expect(cancelled[0]).toMatchObject({ status: 'cancelled', payment_status: 'refunded', cancelled_by_role: 'customer', cancel_reason: 'changed my mind' });
    expect(await walletBalance(customer.id)).toBe(before + 380000);

    const preparing = await walletOrder();
    await setStatus(vendor.owner.id, preparing.id, 'preparing');
    const err = await errorOf(asUser(customer.id, (tx) => tx`select * from public.cancel_order(${preparing.id}::uuid)`));
    expect(err).toMatchObject({ code: '42501', message: 'transition_not_allowed' });
    expect((await errorOf(setStatus(customer.id, preparing.id, 'ready'))).message).toBe('transition_not_allowed');
  });

  it('lets the vendor cancel in new or preparing with a reason only', async () => {
    const order = await walletOrder();
    await setStatus(vendor.owner.id, order.id, 'preparing');
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'cancelled'))).message).toBe('reason_required');
    const o = await setStatus(vendor.owner.id, order.id, 'cancelled', 'out of rice');
    expect(o).toMatchObject({ status: 'cancelled', cancelled_by_role: 'vendor', payment_status: 'refunded' });
    const ready = await walletOrder();
    await setStatus(vendor.owner.id, ready.id, 'preparing');
    await setStatus(vendor.owner.id, ready.id, 'ready');
    expect((await errorOf(setStatus(vendor.owner.id, ready.id, 'cancelled', 'too late'))).message).toBe('invalid_transition');
  });

  it('lets an admin make any valid transition with a reason', async () => {
    const order = await walletOrder();
    expect((await errorOf(setStatus(admin.id, order.id, 'preparing'))).message).toBe('reason_required');
    expect((await setStatus(admin.id, order.id, 'preparing', 'vendor phoned in')).status).toBe('preparing');
    const o = await setStatus(admin.id, order.id, 'cancelled', 'customer complaint');
    expect(o).toMatchObject({ status: 'cancelled', cancelled_by_role: 'admin' });
  });

  it('hides orders from users who are neither customer, vendor owner nor admin', async () => {
    const order = await walletOrder();
    const stranger = await createUser();
    expect(await errorOf(setStatus(stranger.id, order.id, 'cancelled', 'x'))).toMatchObject({ code: 'PT404', message: 'order_not_found' });
    expect(await errorOf(setStatus(otherVendor.owner.id, order.id, 'preparing'))).toMatchObject({ code: 'PT404', message: 'order_not_found' });
    const [{ n }] = await asUser(stranger.id, (tx) => tx`select count(*)::int as n from public.orders where id = ${order.id}`);
    expect(n).toBe(0);
  });

  it('never lets a client mark a card order paid', async () => {
    const c = await createCustomer();
    const order = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId, paymentMethod: 'paystack' });
    for (const actor of [c.id, vendor.owner.id]) {
      expect((await errorOf(setStatus(actor, order.id, 'new'))).message).toBe('invalid_transition');
    }
    expect((await errorOf(setStatus(admin.id, order.id, 'new', 'trust me'))).message).toBe('invalid_transition');
    expect((await errorOf(setStatus(vendor.owner.id, order.id, 'preparing'))).message).toBe('invalid_transition');
  });
});
