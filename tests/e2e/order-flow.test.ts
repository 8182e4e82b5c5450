// The product end to end, through the doors the apps use: supabase-js against
// the stack (Auth phone OTP, REST reads and RPCs, private Realtime channels).
// Seeded users sign in with their test OTP (supabase/config.toml); no other
// test signs these numbers in.
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import { afterAll, describe, expect, it } from 'vitest';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';

const MAMA_CASS = '00000000-0000-4000-b000-000000000011';
const JOLLOF = '00000000-0000-4000-c000-000000001101';
const FRIED_CHICKEN = '00000000-0000-4000-c300-000000011011';
const DODO = '00000000-0000-4000-c300-000000011021';
const MOI_MOI = '00000000-0000-4000-c000-000000001105';
const ADA_HOME = '00000000-0000-4000-e000-000000000021';

const clients: SupabaseClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.removeAllChannels()));
});

function app(): SupabaseClient {
  const client = testClient();
  clients.push(client);
  return client;
}

async function signedIn(phone: string): Promise<SupabaseClient> {
  const client = app();
  expect((await client.auth.signInWithOtp({ phone })).error).toBeNull();
  const { data, error } = await client.auth.verifyOtp({ phone, token: '123456', type: 'sms' });
  expect(error).toBeNull();
  expect(data.session?.access_token).toBeTruthy();
  return client;
}

/** Joins a private channel and collects its broadcasts; resolves once subscribed (or refused). */
function listen(client: SupabaseClient, topic: string) {
  const received: Array<{ event: string; payload: Record<string, any> }> = [];
  const channel: RealtimeChannel = client.channel(topic, { config: { private: true } });
  channel.on('broadcast', { event: '*' }, (msg) => received.push({ event: msg.event, payload: msg.payload }));
  const status = new Promise<string>((resolve) => channel.subscribe((s) => s !== 'CLOSED' && resolve(s)));
  return { received, status };
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(stackEnv().embedded)('ordering end to end through supabase-js', () => {
  it('browse, quote, pay by wallet, follow the order live, complete it and settle the money', async () => {
    const visitor = app();
    const ada = await signedIn('+2348000000002');
    const bayo = await signedIn('+2348000000003');
    const cass = await signedIn('+2348000000011');

    // Browsing needs no account: nearby vendors and a menu with add-ons.
    const nearby = await visitor.rpc('nearby_vendors', { p_lat: 6.431, p_lng: 3.419, p_radius_km: 5 });
    expect(nearby.error).toBeNull();
    const mamaCass = nearby.data.find((v: { id: string }) => v.id === MAMA_CASS);
    expect(mamaCass).toMatchObject({ name: 'Mama Cass Kitchen', is_open_now: true });
    const menu = await visitor
      .from('vendors')
      .select('name, menu_items(id, name, price, modifier_groups(name, min_select, max_select, modifiers(id, name, price_delta)))')
      .eq('id', MAMA_CASS)
      .single();
    expect(menu.error).toBeNull();
    const jollof = menu.data!.menu_items.find((i: { id: string }) => i.id === JOLLOF)!;
    expect(jollof.modifier_groups.map((g: { name: string }) => g.name).sort()).toEqual(['Extras', 'Protein']);

    // The vendor's dashboard listens for new orders; another customer may not.
    const vendorFeed = listen(cass, `vendor:${MAMA_CASS}:orders`);
    expect(await vendorFeed.status).toBe('SUBSCRIBED');
    const snoop = listen(bayo, `vendor:${MAMA_CASS}:orders`);
    expect(await snoop.status).toBe('CHANNEL_ERROR');

    const items = [
      { menu_item_id: JOLLOF, quantity: 2, modifier_ids: [FRIED_CHICKEN, DODO] },
      { menu_item_id: MOI_MOI, quantity: 1, modifier_ids: [] },
    ];
    const quote = await ada.rpc('quote_order', { p_vendor_id: MAMA_CASS, p_items: items, p_fulfillment: 'delivery', p_address_id: ADA_HOME });
    expect(quote.error).toBeNull();
    const subtotal = (250000 + 80000 + 30000) * 2 + 70000;
    expect(quote.data).toMatchObject({ subtotal, delivery_fee: 50000, total: subtotal + 50000, currency: 'NGN' });

    const walletBefore = (await ada.from('wallets').select('balance').single()).data!.balance;
    const placed = await ada.rpc('place_order', {
      p_vendor_id: MAMA_CASS, p_items: items, p_fulfillment: 'delivery', p_address_id: ADA_HOME,
      p_payment_method: 'wallet', p_note: 'Extra pepper', p_idempotency_key: `e2e-${Date.now()}`,
    });
    expect(placed.error).toBeNull();
    const order = placed.data as { id: string; number: string; status: string; payment_status: string; total: number };
    expect(order).toMatchObject({ status: 'new', payment_status: 'paid', total: subtotal + 50000 });
    expect((await ada.from('wallets').select('balance').single()).data!.balance).toBe(walletBefore - order.total);

    const created = await until(() => vendorFeed.received.find((m) => m.event === 'order_created'), 'order_created on the vendor feed');
    expect(created.payload).toMatchObject({ order_id: order.id, number: order.number });

    // Ada follows her order; Bayo can neither read it nor join its topic.
    const adaFeed = listen(ada, `order:${order.id}`);
    expect(await adaFeed.status).toBe('SUBSCRIBED');
    expect((await bayo.from('orders').select('id').eq('id', order.id)).data).toEqual([]);
    expect(await listen(bayo, `order:${order.id}`).status).toBe('CHANNEL_ERROR');

    // A customer cannot move the order along; the vendor can, step by step.
    const forged = await ada.rpc('update_order_status', { p_order_id: order.id, p_status: 'completed' });
    expect(forged.error?.code).toMatch(/^(P0001|42501)$/);
    for (const next of ['preparing', 'ready', 'out_for_delivery', 'completed']) {
      const moved = await cass.rpc('update_order_status', { p_order_id: order.id, p_status: next });
      expect(moved.error).toBeNull();
      expect(moved.data.status).toBe(next);
    }
    const seen = await until(() => {
      const statuses = adaFeed.received.filter((m) => m.event === 'status_changed').map((m) => m.payload.new_status);
      return statuses.length === 4 ? statuses : undefined;
    }, 'four status_changed messages for the customer');
    expect(seen).toEqual(['preparing', 'ready', 'out_for_delivery', 'completed']);

    // On completion the vendor is paid subtotal + delivery fee − commission (15%).
    const ledger = await cass.from('wallet_transactions').select('amount, type, balance_after').eq('order_id', order.id);
    expect(ledger.error).toBeNull();
    expect(ledger.data!.map((t) => t.amount)).toEqual([subtotal + 50000 - Math.round(subtotal * 0.15)]);
  });
});
