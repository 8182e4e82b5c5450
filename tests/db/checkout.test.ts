// Checkout v2 through the RPCs a client calls: the priced breakdown and every
// rounding rule, the delivery fee by distance, coupons with every refusal and
// their limits under 20 concurrent orders, tips, stock under 20 concurrent
// orders, scheduled orders around the Lagos day boundary, holiday closures,
// reviews, favourites, reorder, and the books after a day that uses all of it.
//
// The suite's platform is fee-free (tests/global-setup.ts); tests about fees set
// the default fees inside one transaction that rolls back (withFees), acting
// as each user there exactly as PostgREST does (role and claims per request).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rollback, asAnon, asService, asUser, serviceSql, type Tx } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient, userAccessToken } from '../helpers/supabase.ts';
import {
  createAdmin, createCustomer, createVendor, errorOf, fundWallet, jollofWithChicken, payByCard, placeOrder, setStatus, VI,
  walletBalance, type OrderRow, type PlaceOrderArgs, type TestUser, type TestVendor,
} from './fixtures.ts';

type Customer = TestUser & { addressId: string };

let wide: postgres.Sql;
let admin: TestUser;
let codeCounter = 0;

beforeAll(async () => {
  wide = postgres(stackEnv().dbUrl, { max: 25, onnotice: () => {}, idle_timeout: 5 });
  admin = await createAdmin();
});
afterAll(async () => {
  await wide.end({ timeout: 5 });
});

/** A unique coupon code for this run. */
function code(prefix = 'C'): string {
  codeCounter += 1;
  return `${prefix}${process.pid % 100000}X${codeCounter}`;
}

async function coupon(fields: Record<string, unknown>): Promise<{ id: string; code: string }> {
  const row = { code: code(), kind: 'percent', value: 10, per_customer_limit: null, ...fields };
  const [c] = await serviceSql()`insert into public.coupons ${serviceSql()(row)} returning id, code`;
  return c as { id: string; code: string };
}

async function customerWithMoney(amount = 10_000_000): Promise<Customer> {
  const c = await createCustomer();
  await fundWallet(c.id, amount);
  return c;
}

function placeSql(tx: Tx, a: PlaceOrderArgs) {
  return tx`
    select * from public.place_order(
      p_vendor_id => ${a.vendorId}::uuid, p_items => ${JSON.stringify(a.items)}::text::jsonb,
      p_fulfillment => ${a.fulfillment ?? 'delivery'}, p_address_id => ${a.addressId ?? null}::uuid,
      p_payment_method => ${a.paymentMethod ?? 'wallet'}, p_note => ${a.note ?? null},
      p_idempotency_key => ${a.idempotencyKey ?? null}, p_coupon_code => ${a.couponCode ?? null},
      p_tip => ${a.tip ?? 0}::bigint, p_scheduled_for => ${a.scheduledFor ?? null}::timestamptz)`;
}

function quoteSql(tx: Tx, a: PlaceOrderArgs) {
  return tx`
    select public.quote_order(
      p_vendor_id => ${a.vendorId}::uuid, p_items => ${JSON.stringify(a.items)}::text::jsonb,
      p_fulfillment => ${a.fulfillment ?? 'delivery'}, p_address_id => ${a.addressId ?? null}::uuid,
      p_coupon_code => ${a.couponCode ?? null}, p_tip => ${a.tip ?? 0}::bigint,
      p_scheduled_for => ${a.scheduledFor ?? null}::timestamptz) as q`;
}

async function quote(userId: string, a: PlaceOrderArgs): Promise<Record<string, any>> {
  const [r] = await asUser(userId, (tx) => quoteSql(tx, a));
  return r.q;
}

/** place_order on its own connection of the wide pool: the order id or the error code. */
function placeWide(userId: string, a: PlaceOrderArgs): Promise<{ id?: string; error?: string }> {
  return wide.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: userId })}, true)`;
    const [o] = await placeSql(tx, a);
    return { id: o.id as string };
  }).catch((err: Error) => ({ error: err.message })) as Promise<{ id?: string; error?: string }>;
}

const breakdown = (o: Record<string, any>) => ({
  subtotal: Number(o.subtotal), discount: Number(o.discount), delivery_fee: Number(o.delivery_fee), service_fee: Number(o.service_fee),
  small_order_fee: Number(o.small_order_fee), vat: Number(o.vat), tip: Number(o.tip), total: Number(o.total),
});

interface Day {
  tx: Tx;
  /** Acts as this user (role authenticated), as PostgREST does for a request. */
  as(userId: string): Promise<void>;
  /** Acts as service_role (the edge functions and webhooks). */
  service(): Promise<void>;
  /** Back to the database owner (jobs, fixtures). */
  owner(): Promise<void>;
  books(): Promise<Record<string, any>>;
}

/** Runs `fn` with the issue's default fees in one transaction that always rolls back. */
async function withFees<T>(fn: (d: Day) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await serviceSql().begin(async (tx) => {
      await tx`update public.platform_settings set service_fee_rate = 0.05, service_fee_cap = 150000,
                 small_order_threshold = 200000, small_order_fee = 20000, vat_rate = 0.075`;
      const claims = (c: Record<string, unknown>) => JSON.stringify(c);
      const d: Day = {
        tx,
        as: async (uid) => { await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims({ role: 'authenticated', sub: uid })}, true)`; },
        service: async () => { await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', ${claims({ role: 'service_role' })}, true)`; },
        owner: async () => { await tx.unsafe('set local role none'); await tx`select set_config('request.jwt.claims', '', true)`; },
        books: async () => {
          await d.owner();
          const [b] = await tx`select * from admin.money_conservation`;
          return b;
        },
      };
      result = await fn(d);
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return result as T;
}

describe('platform settings', () => {
  it('has one row, with the documented defaults', async () => {
    const cols = await serviceSql()`select column_name, column_default from information_schema.columns
      where table_schema = 'public' and table_name = 'platform_settings' and column_name <> 'updated_at' and column_name <> 'updated_by' order by 1`;
    expect(Object.fromEntries(cols.map((c) => [c.column_name, c.column_default]))).toEqual({
      id: 'true', service_fee_rate: '0.05', service_fee_cap: '150000', small_order_threshold: '200000', small_order_fee: '20000', vat_rate: '0.075',
    });
    const [n] = await serviceSql()`select count(*)::int as n from public.platform_settings`;
    expect(n.n).toBe(1);
    expect((await errorOf(serviceSql()`insert into public.platform_settings (id) values (false)`)).code).toBe('23514');
  });

  it('is changed by admins only, who are recorded', async () => {
    const c = await createCustomer();
    const byCustomer = await asUser(c.id, (tx) => tx`update public.platform_settings set vat_rate = 0 returning 1`);
    expect(byCustomer.length).toBe(0);
    const [row] = await asUser(admin.id, (tx) => tx`update public.platform_settings set vat_rate = vat_rate returning updated_by`);
    expect(row.updated_by).toBe(admin.id);
    expect((await asAnon((tx) => tx`select vat_rate from public.platform_settings`)).length).toBe(1);
  });
});

