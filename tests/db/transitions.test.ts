// Every transition from every status, for delivery and pickup, by every kind of
// actor, against the lifecycle table of the product contract. Each attempt runs
// in a transaction that is rolled back, so one order per starting state serves
// all attempts.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rollback, createUser, serviceSql } from '../helpers/db.ts';
import { createAdmin, createCustomer, createVendor, fundWallet, placeOrder, setStatus, type TestVendor } from './fixtures.ts';

const STATUSES = ['awaiting_payment', 'new', 'preparing', 'ready', 'out_for_delivery', 'completed', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];
const ACTORS = ['customer', 'owner', 'admin', 'other_owner', 'stranger'] as const;
type Actor = (typeof ACTORS)[number];

/** The contract's lifecycle graph (awaiting_payment -> new happens only through a confirmed payment). */
function valid(from: Status, to: Status, fulfillment: string): boolean {
  switch (from) {
    case 'awaiting_payment': return to === 'cancelled';
    case 'new': return to === 'preparing' || to === 'cancelled';
    case 'preparing': return to === 'ready' || to === 'cancelled';
    case 'ready': return fulfillment === 'delivery' ? to === 'out_for_delivery' : to === 'completed';
    case 'out_for_delivery': return to === 'completed';
    default: return false;
  }
}

/** Who may do what, from the contract. */
function expected(actor: Actor, from: Status, to: Status, fulfillment: string): string {
  if (actor === 'other_owner' || actor === 'stranger') return 'order_not_found';
  if (!valid(from, to, fulfillment)) return 'invalid_transition';
  if (actor === 'admin') return 'ok';
  if (actor === 'customer') return to === 'cancelled' && (from === 'awaiting_payment' || from === 'new') ? 'ok' : 'transition_not_allowed';
  if (to === 'cancelled') return from === 'new' || from === 'preparing' ? 'ok' : 'transition_not_allowed';
  return 'ok';
}

const PATHS: Record<string, Status[]> = {
  delivery: ['preparing', 'ready', 'out_for_delivery', 'completed'],
  pickup: ['preparing', 'ready', 'completed'],
};

let vendor: TestVendor;
let actors: Record<Actor, string>;
const orders: Record<string, string> = {};

beforeAll(async () => {
  const [v, other, customer, admin, stranger] = await Promise.all([createVendor(), createVendor(), createCustomer(), createAdmin(), createUser()]);
  vendor = v;
  actors = { customer: customer.id, owner: v.owner.id, admin: admin.id, other_owner: other.owner.id, stranger: stranger.id };
  await fundWallet(customer.id, 20_000_000);
  for (const fulfillment of ['delivery', 'pickup']) {
    const items = [{ menu_item_id: vendor.suya, quantity: 1 }];
    const card = await placeOrder(customer.id, { vendorId: vendor.id, items, fulfillment, addressId: customer.addressId, paymentMethod: 'stripe' });
    orders[`awaiting_payment/${fulfillment}`] = card.id;
    const cancelled = await placeOrder(customer.id, { vendorId: vendor.id, items, fulfillment, addressId: customer.addressId });
    await setStatus(customer.id, cancelled.id, 'cancelled');
    orders[`cancelled/${fulfillment}`] = cancelled.id;
    for (const target of ['new', ...PATHS[fulfillment]] as Status[]) {
      const o = await placeOrder(customer.id, { vendorId: vendor.id, items, fulfillment, addressId: customer.addressId });
      for (const s of PATHS[fulfillment].slice(0, PATHS[fulfillment].indexOf(target) + 1)) await setStatus(v.owner.id, o.id, s);
      orders[`${target}/${fulfillment}`] = o.id;
    }
    orders['out_for_delivery/pickup'] = '';
  }
});

async function attempt(actor: Actor, orderId: string, to: Status): Promise<string> {
  let outcome = 'ok';
  await serviceSql().begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: actors[actor] })}, true)`;
    try {
      await tx`savepoint attempt`;
      const [o] = await tx`select status from public.update_order_status(${orderId}::uuid, ${to}, 'because')`;
      if (o.status !== to) outcome = `status ${o.status}`;
    } catch (err) {
      outcome = (err as Error).message;
    }
    throw new Rollback();
  }).catch((err) => {
    if (!(err instanceof Rollback)) throw err;
  });
  return outcome;
}

describe('order lifecycle table', () => {
  for (const fulfillment of ['delivery', 'pickup']) {
    it(`allows and refuses exactly the contract's transitions for ${fulfillment} orders`, async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const from of STATUSES) {
        const orderId = orders[`${from}/${fulfillment}`];
        if (!orderId) continue; // a pickup order is never out for delivery
        const [o] = await serviceSql()`select status from public.orders where id = ${orderId}`;
        expect(o.status).toBe(from);
        for (const to of STATUSES) {
          const outcomes = await Promise.all(ACTORS.map((actor) => attempt(actor, orderId, to)));
          got.push(`${from}>${to}: ${ACTORS.map((a, i) => `${a}=${outcomes[i]}`).join(' ')}`);
          want.push(`${from}>${to}: ${ACTORS.map((a) => `${a}=${expected(a, from, to, fulfillment)}`).join(' ')}`);
        }
      }
      expect(got).toEqual(want);
    });
  }
});
