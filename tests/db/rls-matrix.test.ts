// The RLS matrix: every exposed table x every actor x select/insert/update/delete,
// each attempted exactly as PostgREST would run it (role and JWT claims set in
// the transaction), then rolled back. A deny is a permission error (42501) or
// zero rows; any other error fails the test, so a broken fixture cannot pass
// for a policy.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rollback, asService, asUser, createUser, serviceSql, type Claims, type Tx } from '../helpers/db.ts';
import { createAdmin, createCustomer, createVendor, fundWallet, placeOrder, providerRefund, providerUnavailableFor, setStatus, topUpByCard, type TestVendor } from './fixtures.ts';

const ACTORS = ['anon', 'A', 'B', 'X', 'Y', 'admin', 'service'] as const;
type Actor = (typeof ACTORS)[number];

type Outcome = 'allow' | 'deny' | `error ${string}`;

let ids: Record<string, string> = {};
let claims: Record<Actor, Claims>;

/** Runs `op` as `actor` after an optional superuser `prelude`, always rolling back. */
async function attempt(actor: Actor, op: (tx: Tx) => Promise<number>, prelude?: (tx: Tx) => Promise<unknown>): Promise<Outcome> {
  let outcome: Outcome = 'deny';
  try {
    await serviceSql().begin(async (tx) => {
      if (prelude) await prelude(tx);
      const c = claims[actor];
      await tx`select set_config('role', ${c.role}, true), set_config('request.jwt.claims', ${JSON.stringify(c)}, true)`;
      try {
        await tx`savepoint op`;
        outcome = (await op(tx)) > 0 ? 'allow' : 'deny';
      } catch (err) {
        const code = (err as { code?: string }).code;
        outcome = code === '42501' ? 'deny' : `error ${code}: ${(err as Error).message}`;
      }
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return outcome;
}

const count = (rows: { length: number }) => rows.length;

interface Check {
  op: 'select' | 'insert' | 'update' | 'delete';
  label?: string;
  allowed: Actor[];
  run: (tx: Tx) => Promise<number>;
  prelude?: (tx: Tx) => Promise<unknown>;
}

let vendorX: TestVendor;

beforeAll(async () => {
  const [a, b, x, y, admin, orphan, doomed] = await Promise.all([
    createCustomer(), createCustomer(), createVendor(), createVendor(), createAdmin(), createUser(), createUser(),
  ]);
  vendorX = x;
  await fundWallet(a.id, 5_000_000);
  const order = await placeOrder(a.id, { vendorId: x.id, items: [{ menu_item_id: x.suya, quantity: 1 }], addressId: a.addressId });
  const done = await placeOrder(a.id, { vendorId: x.id, items: [{ menu_item_id: x.suya, quantity: 1 }], fulfillment: 'pickup' });
  for (const s of ['preparing', 'ready', 'completed']) await setStatus(x.owner.id, done.id, s);
  const card = await placeOrder(a.id, { vendorId: x.id, items: [{ menu_item_id: x.suya, quantity: 1 }], addressId: a.addressId, paymentMethod: 'paystack' });
  const [payment] = await asService((tx) => tx`select id, reference from public.begin_payment(${a.id}::uuid, 'paystack', ${card.id}::uuid)`);
  await asService((tx) => tx`select public.record_payment_failure('paystack', ${'evt_' + card.id}, ${payment.reference}, 'declined')`);
  // A vendor's partial refund of A's completed order, and what B owes after a
  // card top-up was refunded at the provider once most of it was spent.
  const [refund] = await asUser(x.owner.id, (tx) => tx`select id from public.refund_order(${done.id}::uuid, 1000::bigint, 'cold chips', 'wallet')`);
  const topup = await topUpByCard(b.id, 200000);
  await placeOrder(b.id, { vendorId: x.id, items: [{ menu_item_id: x.suya, quantity: 1 }], fulfillment: 'pickup' });
  await providerRefund(topup, 200000, `re_rls_${b.id}`);
  const sql = serviceSql();
  await sql`delete from public.wallets where user_id = ${orphan.id}`;
  await sql`delete from public.profiles where id = ${orphan.id}`;
  const [cat] = await sql`select id from public.menu_categories where vendor_id = ${x.id}`;
  const [group] = await sql`select id from public.modifier_groups where vendor_id = ${x.id} limit 1`;
  const [item] = await sql`select id from public.order_items where order_id = ${order.id}`;
  const [event] = await sql`select id from public.order_events where order_id = ${order.id} limit 1`;
  const [wtx] = await sql`select t.id from public.wallet_transactions t join public.wallets w on w.id = t.wallet_id where w.user_id = ${a.id} limit 1`;
  const [note] = await sql`select id from public.notifications where user_id = ${a.id} limit 1`;
  const [ledger] = await sql`select id from public.platform_ledger where order_id = ${done.id}`;
  const [pevent] = await sql`select id from public.payment_events where payment_id = ${payment.id}`;
  await sql`insert into public.notification_preferences (user_id) values (${a.id})`;
  const [receivable] = await sql`select id from public.receivables where user_id = ${b.id}`;
  const [device] = await sql`insert into public.device_tokens (user_id, token, platform) values (${a.id}, 'fcm-token-of-a-0001', 'android') returning id`;
  await sql`insert into public.notification_type_preferences (user_id, type, channel, enabled) values (${a.id}, 'announcement', 'email', false)`;
  // A has an active device now, so a new notification queues a push delivery.
  const [pushed] = await sql`insert into public.notifications (user_id, type, title, body) values (${a.id}, 'account', 'Welcome', 'Hello') returning id`;
  const [delivery] = await sql`select id from public.notification_deliveries where notification_id = ${pushed.id} and channel = 'push'`;
  // X's payout account and a paid payout of X, with its transfer webhook. The
  // send after commit finds Paystack unavailable; the test settles it itself.
  const recipient = `RCP_matrix${x.id.slice(0, 8)}`;
  await providerUnavailableFor(recipient, 'paystack');
  const [account] = await sql`select id from public.save_payout_account(${x.owner.id}::uuid, '058', 'Guaranty Trust Bank', '0123456789', 'X KITCHEN', ${recipient})`;
  const [payout] = await asUser(x.owner.id, (tx) => tx`select id, reference from public.request_payout(100000)`);
  await sql`select public.claim_payouts(${x.owner.id}::uuid, ${payout.id}::uuid)`;
  await sql`select public.apply_transfer_status(${payout.reference}, 'success', p_provider_event_id => ${'transfer.success:' + payout.id})`;
  const [pevt] = await sql`select id from public.payout_events where payout_id = ${payout.id}`;
  // Checkout v2: a coupon of X and a platform one, A's use of X's on a new
  // order, a closure of X, A's review of the completed order (and a hidden
  // one), A's favourite.
  const [coupon] = await sql`insert into public.coupons (code, kind, value, vendor_id, funded_by, per_customer_limit) values (${'RLSX' + x.id.slice(0, 8)}, 'fixed', 1000, ${x.id}, 'vendor', null) returning id`;
  const [platformCoupon] = await sql`insert into public.coupons (code, kind, value) values (${'RLSP' + x.id.slice(0, 8)}, 'percent', 10) returning id`;
  const couponOrder = await placeOrder(a.id, { vendorId: x.id, items: [{ menu_item_id: x.suya, quantity: 1 }], fulfillment: 'pickup', couponCode: 'rlsx' + x.id.slice(0, 8) });
  const [redemption] = await sql`select id from public.coupon_redemptions where order_id = ${couponOrder.id}`;
  const [closure] = await sql`insert into public.vendor_closures (vendor_id, starts_at, ends_at, reason) values (${x.id}, now() + interval '30 days', now() + interval '31 days', 'Sallah') returning id`;
  const [review] = await asUser(a.id, (tx) => tx`select id from public.review_order(${done.id}::uuid, 4, 'Good suya')`);
  const hiddenDone = await placeOrder(a.id, { vendorId: x.id, items: [{ menu_item_id: x.suya, quantity: 1 }], fulfillment: 'pickup' });
  for (const s of ['preparing', 'ready', 'completed']) await setStatus(x.owner.id, hiddenDone.id, s);
  const [hidden] = await asUser(a.id, (tx) => tx`select id from public.review_order(${hiddenDone.id}::uuid, 1, 'Rude')`);
  await asUser(admin.id, (tx) => tx`select public.admin_hide_review(${hidden.id}::uuid, 'abusive')`);
  await sql`insert into public.favourite_vendors (user_id, vendor_id) values (${a.id}, ${x.id})`;
  const [hours] = await sql`insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at) values (${x.id}, 1, '08:00', '22:00') returning id`;
  ids = {
    delivery: delivery.id,
    A: a.id, addressA: a.addressId, orphan: orphan.id, doomed: doomed.id, X: x.id, Y: y.id, order: order.id, hours: hours.id,
    category: cat.id, group: group.id, item: item.id, event: event.id, wtx: wtx.id, note: note.id, ledger: ledger.id,
    payment: payment.id, pevent: pevent.id, device: device.id, refund: refund.id, receivable: receivable.id,
    account: account.id, payout: payout.id, payoutEvent: pevt.id,
    coupon: coupon.id, platformCoupon: platformCoupon.id, redemption: redemption.id, closure: closure.id, review: review.id, hidden: hidden.id,
  };
  claims = {
    anon: { role: 'anon' },
    A: { role: 'authenticated', sub: a.id },
    B: { role: 'authenticated', sub: b.id },
    X: { role: 'authenticated', sub: x.owner.id },
    Y: { role: 'authenticated', sub: y.owner.id },
    admin: { role: 'authenticated', sub: admin.id },
    service: { role: 'service_role' },
  };
});

const ALL: Actor[] = [...ACTORS];
const sel = (table: string, key = 'id', id = () => ''): ((tx: Tx) => Promise<number>) =>
  async (tx) => count(await tx`select 1 from ${tx(table)} where ${tx(key)} = ${id()}`);

function matrix(): Record<string, Check[]> {
  const by = (k: string) => () => ids[k];
  return {
    profiles: [
      { op: 'select', allowed: ['A', 'admin', 'service'], run: sel('public.profiles', 'id', by('A')) },
      { op: 'insert', allowed: ['service'], run: async (tx) => count(await tx`insert into public.profiles (id) values (${ids.orphan}) returning 1`) },
      { op: 'update', allowed: ['A', 'service'], run: async (tx) => count(await tx`update public.profiles set full_name = 'Ada' where id = ${ids.A} returning 1`) },
      { op: 'update', label: 'role', allowed: ['service'], run: async (tx) => count(await tx`update public.profiles set role = 'admin' where id = ${ids.A} returning 1`) },
      { op: 'delete', allowed: ['service'], prelude: (tx) => tx`delete from public.wallets where user_id = ${ids.doomed}`, run: async (tx) => count(await tx`delete from public.profiles where id = ${ids.doomed} returning 1`) },
    ],
    addresses: [
      { op: 'select', allowed: ['A', 'admin', 'service'], run: sel('public.addresses', 'id', by('addressA')) },
      { op: 'insert', allowed: ['A', 'service'], run: async (tx) => count(await tx`insert into public.addresses (user_id, label, line1, city, lat, lng) values (${ids.A}, 'Work', '5 Broad St', 'Lagos', 6.45, 3.39) returning 1`) },
      { op: 'update', allowed: ['A', 'service'], run: async (tx) => count(await tx`update public.addresses set label = 'Flat' where id = ${ids.addressA} returning 1`) },
      { op: 'delete', allowed: ['A', 'service'], run: async (tx) => count(await tx`delete from public.addresses where id = ${ids.addressA} returning 1`) },
    ],
    wallets: [
      { op: 'select', allowed: ['A', 'admin', 'service'], run: sel('public.wallets', 'user_id', by('A')) },
      { op: 'insert', allowed: [], run: async (tx) => count(await tx`insert into public.wallets (user_id) values (${ids.doomed}) returning 1`), prelude: (tx) => tx`delete from public.wallets where user_id = ${ids.doomed}` },
      { op: 'update', allowed: [], run: async (tx) => count(await tx`update public.wallets set balance = balance + 100 where user_id = ${ids.A} returning 1`) },
      { op: 'delete', allowed: [], run: async (tx) => count(await tx`delete from public.wallets where user_id = ${ids.doomed} returning 1`) },
    ],
    wallet_transactions: [
      { op: 'select', allowed: ['A', 'admin', 'service'], run: sel('public.wallet_transactions', 'id', by('wtx')) },
      { op: 'insert', allowed: [], run: async (tx) => count(await tx`insert into public.wallet_transactions (wallet_id, type, amount, balance_after, reference, idempotency_key) select id, 'topup', 1, balance + 1, 'x', 'x' from public.wallets where user_id = ${ids.A} returning 1`) },
      { op: 'update', allowed: [], run: async (tx) => count(await tx`update public.wallet_transactions set amount = amount where id = ${ids.wtx} returning 1`) },
      { op: 'delete', allowed: [], run: async (tx) => count(await tx`delete from public.wallet_transactions where id = ${ids.wtx} returning 1`) },
    ],
    vendors: [
      { op: 'select', allowed: ALL, run: sel('public.vendors', 'id', by('X')) },
      { op: 'select', label: 'pending', allowed: ['X', 'admin', 'service'], prelude: (tx) => tx`update public.vendors set status = 'pending' where id = ${ids.X}`, run: sel('public.vendors', 'id', by('X')) },
      { op: 'insert', allowed: ['A', 'service'], run: async (tx) => count(await tx`insert into public.vendors (owner_id, name, lat, lng) values (${ids.A}, 'Ada Kitchen', 6.5, 3.4) returning 1`) },
      { op: 'update', allowed: ['X', 'admin', 'service'], run: async (tx) => count(await tx`update public.vendors set description = 'Best amala' where id = ${ids.X} returning 1`) },
      { op: 'update', label: 'status', allowed: ['admin', 'service'], run: async (tx) => count(await tx`update public.vendors set status = 'suspended' where id = ${ids.X} returning 1`) },
      { op: 'update', label: 'commission', allowed: ['admin', 'service'], run: async (tx) => count(await tx`update public.vendors set commission_rate = 0 where id = ${ids.X} returning 1`) },
      { op: 'delete', allowed: ['admin', 'service'], run: async (tx) => count(await tx`delete from public.vendors where id = ${ids.Y} returning 1`) },
    ],
    vendor_hours: catalogue('vendor_hours', 'hours', (tx) => tx`insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at) values (${ids.X}, 2, '09:00', '17:00') returning 1`, (tx) => tx`update public.vendor_hours set closes_at = '23:00' where id = ${ids.hours} returning 1`),
    menu_categories: catalogue('menu_categories', 'category', (tx) => tx`insert into public.menu_categories (vendor_id, name) values (${ids.X}, 'Soups') returning 1`, (tx) => tx`update public.menu_categories set name = 'Swallow' where id = ${ids.category} returning 1`),
    menu_items: [
      ...catalogue('menu_items', 'item', (tx) => tx`insert into public.menu_items (vendor_id, name, price) values (${ids.X}, 'Amala', 120000) returning 1`, (tx) => tx`update public.menu_items set price = 1 where id = ${vendorX.suya} returning 1`),
      { op: 'select', label: 'unavailable', allowed: ['X', 'admin', 'service'], run: async (tx) => count(await tx`select 1 from public.menu_items where id = ${vendorX.soldOut}`) },
    ],
    modifier_groups: catalogue('modifier_groups', 'group', (tx) => tx`insert into public.modifier_groups (vendor_id, menu_item_id, name) values (${ids.X}, ${vendorX.suya}, 'Pepper') returning 1`, (tx) => tx`update public.modifier_groups set max_select = 3 where id = ${ids.group} returning 1`),
    modifiers: catalogue('modifiers', 'modifier', (tx) => tx`insert into public.modifiers (vendor_id, group_id, name) values (${ids.X}, ${ids.group}, 'Extra hot') returning 1`, (tx) => tx`update public.modifiers set price_delta = 0 where id = ${vendorX.chicken} returning 1`),
    orders: readOnly('orders', 'order', ['A', 'X', 'admin', 'service']),
    order_items: readOnly('order_items', 'item', ['A', 'X', 'admin', 'service']),
    order_events: readOnly('order_events', 'event', ['A', 'X', 'admin', 'service'], 'reason'),
    platform_ledger: readOnly('platform_ledger', 'ledger', ['admin', 'service']),
    payments: readOnly('payments', 'payment', ['A', 'admin', 'service']),
    payment_events: readOnly('payment_events', 'pevent', ['admin', 'service']),
    // The customer refunded, the owner of the order's vendor, admins.
    refunds: readOnly('refunds', 'refund', ['A', 'X', 'admin', 'service']),
    receivables: readOnly('receivables', 'receivable', ['B', 'admin', 'service']),
    payout_accounts: readOnly('payout_accounts', 'account', ['X', 'admin', 'service'], 'account_name'),
    payouts: readOnly('payouts', 'payout', ['X', 'admin', 'service'], 'status'),
    payout_events: readOnly('payout_events', 'payoutEvent', ['admin', 'service'], 'outcome'),
    notifications: [
      { op: 'select', allowed: ['A', 'service'], run: sel('public.notifications', 'id', by('note')) },
      { op: 'insert', allowed: ['service'], run: async (tx) => count(await tx`insert into public.notifications (user_id, type, title, body) values (${ids.A}, 'account', 'Hi', 'x') returning 1`) },
      { op: 'update', allowed: ['A', 'service'], run: async (tx) => count(await tx`update public.notifications set read_at = now() where id = ${ids.note} returning 1`) },
      { op: 'update', label: 'body', allowed: ['service'], run: async (tx) => count(await tx`update public.notifications set body = 'forged' where id = ${ids.note} returning 1`) },
      { op: 'delete', allowed: ['service'], run: async (tx) => count(await tx`delete from public.notifications where id = ${ids.note} returning 1`) },
    ],
    notification_preferences: [
      { op: 'select', allowed: ['A', 'service'], run: sel('public.notification_preferences', 'user_id', by('A')) },
      { op: 'insert', allowed: ['A', 'service'], prelude: (tx) => tx`delete from public.notification_preferences where user_id = ${ids.A}`, run: async (tx) => count(await tx`insert into public.notification_preferences (user_id, sms_enabled) values (${ids.A}, true) returning 1`) },
      { op: 'update', allowed: ['A', 'service'], run: async (tx) => count(await tx`update public.notification_preferences set sms_enabled = true where user_id = ${ids.A} returning 1`) },
      { op: 'delete', allowed: ['A', 'service'], run: async (tx) => count(await tx`delete from public.notification_preferences where user_id = ${ids.A} returning 1`) },
    ],
    notification_type_preferences: [
      { op: 'select', allowed: ['A', 'service'], run: async (tx) => count(await tx`select 1 from public.notification_type_preferences where user_id = ${ids.A}`) },
      { op: 'insert', allowed: ['A', 'service'], run: async (tx) => count(await tx`insert into public.notification_type_preferences (user_id, type, channel, enabled) values (${ids.A}, 'order_update', 'sms', true) returning 1`) },
      { op: 'update', allowed: ['A', 'service'], run: async (tx) => count(await tx`update public.notification_type_preferences set enabled = true where user_id = ${ids.A} returning 1`) },
      { op: 'delete', allowed: ['A', 'service'], run: async (tx) => count(await tx`delete from public.notification_type_preferences where user_id = ${ids.A} returning 1`) },
    ],
    notification_deliveries: readOnly('notification_deliveries', 'delivery', ['A', 'admin', 'service'], 'last_error'),
    platform_settings: [
      { op: 'select', allowed: ALL, run: async (tx) => count(await tx`select 1 from public.platform_settings`) },
      { op: 'insert', allowed: [], prelude: (tx) => tx`delete from public.platform_settings`, run: async (tx) => count(await tx`insert into public.platform_settings default values returning 1`) },
      { op: 'update', allowed: ['admin', 'service'], run: async (tx) => count(await tx`update public.platform_settings set service_fee_cap = service_fee_cap returning 1`) },
      { op: 'delete', allowed: [], run: async (tx) => count(await tx`delete from public.platform_settings returning 1`) },
    ],
    vendor_closures: catalogue('vendor_closures', 'closure', (tx) => tx`insert into public.vendor_closures (vendor_id, starts_at, ends_at) values (${ids.X}, now() + interval '60 days', now() + interval '61 days') returning 1`, (tx) => tx`update public.vendor_closures set reason = 'Eid' where id = ${ids.closure} returning 1`),
    coupons: [
      { op: 'select', allowed: ['X', 'admin', 'service'], run: sel('public.coupons', 'id', by('coupon')) },
      { op: 'select', label: 'platform', allowed: ['admin', 'service'], run: sel('public.coupons', 'id', by('platformCoupon')) },
      { op: 'insert', allowed: ['X', 'admin', 'service'], run: async (tx) => count(await tx`insert into public.coupons (code, kind, value, vendor_id, funded_by) values ('RLS-NEW-1', 'percent', 5, ${ids.X}, 'vendor') returning 1`) },
      { op: 'insert', label: 'platform-funded', allowed: ['admin', 'service'], run: async (tx) => count(await tx`insert into public.coupons (code, kind, value, vendor_id, funded_by) values ('RLS-NEW-2', 'percent', 5, ${ids.X}, 'platform') returning 1`) },
      { op: 'update', allowed: ['X', 'admin', 'service'], run: async (tx) => count(await tx`update public.coupons set is_active = false where id = ${ids.coupon} returning 1`) },
      { op: 'update', label: 'to platform-funded', allowed: ['admin', 'service'], run: async (tx) => count(await tx`update public.coupons set funded_by = 'platform' where id = ${ids.coupon} returning 1`) },
      { op: 'update', label: 'platform', allowed: ['admin', 'service'], run: async (tx) => count(await tx`update public.coupons set is_active = false where id = ${ids.platformCoupon} returning 1`) },
      { op: 'delete', allowed: ['admin', 'service'], run: async (tx) => count(await tx`delete from public.coupons where id = ${ids.platformCoupon} returning 1`) },
      { op: 'delete', label: 'own', allowed: ['X', 'admin', 'service'], prelude: (tx) => tx`insert into public.coupons (id, code, kind, value, vendor_id, funded_by) values ('00000000-0000-4000-9000-00000000c0de', 'RLS-DEL-1', 'fixed', 100, ${ids.X}, 'vendor')`, run: async (tx) => count(await tx`delete from public.coupons where id = '00000000-0000-4000-9000-00000000c0de' returning 1`) },
    ],
    coupon_redemptions: readOnly('coupon_redemptions', 'redemption', ['A', 'X', 'admin', 'service'], 'discount'),
    reviews: [
      ...readOnly('reviews', 'review', ALL, 'rating'),
      { op: 'select', label: 'hidden', allowed: ['A', 'X', 'admin', 'service'], run: sel('public.reviews', 'id', by('hidden')) },
    ],
    favourite_vendors: [
      { op: 'select', allowed: ['A', 'service'], run: async (tx) => count(await tx`select 1 from public.favourite_vendors where user_id = ${ids.A}`) },
      { op: 'insert', allowed: ['A', 'service'], run: async (tx) => count(await tx`insert into public.favourite_vendors (user_id, vendor_id) values (${ids.A}, ${ids.Y}) returning 1`) },
      { op: 'update', allowed: ['service'], run: async (tx) => count(await tx`update public.favourite_vendors set created_at = now() where user_id = ${ids.A} returning 1`) },
      { op: 'delete', allowed: ['A', 'service'], run: async (tx) => count(await tx`delete from public.favourite_vendors where user_id = ${ids.A} returning 1`) },
    ],
    device_tokens: [
      { op: 'select', allowed: ['A', 'service'], run: sel('public.device_tokens', 'id', by('device')) },
      { op: 'insert', allowed: ['A', 'service'], run: async (tx) => count(await tx`insert into public.device_tokens (user_id, token, platform) values (${ids.A}, 'fcm-token-of-a-0002', 'ios') returning 1`) },
      { op: 'update', allowed: ['A', 'service'], run: async (tx) => count(await tx`update public.device_tokens set last_seen_at = now() where id = ${ids.device} returning 1`) },
      { op: 'delete', allowed: ['A', 'service'], run: async (tx) => count(await tx`delete from public.device_tokens where id = ${ids.device} returning 1`) },
    ],
  };
}

/** Catalogue tables: everyone reads an active vendor's rows; owner X, admins and service write. */
function catalogue(table: string, key: string, insert: (tx: Tx) => Promise<readonly unknown[]>, update: (tx: Tx) => Promise<readonly unknown[]>): Check[] {
  const id = () => (key === 'modifier' ? vendorX.chicken : key === 'item' ? vendorX.suya : ids[key]);
  const writers: Actor[] = ['X', 'admin', 'service'];
  return [
    { op: 'select', allowed: ALL, run: sel(`public.${table}`, 'id', id) },
    { op: 'select', label: 'suspended vendor', allowed: writers, prelude: (tx) => tx`update public.vendors set status = 'suspended' where id = ${ids.X}`, run: sel(`public.${table}`, 'id', id) },
    { op: 'insert', allowed: writers, run: async (tx) => count(await insert(tx)) },
    { op: 'update', allowed: writers, run: async (tx) => count(await update(tx)) },
    { op: 'delete', allowed: writers, run: async (tx) => count(await tx`delete from ${tx('public.' + table)} where id = ${id()} returning 1`) },
  ];
}

/** Tables written only by definer functions: nobody writes them directly, not even service_role. */
function readOnly(table: string, key: string, readers: Actor[], column = 'id'): Check[] {
  const t = `public.${table}`;
  return [
    { op: 'select', allowed: readers, run: sel(t, 'id', () => ids[key]) },
    { op: 'insert', allowed: [], run: async (tx) => count(await tx`insert into ${tx(t)} overriding system value select * from ${tx(t)} where id = ${ids[key]} returning 1`) },
    { op: 'update', allowed: [], run: async (tx) => count(await tx`update ${tx(t)} set ${tx(column)} = ${tx(column)} where id = ${ids[key]} returning 1`) },
    { op: 'delete', allowed: [], run: async (tx) => count(await tx`delete from ${tx(t)} where id = ${ids[key]} returning 1`) },
  ];
}

describe('RLS matrix', () => {
  it('covers every table in public', async () => {
    const tables = await serviceSql()`select relname from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') order by 1`;
    expect(Object.keys(matrix()).sort()).toEqual(tables.map((t) => t.relname));
  });

  it('allows exactly the expected actors for every table and command', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const [table, checks] of Object.entries(matrix())) {
      for (const check of checks) {
        const name = `${table} ${check.op}${check.label ? ` (${check.label})` : ''}`;
        const outcomes = await Promise.all(ACTORS.map((actor) => attempt(actor, check.run, check.prelude)));
        const errors = outcomes.map((o, i) => (o.startsWith('error') ? `${ACTORS[i]}: ${o}` : null)).filter(Boolean);
        got.push(`${name}: ${ACTORS.filter((_, i) => outcomes[i] === 'allow').join(' ')}${errors.length ? ` | ${errors.join('; ')}` : ''}`);
        want.push(`${name}: ${ACTORS.filter((a) => check.allowed.includes(a)).join(' ')}`);
      }
    }
    expect(got).toEqual(want);
  });
});