describe('the breakdown with the default fees', () => {
  let vendor: TestVendor;
  let customer: Customer;
  beforeAll(async () => {
    [vendor, customer] = await Promise.all([createVendor(), customerWithMoney()]);
  });

  it('charges 5% service, VAT on the fees rounded half up, and stores every component', async () => {
    const args = { vendorId: vendor.id, items: [jollofWithChicken(vendor)], addressId: customer.addressId };
    const { q, order, paid } = await withFees(async (d) => {
      await d.as(customer.id);
      const [{ q }] = await quoteSql(d.tx, args);
      const [order] = await placeSql(d.tx, args);
      const [w] = await d.tx`select amount from public.wallet_transactions where order_id = ${order.id} and type = 'order_payment'`;
      return { q, order, paid: Number(w.amount) };
    });
    // 330000 food; 50000 delivery (1.6 km, inside the 3 km base); service round(16500);
    // VAT round((16500 + 50000) x 0.075 = 4987.5) = 4988, half up.
    const want = { subtotal: 330000, discount: 0, delivery_fee: 50000, service_fee: 16500, small_order_fee: 0, vat: 4988, tip: 0, total: 401488 };
    expect(breakdown(q)).toEqual(want);
    expect(breakdown(order)).toEqual(want);
    expect(paid).toBe(-401488);
    expect(q).toMatchObject({ currency: 'NGN', coupon_code: null, scheduled_for: null });
    expect(q.items[0]).not.toHaveProperty('stock_reserved');
  });

  it('adds the small-order fee below the threshold, and VAT on it', async () => {
    const q = await withFees(async (d) => {
      await d.as(customer.id);
      const [{ q }] = await quoteSql(d.tx, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' });
      return q;
    });
    // VAT round((7500 + 20000) x 0.075 = 2062.5) = 2063.
    expect(breakdown(q)).toEqual({ subtotal: 150000, discount: 0, delivery_fee: 0, service_fee: 7500, small_order_fee: 20000, vat: 2063, tip: 0, total: 179563 });
  });

  it('caps the service fee', async () => {
    const q = await withFees(async (d) => {
      await d.as(customer.id);
      const [{ q }] = await quoteSql(d.tx, { vendorId: vendor.id, items: [jollofWithChicken(vendor, 10)], fulfillment: 'pickup' });
      return q;
    });
    expect(breakdown(q)).toEqual({ subtotal: 3300000, discount: 0, delivery_fee: 0, service_fee: 150000, small_order_fee: 0, vat: 11250, tip: 0, total: 3461250 });
  });

  it('charges VAT on the delivery fee a free-delivery coupon takes off', async () => {
    const free = await coupon({ kind: 'free_delivery', value: 0 });
    const q = await withFees(async (d) => {
      await d.as(customer.id);
      const [{ q }] = await quoteSql(d.tx, { vendorId: vendor.id, items: [jollofWithChicken(vendor)], addressId: customer.addressId, couponCode: free.code });
      return q;
    });
    expect(breakdown(q)).toEqual({ subtotal: 330000, discount: 50000, delivery_fee: 50000, service_fee: 16500, small_order_fee: 0, vat: 4988, tip: 0, total: 351488 });
  });

  it('keeps calls without the new parameters working (positional, v1 arity)', async () => {
    const c = await customerWithMoney();
    const [o] = await asUser(c.id, (tx) => tx`select * from public.place_order(${vendor.id}::uuid, ${JSON.stringify([{ menu_item_id: vendor.suya, quantity: 1 }])}::text::jsonb, 'pickup', null, 'wallet')`);
    expect(breakdown(o)).toMatchObject({ subtotal: 150000, total: 150000, tip: 0, discount: 0 });
    const [q] = await asUser(c.id, (tx) => tx`select public.quote_order(${vendor.id}::uuid, ${JSON.stringify([{ menu_item_id: vendor.suya, quantity: 1 }])}::text::jsonb, 'pickup') as q`);
    expect(Number(q.q.total)).toBe(150000);
  });
});

describe('through the API (supabase-js)', () => {
  it('takes the new named parameters and answers refusals with a 4xx, code and sentence', async () => {
    const vendor = await createVendor();
    const c = await customerWithMoney();
    const tip10 = await coupon({ kind: 'percent', value: 10 });
    const client = testClient({ global: { headers: { Authorization: `Bearer ${await userAccessToken(c.id)}` } } });
    const items = [{ menu_item_id: vendor.suya, quantity: 2 }];
    const q = await client.rpc('quote_order', { p_vendor_id: vendor.id, p_items: items, p_fulfillment: 'pickup', p_coupon_code: tip10.code, p_tip: 10000 });
    expect(q.error).toBeNull();
    expect(breakdown(q.data)).toMatchObject({ subtotal: 300000, discount: 30000, tip: 10000, total: 280000 });
    const placed = await client.rpc('place_order', { p_vendor_id: vendor.id, p_items: items, p_fulfillment: 'pickup', p_address_id: null, p_payment_method: 'wallet', p_coupon_code: tip10.code, p_tip: 10000 });
    expect(placed.error).toBeNull();
    expect(breakdown(placed.data)).toMatchObject({ total: 280000 });
    const refused = await client.rpc('place_order', { p_vendor_id: vendor.id, p_items: items, p_fulfillment: 'pickup', p_address_id: null, p_payment_method: 'wallet', p_tip: 200000 });
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ message: 'tip_out_of_range', details: expect.stringContaining('half the subtotal') });
    const late = await client.rpc('quote_order', { p_vendor_id: vendor.id, p_items: items, p_fulfillment: 'pickup', p_scheduled_for: new Date(Date.now() + 8 * 86400_000).toISOString() });
    expect(late.error).toMatchObject({ message: 'invalid_schedule' });
  });
});

