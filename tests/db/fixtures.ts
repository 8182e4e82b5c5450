// Product fixtures for the domain tests: users with roles, vendors with menus,
// addresses and wallet money, written as the platform would (superuser SQL for
// what only admins or payments can do, the user's own role for the rest).
import { inject } from 'vitest';
import { failCalls } from '../fakes/recorder.ts';
import { asService, asUser, createUser, serviceSql } from '../helpers/db.ts';

/** Victoria Island, Lagos: vendors sit here, nearby addresses are within a few km. */
export const VI = { lat: 6.4281, lng: 3.4219 };
/** Ikeja, about 20 km north of Victoria Island. */
export const IKEJA = { lat: 6.6018, lng: 3.3515 };

export interface TestUser {
  id: string;
  phone: string;
}

export async function createCustomer(): Promise<TestUser & { addressId: string }> {
  const user = await createUser();
  const [address] = await asUser(user.id, (tx) => tx`
    insert into public.addresses (label, line1, city, lat, lng)
    values ('Home', '12 Adeola Odeku St', 'Lagos', ${VI.lat + 0.01}, ${VI.lng + 0.01})
    returning id`);
  return { ...user, addressId: address.id };
}

export async function createAdmin(): Promise<TestUser> {
  const user = await createUser();
  await serviceSql()`update public.profiles set role = 'admin' where id = ${user.id}`;
  return user;
}

/**
 * Credits a wallet as a confirmed card top-up does: a succeeded payment and its
 * ledger credit, so the money has a source and conservation holds.
 */
export async function fundWallet(userId: string, amount: number): Promise<void> {
  await serviceSql()`
    with p as (
      insert into public.payments (provider, purpose, user_id, amount, currency, status, paid_at)
      values ('paystack', 'wallet_topup', ${userId}::uuid, ${amount}::bigint, 'NGN', 'succeeded', now())
      returning id, user_id, amount, reference
    )
    select private.post_wallet_entry(p.user_id, p.amount, 'topup', p.reference, 'payment:' || p.id, null, p.id) from p`;
}

export async function walletBalance(userId: string): Promise<number> {
  const [w] = await serviceSql()`select balance from public.wallets where user_id = ${userId}`;
  return Number(w.balance);
}

export interface TestVendor {
  id: string;
  owner: TestUser;
  /** Jollof rice, 250000 kobo, with a required Protein group (Chicken +80000, Beef +60000) and optional Extras (max 2). */
  jollof: string;
  chicken: string;
  beef: string;
  plantain: string;
  coleslaw: string;
  moimoi: string;
  /** Suya, 150000 kobo, no modifiers. */
  suya: string;
  /** Sold out. */
  soldOut: string;
}

export async function createVendor(options: { status?: string; isOpen?: boolean; minOrder?: number; radiusKm?: number; name?: string } = {}): Promise<TestVendor> {
  const owner = await createUser();
  const name = options.name ?? `Mama Put ${owner.phone.slice(-4)}`;
  const [vendor] = await asUser(owner.id, (tx) => tx`
    insert into public.vendors (name, lat, lng, cuisines, address_line)
    values (${name}, ${VI.lat}, ${VI.lng}, ${['Nigerian', 'Rice']}, '1 Akin Adesola St, Victoria Island')
    returning id`);
  await serviceSql()`
    update public.vendors set status = ${options.status ?? 'active'}, is_open = ${options.isOpen ?? true},
      min_order_amount = ${options.minOrder ?? 0}, delivery_radius_km = ${options.radiusKm ?? 10}
    where id = ${vendor.id}`;
  return asUser(owner.id, async (tx) => {
    const [cat] = await tx`insert into public.menu_categories (vendor_id, name) values (${vendor.id}, 'Rice') returning id`;
    const [jollof] = await tx`insert into public.menu_items (vendor_id, category_id, name, price) values (${vendor.id}, ${cat.id}, 'Jollof rice', 250000) returning id`;
    const [suya] = await tx`insert into public.menu_items (vendor_id, name, price) values (${vendor.id}, 'Suya', 150000) returning id`;
    const [soldOut] = await tx`insert into public.menu_items (vendor_id, name, price, is_available) values (${vendor.id}, 'Ofada rice', 300000, false) returning id`;
    const [protein] = await tx`insert into public.modifier_groups (vendor_id, menu_item_id, name, min_select, max_select) values (${vendor.id}, ${jollof.id}, 'Protein', 1, 1) returning id`;
    const [extras] = await tx`insert into public.modifier_groups (vendor_id, menu_item_id, name, min_select, max_select, sort_order) values (${vendor.id}, ${jollof.id}, 'Extras', 0, 2, 1) returning id`;
    const [chicken] = await tx`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${vendor.id}, ${protein.id}, 'Chicken', 80000) returning id`;
    const [beef] = await tx`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${vendor.id}, ${protein.id}, 'Beef', 60000) returning id`;
    const [plantain] = await tx`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${vendor.id}, ${extras.id}, 'Plantain', 30000) returning id`;
    const [coleslaw] = await tx`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${vendor.id}, ${extras.id}, 'Coleslaw', 20000) returning id`;
    const [moimoi] = await tx`insert into public.modifiers (vendor_id, group_id, name, price_delta) values (${vendor.id}, ${extras.id}, 'Moi moi', 40000) returning id`;
    return {
      id: vendor.id, owner, jollof: jollof.id, suya: suya.id, soldOut: soldOut.id,
      chicken: chicken.id, beef: beef.id, plantain: plantain.id, coleslaw: coleslaw.id, moimoi: moimoi.id,
    };
  });
}

