// The seed (supabase/seed.sql): the users config.toml gives test OTPs to exist
// with the right roles, and the Lagos data set is complete and consistent.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';

describe.runIf(stackEnv().embedded)('seed', () => {
  it('has a user for every test OTP phone, with the role the comment names', async () => {
    const toml = parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'supabase', 'config.toml'), 'utf8')) as any;
    const phones = Object.keys(toml.auth.sms.test_otp).sort();
    const rows = await serviceSql()`
      select u.phone, p.phone as e164, p.role, p.full_name, exists (select 1 from auth.identities i where i.user_id = u.id and i.provider = 'phone') as identity
      from auth.users u join public.profiles p on p.id = u.id where u.phone in ${serviceSql()(phones)} order by u.phone`;
    expect(rows.map((r) => r.phone)).toEqual(phones);
    expect(rows.every((r) => r.e164 === `+${r.phone}` && r.full_name && r.identity)).toBe(true);
    const role = Object.fromEntries(rows.map((r) => [r.phone, r.role]));
    expect(role['2348000000001']).toBe('admin');
    expect(['2348000000002', '2348000000003', '2348000000004'].map((p) => role[p])).toEqual(['customer', 'customer', 'customer']);
    expect(phones.filter((p) => p >= '2348000000011').every((p) => role[p] === 'vendor')).toBe(true);
  });

  it('has vendors with hours, menus and add-ons, customers with addresses and money, orders in several states', async () => {
    const [c] = await serviceSql()`
      select (select count(*) from public.vendors where id::text like '00000000-0000-4000-b000-%')::int as vendors,
             (select count(*) from public.vendors where id::text like '00000000-0000-4000-b000-%' and status = 'active')::int as active,
             (select count(distinct vendor_id) from public.vendor_hours where vendor_id::text like '00000000-0000-4000-b000-%')::int as with_hours,
             (select count(*) from public.menu_items where vendor_id::text like '00000000-0000-4000-b000-%')::int as items,
             (select count(*) from public.modifiers where vendor_id::text like '00000000-0000-4000-b000-%')::int as modifiers,
             (select count(*) from public.addresses where user_id::text like '00000000-0000-4000-a000-%')::int as addresses,
             (select array_agg(distinct status order by status) from public.orders where idempotency_key like 'seed-%') as statuses`;
    expect(c).toMatchObject({ vendors: 6, active: 5, with_hours: 4, items: 19, modifiers: 16, addresses: 4 });
    expect(c.statuses).toEqual(['awaiting_payment', 'cancelled', 'completed', 'new', 'out_for_delivery', 'preparing']);
    const [v2] = await serviceSql()`
      select (select array_agg(funded_by order by code) from public.coupons where code in ('WELCOME10', 'CASS500')) as coupons,
             (select count(*) from public.menu_items where vendor_id::text like '00000000-0000-4000-b000-%' and stock is not null)::int as stocked,
             (select count(*) from public.vendor_closures where vendor_id::text like '00000000-0000-4000-b000-%' and starts_at > now())::int as closures,
             (select count(distinct vendor_id) from public.reviews where vendor_id::text like '00000000-0000-4000-b000-%')::int as reviewed,
             (select count(*) from public.vendors where id::text like '00000000-0000-4000-b000-%' and rating_count > 0)::int as rated`;
    expect(v2).toEqual({ coupons: ['vendor', 'platform'], stocked: 1, closures: 1, reviewed: 2, rated: 2 });
    const wallets = await serviceSql()`select balance from public.wallets where user_id in ('00000000-0000-4000-a000-348000000002', '00000000-0000-4000-a000-348000000003')`;
    expect(wallets.every((w) => Number(w.balance) > 0)).toBe(true);
  });
});