describe('delivery fee by distance', () => {
  it('adds per_km_fee for every started km beyond the base, as nearby_vendors shows it', async () => {
    const vendor = await createVendor({ radiusKm: 30 });
    const c = await customerWithMoney();
    const lat = VI.lat + 0.05;
    const [addr] = await asUser(c.id, (tx) => tx`insert into public.addresses (label, line1, city, lat, lng) values ('Far', '9 Far Rd', 'Lagos', ${lat}, ${VI.lng}) returning id`);
    const [{ km }] = await serviceSql()`select private.distance_km(${VI.lat}, ${VI.lng}, ${lat}, ${VI.lng}) as km`;
    expect(km).toBeGreaterThan(5);
    const want = 50000 + 10000 * Math.ceil(km - 3);
    expect(want).toBe(80000);
    const order = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: addr.id });
    expect(Number(order.delivery_fee)).toBe(want);
    expect(Number(order.distance_km)).toBeCloseTo(km, 2);
    const near = await asAnon((tx) => tx`select delivery_fee from public.nearby_vendors(${lat}, ${VI.lng}, 10) where id = ${vendor.id}`);
    expect(Number(near[0].delivery_fee)).toBe(want);

    // The owner sets its own base and rate; the fee follows.
    await asUser(vendor.owner.id, (tx) => tx`update public.vendors set base_delivery_km = 6, per_km_fee = 25000 where id = ${vendor.id}`);
    expect(Number((await quote(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: addr.id })).delivery_fee)).toBe(50000);
    await asUser(vendor.owner.id, (tx) => tx`update public.vendors set base_delivery_km = 0 where id = ${vendor.id}`);
    expect(Number((await quote(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: addr.id })).delivery_fee))
      .toBe(50000 + 25000 * Math.ceil(km));
  });

  it('shows no fee where the vendor does not deliver', async () => {
    const vendor = await createVendor({ radiusKm: 2, name: `Tiny Radius ${code()}` });
    const rows = await asAnon((tx) => tx`select delivery_fee, distance_km from public.nearby_vendors(${VI.lat + 0.05}, ${VI.lng}, 10) where id = ${vendor.id}`);
    expect(rows).toEqual([{ delivery_fee: null, distance_km: expect.any(Number) }]);
    const inside = await asAnon((tx) => tx`select delivery_fee from public.nearby_vendors(${VI.lat}, ${VI.lng}, 10) where id = ${vendor.id}`);
    expect(Number(inside[0].delivery_fee)).toBe(50000);
  });
});

describe('coupons', () => {
  let vendor: TestVendor;
  let other: TestVendor;
  let odd: string;
  beforeAll(async () => {
    [vendor, other] = await Promise.all([createVendor(), createVendor()]);
    const [item] = await asUser(vendor.owner.id, (tx) => tx`insert into public.menu_items (vendor_id, name, price) values (${vendor.id}, 'Odd pie', 123457) returning id`);
    odd = item.id;
  });
  const suya = (v: TestVendor, quantity = 1) => [{ menu_item_id: v.suya, quantity }];

  it('takes a percent off rounded down, capped by max_discount, matched without regard to case', async () => {
    const c = await customerWithMoney();
    const pct = await coupon({ kind: 'percent', value: 15 });
    // 15% of 123457 = 18518.55: the discount is 18518.
    const o = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: odd, quantity: 1 }], fulfillment: 'pickup', couponCode: pct.code.toLowerCase() });
    expect(breakdown(o)).toMatchObject({ subtotal: 123457, discount: 18518, total: 104939 });
    expect(o).toMatchObject({ coupon_id: pct.id, coupon_code: pct.code, discount_funded_by: 'platform' });
    const [r] = await serviceSql()`select discount, customer_id, released_at from public.coupon_redemptions where order_id = ${o.id}`;
    expect(r).toEqual({ discount: '18518', customer_id: c.id, released_at: null });
    expect(breakdown(await quote(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: '  ' }))).toMatchObject({ discount: 0, total: 150000 });
    const capped = await coupon({ kind: 'percent', value: 50, max_discount: 10000 });
    expect(Number((await quote(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: capped.code })).discount)).toBe(10000);
  });

  it('takes a fixed amount off, and never makes an order free', async () => {
    const c = await customerWithMoney();
    const fixed = await coupon({ kind: 'fixed', value: 20000 });
    expect(breakdown(await quote(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: fixed.code }))).toMatchObject({ discount: 20000, total: 130000 });
    const huge = await coupon({ kind: 'fixed', value: 500000 });
    // Capped at the subtotal, the fee-free order would cost nothing.
    expect((await errorOf(quote(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: huge.code }))).message).toBe('coupon_invalid');
    expect(breakdown(await quote(c.id, { vendorId: vendor.id, items: suya(vendor), addressId: c.addressId, couponCode: huge.code }))).toMatchObject({ discount: 150000, total: 50000 });
  });

  it('refuses every coupon that does not apply, with its code, and writes nothing', async () => {
    const c = await customerWithMoney();
    const mine = await coupon({ vendor_id: vendor.id, funded_by: 'vendor' });
    const cases: [string, string | Record<string, unknown>, string][] = [
      ['unknown code', 'NO-SUCH-CODE', 'coupon_invalid'],
      ['malformed code', 'x'.repeat(5000), 'coupon_invalid'],
      ['switched off', { is_active: false }, 'coupon_invalid'],
      ['not started', { starts_at: new Date(Date.now() + 86400_000) }, 'coupon_invalid'],
      ['ended', { starts_at: new Date(Date.now() - 2 * 86400_000), ends_at: new Date(Date.now() - 60_000) }, 'coupon_expired'],
      ['another vendor', { vendor_id: other.id, funded_by: 'vendor' }, 'coupon_wrong_vendor'],
      ['below its minimum', { min_subtotal: 200000 }, 'coupon_min_subtotal'],
      ['free delivery on pickup', { kind: 'free_delivery', value: 0 }, 'coupon_invalid'],
      ['used up', { max_redemptions: 1 }, 'coupon_exhausted'],
      ['per-customer limit', { per_customer_limit: 1 }, 'coupon_limit_reached'],
    ];
    expect((await placeOrder(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: mine.code })).discount_funded_by).toBe('vendor');
    const [before] = await serviceSql()`select count(*)::int as n from public.orders where customer_id = ${c.id}`;
    for (const [label, spec, want] of cases) {
      const used = typeof spec === 'string' ? spec : (await coupon(spec)).code;
      if (want === 'coupon_exhausted') await placeOrder((await customerWithMoney()).id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: used });
      if (want === 'coupon_limit_reached') await placeOrder(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: used });
      const err = await errorOf(placeOrder(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: used }));
      expect({ label, message: err.message, code: err.code }).toEqual({ label, message: want, code: 'P0001' });
      expect((await errorOf(quote(c.id, { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: used }))).message).toBe(want);
    }
    const [after] = await serviceSql()`select count(*)::int as n from public.orders where customer_id = ${c.id}`;
    expect(after.n).toBe(before.n + 1); // the per-customer case's first use only
  });

  it('gives the use back when the order is cancelled before preparing, not after', async () => {
    const c = await customerWithMoney();
    const once = await coupon({ kind: 'fixed', value: 10000, per_customer_limit: 1 });
    const args = { vendorId: vendor.id, items: suya(vendor), fulfillment: 'pickup', couponCode: once.code };
    const first = await placeOrder(c.id, args);
    await asUser(c.id, (tx) => tx`select public.cancel_order(${first.id}::uuid, 'changed my mind')`);
    const [r] = await serviceSql()`select released_at from public.coupon_redemptions where order_id = ${first.id}`;
    expect(r.released_at).not.toBeNull();
    const second = await placeOrder(c.id, args);
    await setStatus(vendor.owner.id, second.id, 'preparing');
    await setStatus(vendor.owner.id, second.id, 'cancelled', 'out of gas');
    expect((await errorOf(placeOrder(c.id, args))).message).toBe('coupon_limit_reached');
  });

  it('lets a vendor owner make only vendor-funded coupons for its own vendor', async () => {
    const ok = await asUser(vendor.owner.id, (tx) => tx`insert into public.coupons (code, kind, value, vendor_id, funded_by) values (${code()}, 'fixed', 5000, ${vendor.id}, 'vendor') returning id`);
    expect(ok.length).toBe(1);
    for (const [vendorId, fundedBy] of [[vendor.id, 'platform'], [other.id, 'vendor'], [null, 'vendor']]) {
      const err = await errorOf(asUser(vendor.owner.id, (tx) => tx`insert into public.coupons (code, kind, value, vendor_id, funded_by) values (${code()}, 'fixed', 5000, ${vendorId}, ${fundedBy}) returning id`));
      expect(err.code).toBe('42501');
    }
    expect((await errorOf(serviceSql()`insert into public.coupons (code, kind, value) values (${code()}, 'percent', 101)`)).code).toBe('23514');
    const dup = code();
    await coupon({ code: dup });
    expect((await errorOf(coupon({ code: dup.toLowerCase() }))).code).toBe('23505');
  });
});