export interface OrderLine {
  menu_item_id: string;
  quantity: number;
  modifier_ids?: string[];
}

export interface PlaceOrderArgs {
  vendorId: string;
  items: OrderLine[] | unknown;
  fulfillment?: string;
  addressId?: string | null;
  paymentMethod?: string;
  note?: string | null;
  idempotencyKey?: string | null;
  couponCode?: string | null;
  tip?: number;
  scheduledFor?: string | Date | null;
}

export type OrderRow = Record<string, any> & { id: string; number: string; status: string; total: string | number };

/** place_order as the given user, as supabase.rpc('place_order', ...) would call it. */
export async function placeOrder(userId: string, a: PlaceOrderArgs): Promise<OrderRow> {
  const [o] = await asUser(userId, (tx) => tx`
    select * from public.place_order(
      p_vendor_id => ${a.vendorId}::uuid, p_items => ${JSON.stringify(a.items)}::text::jsonb,
      p_fulfillment => ${a.fulfillment ?? 'delivery'}, p_address_id => ${a.addressId ?? null}::uuid,
      p_payment_method => ${a.paymentMethod ?? 'wallet'}, p_note => ${a.note ?? null},
      p_idempotency_key => ${a.idempotencyKey ?? null}, p_coupon_code => ${a.couponCode ?? null},
      p_tip => ${a.tip ?? 0}::bigint, p_scheduled_for => ${a.scheduledFor ?? null}::timestamptz)`);
  return o as OrderRow;
}

export async function setStatus(userId: string, orderId: string, status: string, reason: string | null = null): Promise<OrderRow> {
  const [o] = await asUser(userId, (tx) => tx`select * from public.update_order_status(${orderId}::uuid, ${status}, ${reason})`);
  return o as OrderRow;
}

export interface PaymentRow {
  id: string;
  reference: string;
  amount: number;
}

/**
 * Starts the payment of a card order and confirms it as the provider's webhook
 * would. The payment never went through the fake provider, so its card refunds
 * (sent by the refunds function after commit) find the provider unavailable
 * (503, retried later) and the test decides every outcome itself.
 */
export async function payByCard(userId: string, orderId: string, provider = 'paystack'): Promise<PaymentRow> {
  const [p] = await asService((tx) => tx`select id, reference, amount from public.begin_payment(${userId}::uuid, ${provider}, ${orderId}::uuid)`);
  await providerUnavailableFor(p.reference, provider);
  await asService((tx) => tx`select public.confirm_payment(${provider}, ${'evt_pay_' + p.id}, ${p.reference}, ${p.amount}::bigint, 'NGN', ${'pi_' + p.id})`);
  return { id: p.id, reference: p.reference, amount: Number(p.amount) };
}

/** The fake provider answers 503 to every call about this payment reference. */
export async function providerUnavailableFor(reference: string, provider: string): Promise<void> {
  const fakes = inject('fakes');
  if (!fakes) return;
  await failCalls(provider === 'stripe' ? fakes.stripeUrl : fakes.paystackUrl, { match: reference, status: 503, times: 1000 });
}

/** A card top-up, started and confirmed through the payments contract. */
export async function topUpByCard(userId: string, amount: number, provider = 'paystack'): Promise<PaymentRow> {
  const [p] = await asService((tx) => tx`select id, reference, amount from public.begin_payment(${userId}::uuid, ${provider}, null, ${amount}::bigint)`);
  await asService((tx) => tx`select public.confirm_payment(${provider}, ${'evt_topup_' + p.id}, ${p.reference}, ${p.amount}::bigint, 'NGN')`);
  return { id: p.id, reference: p.reference, amount: Number(p.amount) };
}

/** A refund made at the provider (dashboard, chargeback), as the webhook reports it. */
export async function providerRefund(payment: PaymentRow, amount: number, providerRefundId: string, status = 'processed', provider = 'paystack'): Promise<Record<string, any>> {
  const [r] = await asService((tx) => tx`
    select public.record_provider_refund(${provider}, ${'evt_' + providerRefundId + '_' + status}, ${payment.reference}, ${providerRefundId},
                                         ${amount}::bigint, 'NGN', ${status}) as r`);
  return r.r;
}

/** The books for the whole database. */
export async function books(): Promise<Record<string, any>> {
  const [b] = await serviceSql()`select * from admin.money_conservation`;
  return b;
}

/** The error a call raised (message = our code), or a failure if it did not raise. */
export async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string; detail?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: string; message: string; detail?: string };
    return { code: e.code, message: e.message, detail: e.detail };
  }
  throw new Error('expected an error, but the call succeeded');
}

/** A jollof line with chicken: (250000 + 80000) x quantity. */
export function jollofWithChicken(v: TestVendor, quantity = 1): OrderLine {
  return { menu_item_id: v.jollof, quantity, modifier_ids: [v.chicken] };
}