describe('coupon limits under 20 concurrent orders', () => {
  it('max_redemptions 5: exactly 5 of 20 customers get it', async () => {
    const vendor = await createVendor();
    const limited = await coupon({ kind: 'fixed', value: 10000, max_redemptions: 5 });
    const customers = await Promise.all(Array.from({ length: 20 }, () => customerWithMoney(1_000_000)));
    const results = await Promise.all(customers.map((c) => placeWide(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup', couponCode: limited.code })));
    expect(results.filter((r) => r.id).length).toBe(5);
    expect(results.filter((r) => r.error).map((r) => r.error)).toEqual(Array(15).fill('coupon_exhausted'));
    const [n] = await serviceSql()`select count(*)::int as n from public.coupon_redemptions where coupon_id = ${limited.id}`;
    expect(n.n).toBe(5);
  });

  it('per_customer_limit 3: exactly 3 of one customer\'s 20 orders get it', async () => {
    const vendor = await createVendor();
    const limited = await coupon({ kind: 'fixed', value: 10000, per_customer_limit: 3 });
    const c = await customerWithMoney();
    const results = await Promise.all(Array.from({ length: 20 }, () => placeWide(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup', couponCode: limited.code })));
    expect(results.filter((r) => r.id).length).toBe(3);
    expect(results.filter((r) => r.error).map((r) => r.error)).toEqual(Array(17).fill('coupon_limit_reached'));
  });
});

describe('tips', () => {
  let vendor: TestVendor;
  beforeAll(async () => {
    vendor = await createVendor();
  });

  it('accepts 0 to half the subtotal and refuses the rest', async () => {
    const c = await customerWithMoney();
    const args = { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' };
    expect((await errorOf(quote(c.id, { ...args, tip: -1 }))).message).toBe('tip_out_of_range');
    expect((await errorOf(quote(c.id, { ...args, tip: 75001 }))).message).toBe('tip_out_of_range');
    expect((await errorOf(quote(c.id, { ...args, tip: '9223372036854775807' as unknown as number }))).message).toBe('tip_out_of_range');
    expect((await errorOf(placeOrder(c.id, { ...args, tip: 75001 }))).message).toBe('tip_out_of_range');
    expect(breakdown(await quote(c.id, { ...args, tip: 75000 }))).toMatchObject({ tip: 75000, total: 225000 });
  });

  it('goes to the vendor in full without commission, and back to the customer on cancel', async () => {
    const c = await customerWithMoney(1_000_000);
    const ownerBefore = await walletBalance(vendor.owner.id);
    const o = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup', tip: 30000 });
    expect(Number(o.total)).toBe(180000);
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, o.id, s);
    // 150000 - round(150000 x 0.15) + 30000 tip.
    expect(await walletBalance(vendor.owner.id)).toBe(ownerBefore + 150000 - 22500 + 30000);
    const cancelled = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup', tip: 50000 });
    const before = await walletBalance(c.id);
    await asUser(c.id, (tx) => tx`select public.cancel_order(${cancelled.id}::uuid)`);
    expect(await walletBalance(c.id)).toBe(before + 200000);
  });
});

describe('stock', () => {
  it('20 concurrent orders for 7 portions: exactly 7 succeed, then the item is unavailable until a cancel gives one back', async () => {
    const vendor = await createVendor();
    await asUser(vendor.owner.id, (tx) => tx`update public.menu_items set stock = 7 where id = ${vendor.suya}`);
    const customers = await Promise.all(Array.from({ length: 20 }, () => customerWithMoney(1_000_000)));
    const results = await Promise.all(customers.map((c) => placeWide(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' })));
    const won = results.filter((r) => r.id);
    expect(won.length).toBe(7);
    expect(results.filter((r) => r.error).map((r) => r.error)).toEqual(Array(13).fill('item_out_of_stock'));
    const [item] = await serviceSql()`select stock, is_available from public.menu_items where id = ${vendor.suya}`;
    expect(item).toEqual({ stock: 0, is_available: false });
    expect((await asAnon((tx) => tx`select 1 from public.menu_items where id = ${vendor.suya}`)).length).toBe(0);

    // A cancel before preparing gives the portion back; one after preparing does not.
    const winners = customers.filter((_, i) => results[i].id);
    await asUser(winners[0].id, (tx) => tx`select public.cancel_order(${won[0].id!}::uuid)`);
    expect((await serviceSql()`select stock, is_available from public.menu_items where id = ${vendor.suya}`)[0]).toEqual({ stock: 1, is_available: true });
    await setStatus(vendor.owner.id, won[1].id!, 'preparing');
    await setStatus(vendor.owner.id, won[1].id!, 'cancelled', 'burnt');
    expect((await serviceSql()`select stock from public.menu_items where id = ${vendor.suya}`)[0].stock).toBe(1);
  });

  it('counts every line of the same item against the stock', async () => {
    const vendor = await createVendor();
    await asUser(vendor.owner.id, (tx) => tx`update public.menu_items set stock = 3 where id = ${vendor.suya}`);
    const c = await customerWithMoney();
    const err = await errorOf(placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 2 }, { menu_item_id: vendor.suya, quantity: 2 }], fulfillment: 'pickup' }));
    expect(err.message).toBe('item_out_of_stock');
    const o = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 2 }, { menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' });
    expect((await serviceSql()`select stock from public.menu_items where id = ${vendor.suya}`)[0].stock).toBe(0);
    const lines = await serviceSql()`select stock_reserved from public.order_items where order_id = ${o.id}`;
    expect(lines.map((l) => l.stock_reserved)).toEqual([true, true]);
  });
});

describe('scheduled orders (Africa/Lagos)', () => {
  let vendor: TestVendor;
  let c: Customer;
  /** Lagos wall-clock times two days from now, as timestamptz. */
  let at: Record<string, Date>;
  beforeAll(async () => {
    [vendor, c] = await Promise.all([createVendor({ isOpen: false }), customerWithMoney()]);
    // Open only from 00:00 to 01:00 Lagos time, every day: 23:00-00:00 UTC.
    await serviceSql()`insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at) select ${vendor.id}, d, '00:00', '01:00' from generate_series(0, 6) d`;
    const [row] = await serviceSql()`
      with day as (select date_trunc('day', now() at time zone 'Africa/Lagos') + interval '2 days' as d)
      select (d at time zone 'Africa/Lagos') as opens, ((d + interval '30 minutes') at time zone 'Africa/Lagos') as inside,
             ((d + interval '1 hour') at time zone 'Africa/Lagos') as closes, ((d + interval '90 minutes') at time zone 'Africa/Lagos') as after,
             ((d - interval '30 minutes') at time zone 'Africa/Lagos') as before
      from day`;
    at = row as Record<string, Date>;
  });
  const args = (scheduledFor: Date | string, extra: Partial<PlaceOrderArgs> = {}): PlaceOrderArgs =>
    ({ vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup', scheduledFor, ...extra });

  it('accepts times inside the Lagos hours (opening inclusive, closing exclusive) and refuses the rest', async () => {
    // 00:30 Lagos is 23:30 UTC the day before; 01:30 Lagos is 00:30 UTC, inside the hours if they were read in UTC.
    expect(at.inside.toISOString()).toMatch(/T23:30:00/);
    expect(at.after.toISOString()).toMatch(/T00:30:00/);
    for (const t of [at.opens, at.inside]) expect((await quote(c.id, args(t))).scheduled_for).toBeTruthy();
    for (const t of [at.closes, at.after, at.before]) {
      expect((await errorOf(quote(c.id, args(t)))).message).toBe('invalid_schedule');
    }
  });

  it('needs at least the prep time and at most 7 days ahead', async () => {
    const open = await createVendor();
    const soon = new Date(Date.now() + 10 * 60_000);
    expect((await errorOf(placeOrder(c.id, args(soon, { vendorId: open.id, items: [{ menu_item_id: open.suya, quantity: 1 }] })))).message).toBe('invalid_schedule');
    const far = new Date(Date.now() + 7 * 86400_000 + 60_000);
    expect((await errorOf(placeOrder(c.id, args(far, { vendorId: open.id, items: [{ menu_item_id: open.suya, quantity: 1 }] })))).message).toBe('invalid_schedule');
    const ok = await placeOrder(c.id, args(new Date(Date.now() + 30 * 60_000), { vendorId: open.id, items: [{ menu_item_id: open.suya, quantity: 1 }] }));
    expect(ok.status).toBe('scheduled');
  });

  it('is paid now, waits as scheduled, and is released at scheduled_for - prep time with the vendor told then', async () => {
    const before = await walletBalance(c.id);
    const o = await placeOrder(c.id, args(at.inside));
    expect(o).toMatchObject({ status: 'scheduled', payment_status: 'paid' });
    expect(new Date(o.release_at).getTime()).toBe(at.inside.getTime() - 20 * 60_000);
    expect(await walletBalance(c.id)).toBe(before - 150000);
    const notes = await serviceSql()`select user_id, type, body, data from public.notifications where order_id = ${o.id} order by created_at`;
    expect(notes).toEqual([expect.objectContaining({ user_id: c.id, type: 'order_update', body: expect.stringContaining('is scheduled for') })]);
    expect(notes[0].data.scheduled_for).toBeTruthy();
    const [msg] = await serviceSql()`select payload from realtime.messages where topic = ${'vendor:' + vendor.id + ':orders'} and event = 'order_created' and payload ->> 'order_id' = ${o.id}`;
    expect(msg.payload).toMatchObject({ status: 'scheduled', total: 150000, tip: 0, service_fee: 0, scheduled_for: expect.any(String) });
    // Vendor feed: it sees the order; nobody moves it to new by hand.
    expect((await asUser(vendor.owner.id, (tx) => tx`select status from public.orders where id = ${o.id}`))[0].status).toBe('scheduled');
    expect((await errorOf(setStatus(vendor.owner.id, o.id, 'new'))).message).toBe('invalid_transition');
    expect((await errorOf(setStatus(vendor.owner.id, o.id, 'preparing'))).message).toBe('invalid_transition');

    const later = await placeOrder(c.id, args(at.inside));
    // Time passes for the first order only.
    await serviceSql()`update public.orders set scheduled_for = now() + interval '20 minutes', release_at = now() where id = ${o.id}`;
    const [{ n }] = await asService((tx) => tx`select public.release_scheduled_orders() as n`);
    expect(n).toBeGreaterThanOrEqual(1);
    const [released] = await serviceSql()`select status from public.orders where id = ${o.id}`;
    expect(released.status).toBe('new');
    expect((await serviceSql()`select status from public.orders where id = ${later.id}`)[0].status).toBe('scheduled');
    const [told] = await serviceSql()`select type, body from public.notifications where order_id = ${o.id} and user_id = ${vendor.owner.id}`;
    expect(told).toMatchObject({ type: 'new_order', body: expect.stringContaining('Scheduled pickup order') });
    const [job] = await serviceSql()`select schedule, command from cron.job where jobname = 'release-scheduled-orders'`;
    expect(job).toEqual({ schedule: '* * * * *', command: 'select public.release_scheduled_orders()' });
  });

  it('may be cancelled by the customer with a full refund until released', async () => {
    const before = await walletBalance(c.id);
    const o = await placeOrder(c.id, args(at.inside, { tip: 20000 }));
    await asUser(c.id, (tx) => tx`select public.cancel_order(${o.id}::uuid)`);
    expect(await walletBalance(c.id)).toBe(before);
    expect((await serviceSql()`select status, payment_status from public.orders where id = ${o.id}`)[0]).toEqual({ status: 'cancelled', payment_status: 'refunded' });
  });

  it('waits as scheduled after a card payment too', async () => {
    const o = await placeOrder(c.id, args(at.inside, { paymentMethod: 'paystack' }));
    expect(o.status).toBe('awaiting_payment');
    await payByCard(c.id, o.id);
    expect((await serviceSql()`select status, payment_status from public.orders where id = ${o.id}`)[0]).toEqual({ status: 'scheduled', payment_status: 'paid' });
  });

  it('is refused during a holiday closure', async () => {
    await serviceSql()`insert into public.vendor_closures (vendor_id, starts_at, ends_at, reason) values (${vendor.id}, ${at.opens}, ${at.closes}, 'Eid')`;
    expect((await errorOf(quote(c.id, args(at.inside)))).message).toBe('vendor_closed');
    await serviceSql()`delete from public.vendor_closures where vendor_id = ${vendor.id}`;
  });
});

describe('holiday closures', () => {
  it('closes the vendor while one covers now, and only then', async () => {
    const vendor = await createVendor();
    const c = await customerWithMoney();
    const isOpen = async () => (await asAnon((tx) => tx`select public.is_open_now(v) as open from public.vendors v where id = ${vendor.id}`))[0].open;
    const [next] = await asUser(vendor.owner.id, (tx) => tx`insert into public.vendor_closures (vendor_id, starts_at, ends_at, reason) values (${vendor.id}, now() + interval '7 days', now() + interval '9 days', 'Sallah') returning id`);
    expect(await isOpen()).toBe(true);
    await asUser(vendor.owner.id, (tx) => tx`update public.vendor_closures set starts_at = now() - interval '1 hour' where id = ${next.id}`);
    expect(await isOpen()).toBe(false);
    expect((await errorOf(placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' }))).message).toBe('vendor_closed');
    expect((await asAnon((tx) => tx`select reason from public.vendor_closures where vendor_id = ${vendor.id}`))[0].reason).toBe('Sallah');
    const long = await errorOf(asUser(vendor.owner.id, (tx) => tx`insert into public.vendor_closures (vendor_id, starts_at, ends_at, reason) values (${vendor.id}, now(), now() + interval '1 day', ${'x'.repeat(201)})`));
    expect(long.code).toBe('23514');
  });
});

describe('reviews', () => {
  let vendor: TestVendor;
  let c: Customer;
  async function completed(customer = c): Promise<OrderRow> {
    const o = await placeOrder(customer.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' });
    for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, o.id, s);
    return o;
  }
  const review = (userId: string, orderId: string, rating: number, comment: string | null = null) =>
    asUser(userId, (tx) => tx`select * from public.review_order(${orderId}::uuid, ${rating}, ${comment})`).then((r) => r[0]);
  const rating = async () => (await serviceSql()`select rating, rating_count from public.vendors where id = ${vendor.id}`)[0];

  beforeAll(async () => {
    [vendor, c] = await Promise.all([createVendor(), customerWithMoney()]);
    await serviceSql()`update public.profiles set full_name = 'Ada Okonkwo' where id = ${c.id}`;
  });

  it('lets the customer review a completed order once within 14 days, and keeps the rating', async () => {
    const open = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], fulfillment: 'pickup' });
    expect((await errorOf(review(c.id, open.id, 5))).message).toBe('review_not_allowed');
    const o1 = await completed();
    const stranger = await createCustomer();
    expect((await errorOf(review(stranger.id, o1.id, 5))).message).toBe('review_not_allowed');
    expect((await errorOf(review(c.id, o1.id, 6))).message).toBe('invalid_rating');
    expect((await errorOf(review(c.id, o1.id, 0))).message).toBe('invalid_rating');
    expect((await errorOf(review(c.id, o1.id, 4, 'x'.repeat(1001)))).message).toBe('invalid_comment');
    const r1 = await review(c.id, o1.id, 4, 'Great suya');
    expect(r1).toMatchObject({ rating: 4, comment: 'Great suya', reviewer_name: 'Ada', vendor_id: vendor.id });
    expect((await errorOf(review(c.id, o1.id, 5))).message).toBe('review_not_allowed');
    expect(await rating()).toEqual({ rating: '4.00', rating_count: 1 });
    const o2 = await completed();
    const r2 = await review(c.id, o2.id, 1);
    expect(await rating()).toEqual({ rating: '2.50', rating_count: 2 });

    const old = await completed();
    await serviceSql()`update public.orders set completed_at = now() - interval '15 days' where id = ${old.id}`;
    expect((await errorOf(review(c.id, old.id, 5))).message).toBe('review_not_allowed');

    // Hidden: out of the rating and of public view, still shown to its customer and the vendor.
    expect((await errorOf(asUser(c.id, (tx) => tx`select public.admin_hide_review(${r2.id}::uuid, 'spam')`))).message).toBe('forbidden');
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_hide_review(${r2.id}::uuid, null)`))).message).toBe('reason_required');
    await asUser(admin.id, (tx) => tx`select public.admin_hide_review(${r2.id}::uuid, 'abusive language')`);
    expect(await rating()).toEqual({ rating: '4.00', rating_count: 1 });
    expect((await asAnon((tx) => tx`select id from public.reviews where vendor_id = ${vendor.id}`)).map((r) => r.id)).toEqual([r1.id]);
    expect((await asUser(c.id, (tx) => tx`select id from public.reviews where vendor_id = ${vendor.id}`)).length).toBe(2);
    expect((await asUser(vendor.owner.id, (tx) => tx`select id from public.reviews where vendor_id = ${vendor.id}`)).length).toBe(2);
  });

  it('lets the vendor owner reply, and nobody else', async () => {
    const o = await completed();
    const r = await review(c.id, o.id, 3);
    const other = await createVendor();
    expect((await errorOf(asUser(other.owner.id, (tx) => tx`select public.reply_to_review(${r.id}::uuid, 'Thanks')`))).message).toBe('review_not_found');
    expect((await errorOf(asUser(c.id, (tx) => tx`select public.reply_to_review(${r.id}::uuid, 'Thanks')`))).message).toBe('review_not_found');
    expect((await errorOf(asUser(vendor.owner.id, (tx) => tx`select public.reply_to_review(${r.id}::uuid, '   ')`))).message).toBe('invalid_reply');
    expect((await errorOf(asUser(vendor.owner.id, (tx) => tx`select public.reply_to_review(${r.id}::uuid, ${'x'.repeat(1001)})`))).message).toBe('invalid_reply');
    const [replied] = await asUser(vendor.owner.id, (tx) => tx`select * from public.reply_to_review(${r.id}::uuid, 'Sorry, we will do better')`);
    expect(replied).toMatchObject({ vendor_reply: 'Sorry, we will do better', replied_at: expect.any(Date) });
    const [pub] = await asAnon((tx) => tx`select * from public.reviews where id = ${r.id}`);
    expect(Object.keys(pub)).not.toContain('phone');
    expect(pub.vendor_reply).toBe('Sorry, we will do better');
  });
});

describe('favourites', () => {
  it('are the user\'s own', async () => {
    const [vendor, a, b] = await Promise.all([createVendor(), createCustomer(), createCustomer()]);
    await asUser(a.id, (tx) => tx`insert into public.favourite_vendors (vendor_id) values (${vendor.id})`);
    expect((await asUser(a.id, (tx) => tx`select vendor_id from public.favourite_vendors`)).map((r) => r.vendor_id)).toEqual([vendor.id]);
    expect((await asUser(b.id, (tx) => tx`select vendor_id from public.favourite_vendors`)).length).toBe(0);
    expect((await errorOf(asUser(b.id, (tx) => tx`insert into public.favourite_vendors (user_id, vendor_id) values (${a.id}, ${vendor.id})`))).code).toBe('42501');
    expect((await asUser(a.id, (tx) => tx`delete from public.favourite_vendors where vendor_id = ${vendor.id} returning 1`)).length).toBe(1);
  });
});

describe('reorder', () => {
  it('quotes the same lines at today\'s prices and lists the lines that are gone apart', async () => {
    const vendor = await createVendor();
    const c = await customerWithMoney();
    const o = await placeOrder(c.id, { vendorId: vendor.id, items: [jollofWithChicken(vendor, 2), { menu_item_id: vendor.suya, quantity: 3 }], addressId: c.addressId });
    await asUser(vendor.owner.id, (tx) => tx`update public.menu_items set price = 160000 where id = ${vendor.suya}`);
    await asUser(vendor.owner.id, (tx) => tx`update public.modifiers set is_available = false where id = ${vendor.chicken}`);
    const [{ r }] = await asUser(c.id, (tx) => tx`select public.reorder(${o.id}::uuid) as r`);
    expect(r.unavailable).toEqual([{ name: 'Jollof rice', menu_item_id: vendor.jollof, quantity: 2, reason: 'invalid_modifier' }]);
    expect(breakdown(r.quote)).toMatchObject({ subtotal: 480000, delivery_fee: 50000, total: 530000 });
    expect(r.quote.items).toEqual([expect.objectContaining({ menu_item_id: vendor.suya, unit_price: 160000, quantity: 3 })]);

    await asUser(vendor.owner.id, (tx) => tx`update public.menu_items set is_available = false where id = ${vendor.suya}`);
    const [{ r: none }] = await asUser(c.id, (tx) => tx`select public.reorder(${o.id}::uuid) as r`);
    expect(none.quote).toBeNull();
    expect(none.unavailable.map((u: { reason: string }) => u.reason)).toEqual(['invalid_modifier', 'item_unavailable']);
    const stranger = await createCustomer();
    expect((await errorOf(asUser(stranger.id, (tx) => tx`select public.reorder(${o.id}::uuid)`))).message).toBe('order_not_found');
  });
});

describe('money with every component', () => {
  it('pays the vendor and books the platform by the rules, and conservation balances after each step of a day', async () => {
    const [vendor, ada, bayo, chioma] = await Promise.all([createVendor(), customerWithMoney(), customerWithMoney(), customerWithMoney()]);
    const platformTen = await coupon({ kind: 'percent', value: 10 });
    const vendorFixed = await coupon({ kind: 'fixed', value: 30000, vendor_id: vendor.id, funded_by: 'vendor' });
    const freeDelivery = await coupon({ kind: 'free_delivery', value: 0, vendor_id: vendor.id, funded_by: 'vendor' });
    await serviceSql()`update public.menu_items set stock = 100 where id = ${vendor.suya}`;
    const [{ inside }] = await serviceSql()`select now() + interval '2 hours' as inside`;

    const out = await withFees(async (d) => {
      const steps: string[] = [];
      const check = async (step: string) => {
        const b = await d.books();
        steps.push(`${step}: ${b.balanced ? 'balanced' : `NOT balanced ${JSON.stringify(b)}`}`);
      };
      const place = async (who: Customer, a: Partial<PlaceOrderArgs>) => {
        await d.as(who.id);
        const [o] = await placeSql(d.tx, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: who.addressId, ...a });
        return o;
      };
      const move = async (orderId: string, statuses: string[], reason: string | null = null) => {
        await d.as(vendor.owner.id);
        for (const s of statuses) await d.tx`select public.update_order_status(${orderId}::uuid, ${s}, ${reason})`;
      };
      const order = async (id: string) => (await d.tx`select * from public.orders where id = ${id}`)[0];
      const ledger = async (id: string): Promise<Record<string, number>> => Object.fromEntries((await d.tx`select type, amount from public.platform_ledger where order_id = ${id}`).map((r) => [r.type, Number(r.amount)]));
      const earned = async (id: string) => Number((await d.tx`select coalesce(sum(t.amount), 0) as s from public.wallet_transactions t where t.order_id = ${id} and t.type = 'order_earning'`)[0].s);

      // 1. Platform-funded 10% off, delivery, tip, default fees: completed.
      const o1 = await place(ada, { items: [jollofWithChicken(vendor)], couponCode: platformTen.code, tip: 20000 });
      const [msg] = await d.tx`select payload from realtime.messages where topic = ${'order:' + o1.id} and event = 'created'`;
      await check('platform coupon placed');
      await move(o1.id, ['preparing', 'ready', 'out_for_delivery', 'completed']);
      await check('platform coupon completed');
      const r1 = { order: breakdown(await order(o1.id)), earned: await earned(o1.id), ledger: await ledger(o1.id) };

      // 2. Vendor-funded fixed coupon, pickup, two portions: completed.
      const o2 = await place(bayo, { items: [{ menu_item_id: vendor.suya, quantity: 2 }], fulfillment: 'pickup', addressId: null, couponCode: vendorFixed.code });
      await move(o2.id, ['preparing', 'ready', 'completed']);
      await check('vendor coupon completed');
      const r2 = { order: breakdown(await order(o2.id)), earned: await earned(o2.id), ledger: await ledger(o2.id), commission: Number((await order(o2.id)).commission) };

      // 3. Small order by card, vendor-funded free delivery, scheduled: paid, released, completed, then a vendor refund.
      const o3 = await place(chioma, { couponCode: freeDelivery.code, paymentMethod: 'paystack', scheduledFor: inside, tip: 10000 });
      await d.service();
      const [p3] = await d.tx`select id, reference, amount from public.begin_payment(${chioma.id}::uuid, 'paystack', ${o3.id}::uuid)`;
      await d.tx`select public.confirm_payment('paystack', ${'evt_day_' + p3.id}, ${p3.reference}, ${p3.amount}::bigint, 'NGN')`;
      await check('card scheduled paid');
      await d.owner();
      await d.tx`update public.orders set release_at = now() where id = ${o3.id}`;
      await d.tx`select public.release_scheduled_orders()`;
      await move(o3.id, ['preparing', 'ready', 'out_for_delivery', 'completed']);
      await check('card scheduled completed');
      await d.as(vendor.owner.id);
      await d.tx`select public.refund_order(${o3.id}::uuid, 20000::bigint, 'cold', 'wallet')`;
      await check('vendor refund after completion');
      const r3 = { order: breakdown(await order(o3.id)), earned: await earned(o3.id), ledger: await ledger(o3.id) };

      // 4. Coupon and tip, cancelled by the customer: everything back, the use released, the stock back.
      const adaBefore = Number((await d.tx`select balance from public.wallets where user_id = ${ada.id}`)[0].balance);
      const o4 = await place(ada, { items: [{ menu_item_id: vendor.suya, quantity: 2 }], couponCode: platformTen.code, tip: 15000 });
      await d.tx`select public.cancel_order(${o4.id}::uuid)`;
      await check('cancelled with fees and tip');
      const adaAfter = Number((await d.tx`select balance from public.wallets where user_id = ${ada.id}`)[0].balance);
      const released = (await d.tx`select released_at from public.coupon_redemptions where order_id = ${o4.id}`)[0].released_at;

      // 5. The vendor refunds the whole of an order it then completes: its share is 0, the platform bears the fees it refunded.
      const o5 = await place(bayo, {});
      await move(o5.id, ['preparing']);
      await d.as(vendor.owner.id);
      await d.tx`select public.refund_order(${o5.id}::uuid, ${o5.total}::bigint, 'wrong order', 'wallet')`;
      await move(o5.id, ['ready', 'out_for_delivery', 'completed']);
      await check('fully refunded by the vendor, then completed');
      const r5 = { earned: await earned(o5.id), ledger: await ledger(o5.id), vendor_earning: Number((await order(o5.id)).vendor_earning) };

      // 6. An admin refund borne by the platform after completion.
      const o6 = await place(chioma, { tip: 5000 });
      await move(o6.id, ['preparing', 'ready', 'out_for_delivery', 'completed']);
      await d.as(admin.id);
      await d.tx`select public.refund_order(${o6.id}::uuid, 10000::bigint, 'late', 'wallet', 'platform')`;
      await check('platform refund after completion');

      await d.owner();
      const [daily] = await d.tx`select * from admin.platform_daily where day = (now() at time zone 'Africa/Lagos')::date`;
      const [sums] = await d.tx`select sum(amount) filter (where type = 'vat_payable') as vat, sum(amount) filter (where type <> 'vat_payable') as net
                                from public.platform_ledger where (created_at at time zone 'Africa/Lagos')::date = (now() at time zone 'Africa/Lagos')::date`;
      const stock = (await d.tx`select stock from public.menu_items where id = ${vendor.suya}`)[0].stock;
      const types = (await d.tx`select distinct type from public.platform_ledger where order_id in ${d.tx([o1.id, o2.id, o3.id, o5.id, o6.id])} order by 1`).map((r) => r.type);
      return { steps, daily, sums, msg: msg.payload, r1, r2, r3, r5, adaBefore, adaAfter, released, stock, types };
    });

    expect(out.steps.filter((s) => !s.endsWith(': balanced'))).toEqual([]);
    expect(out.steps.length).toBe(9);
    expect(out.msg).toMatchObject({ subtotal: 330000, discount: 33000, delivery_fee: 50000, service_fee: 16500, small_order_fee: 0, vat: 4988, tip: 20000, total: 388488 });

    // 1: 330000 - 33000 (platform) + 50000 + 16500 + 4988 + 20000.
    expect(out.r1.order).toEqual({ subtotal: 330000, discount: 33000, delivery_fee: 50000, service_fee: 16500, small_order_fee: 0, vat: 4988, tip: 20000, total: 388488 });
    // Vendor: 330000 + 50000 + 20000 - round(330000 x 0.15); the platform-funded discount is not the vendor's.
    expect(out.r1.earned).toBe(330000 + 50000 + 20000 - 49500);
    expect(out.r1.ledger).toEqual({ commission: 49500, service_fee: 16500, vat_payable: 4988, discount_borne: -33000 });
    expect(out.r1.earned + Object.values(out.r1.ledger as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(out.r1.order.total);

    // 2: 300000 - 30000 (vendor) + service 15000 + VAT round(1125): commission on 270000.
    expect(out.r2.order).toEqual({ subtotal: 300000, discount: 30000, delivery_fee: 0, service_fee: 15000, small_order_fee: 0, vat: 1125, tip: 0, total: 286125 });
    expect(out.r2.commission).toBe(40500);
    expect(out.r2.earned).toBe(270000 - 40500);
    expect(out.r2.ledger).toEqual({ commission: 40500, service_fee: 15000, vat_payable: 1125 });

    // 3: 150000 food, free delivery (vendor-funded 50000), small-order fee, VAT round((7500 + 20000 + 50000) x 0.075) = 5813, tip.
    expect(out.r3.order).toEqual({ subtotal: 150000, discount: 50000, delivery_fee: 50000, service_fee: 7500, small_order_fee: 20000, vat: 5813, tip: 10000, total: 193313 });
    // Commission on 150000 - 50000 at completion: 15000; earning 100000 + 50000 + 10000 - 15000.
    expect(out.r3.earned).toBe(145000);
    expect(out.r3.ledger).toMatchObject({ commission: 15000, service_fee: 7500, small_order_fee: 20000, vat_payable: 5813 });

    // 4: the cancel returns everything paid, fees and tip included.
    expect(out.adaAfter).toBe(out.adaBefore);
    expect(out.released).not.toBeNull();

    // 5: nothing earned; the platform bears what the vendor refunded beyond its share (service fee, VAT).
    expect(out.r5.earned).toBe(0);
    expect(out.r5.vendor_earning).toBe(0);
    expect(out.r5.ledger.refund_borne).toBeLessThan(0);

    expect(out.stock).toBe(100 - 1 - 2 - 1 - 1);
    expect(out.daily).toMatchObject({ vat_payable: out.sums.vat, net_revenue: out.sums.net });
    expect(Number(out.daily.discounts_borne)).toBeLessThanOrEqual(-33000);
    expect(out.types).toEqual(['commission', 'commission_reversal', 'discount_borne', 'refund_borne', 'service_fee', 'small_order_fee', 'vat_payable']);
  });
});
