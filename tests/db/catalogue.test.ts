// Identity and catalogue rules that policies alone cannot express: protected
// columns, one default address, vendor sign-up, opening state, nearby search.
import { beforeAll, describe, expect, it } from 'vitest';
import { asAnon, asUser, createUser, serviceSql } from '../helpers/db.ts';
import { createCustomer, createVendor, errorOf, fundWallet, IKEJA, VI, type TestVendor } from './fixtures.ts';

describe('profiles and wallets at sign-up', () => {
  it('gives every new auth user a customer profile and an empty NGN wallet', async () => {
    const user = await createUser();
    const [row] = await serviceSql()`select p.role, p.status, w.currency, w.balance from public.profiles p join public.wallets w on w.user_id = p.id where p.id = ${user.id}`;
    expect({ ...row, balance: Number(row.balance) }).toEqual({ role: 'customer', status: 'active', currency: 'NGN', balance: 0 });
  });

  it('lets users change their name but never their role or status', async () => {
    const user = await createUser();
    const [p] = await asUser(user.id, (tx) => tx`update public.profiles set full_name = 'Adaeze Okafor' where id = ${user.id} returning full_name`);
    expect(p.full_name).toBe('Adaeze Okafor');
    for (const col of ['role', 'status', 'phone']) {
      const err = await errorOf(asUser(user.id, (tx) => tx`update public.profiles set ${tx(col)} = ${col === 'role' ? 'admin' : col === 'status' ? 'active' : '+2340000000000'} where id = ${user.id}`));
      expect(err.code).toBe('42501');
    }
  });
});

describe('addresses', () => {
  it('keeps exactly one default: the first address, then whichever is set', async () => {
    const c = await createCustomer();
    const defaults = async () => (await asUser(c.id, (tx) => tx`select id from public.addresses where is_default`)).map((r) => r.id);
    expect(await defaults()).toEqual([c.addressId]);
    const [office] = await asUser(c.id, (tx) => tx`insert into public.addresses (label, line1, city, lat, lng, is_default) values ('Office', '3 Idowu Taylor St', 'Lagos', 6.43, 3.42, true) returning id`);
    expect(await defaults()).toEqual([office.id]);
    await asUser(c.id, (tx) => tx`update public.addresses set is_default = true where id = ${c.addressId}`);
    expect(await defaults()).toEqual([c.addressId]);
  });

  it('refuses coordinates off the globe', async () => {
    const c = await createUser();
    const err = await errorOf(asUser(c.id, (tx) => tx`insert into public.addresses (label, line1, city, lat, lng) values ('X', 'Y', 'Z', 91, 3)`));
    expect(err.code).toBe('23514');
  });
});

describe('vendors', () => {
  it('signs a user up as a pending vendor whatever they send, with a slug, and makes them a vendor user', async () => {
    const user = await createUser();
    const [v] = await asUser(user.id, (tx) => tx`
      insert into public.vendors (name, lat, lng, status, commission_rate, currency) values ('Amala Shitta Express', 6.5, 3.36, 'active', 0, 'USD')
      returning status, commission_rate, currency, slug, owner_id`);
    expect(v).toMatchObject({ status: 'pending', commission_rate: '0.1500', currency: 'NGN', owner_id: user.id });
    expect(v.slug).toMatch(/^amala-shitta-express-[0-9a-f]{6}$/);
    const [p] = await serviceSql()`select role from public.profiles where id = ${user.id}`;
    expect(p.role).toBe('vendor');
    expect((await errorOf(asUser(user.id, (tx) => tx`insert into public.vendors (name, lat, lng) values ('Second Kitchen', 6.5, 3.36)`))).code).toBe('23505');
  });

  it('lets the owner change profile fields and is_open, never status or commission', async () => {
    const v = await createVendor();
    const [changed] = await asUser(v.owner.id, (tx) => tx`update public.vendors set description = 'Smoky party jollof', is_open = false where id = ${v.id} returning description, is_open`);
    expect(changed).toEqual({ description: 'Smoky party jollof', is_open: false });
    for (const set of [{ status: 'pending' }, { commission_rate: 0 }, { rating: 5 }, { currency: 'USD' }]) {
      const err = await errorOf(asUser(v.owner.id, (tx) => tx`update public.vendors set ${tx(set)} where id = ${v.id}`));
      expect(err).toMatchObject({ code: '42501', message: 'protected_column' });
    }
  });

  it('derives is_open_now from the switch and the Lagos hours', async () => {
    const v = await createVendor();
    const open = async () => (await asAnon((tx) => tx`select public.is_open_now(v) as open from public.vendors v where v.id = ${v.id}`))[0].open;
    expect(await open()).toBe(true);
    await serviceSql()`insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at)
      values (${v.id}, (extract(dow from now() at time zone 'Africa/Lagos')::int + 1) % 7, '00:00', '24:00')`;
    expect(await open()).toBe(false);
    await serviceSql()`insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at)
      values (${v.id}, extract(dow from now() at time zone 'Africa/Lagos')::int, '00:00', '24:00')`;
    expect(await open()).toBe(true);
    await serviceSql()`update public.vendors set is_open = false where id = ${v.id}`;
    expect(await open()).toBe(false);
  });
});

describe('nearby_vendors', () => {
  let near: TestVendor;
  let far: TestVendor;
  let name: string;

  beforeAll(async () => {
    name = `Suya Spot ${Date.now()}`;
    [near, far] = await Promise.all([createVendor({ name }), createVendor({ name: `${name} Ikeja` })]);
    await serviceSql()`update public.vendors set lat = ${IKEJA.lat}, lng = ${IKEJA.lng}, cuisines = '{Grills,Suya}' where id = ${far.id}`;
  });

  it('lists active vendors within the radius, nearest first, with distance and open state, for anon', async () => {
    const rows = await asAnon((tx) => tx`select id, distance_km, is_open_now from public.nearby_vendors(${VI.lat}, ${VI.lng}, 5, ${name})`);
    expect(rows.map((r) => r.id)).toEqual([near.id]);
    expect(rows[0].distance_km).toBeLessThan(0.1);
    expect(rows[0].is_open_now).toBe(true);
    const wide = await asAnon((tx) => tx`select id, distance_km from public.nearby_vendors(${VI.lat}, ${VI.lng}, 30, ${name})`);
    expect(wide.map((r) => r.id)).toEqual([near.id, far.id]);
    expect(wide[1].distance_km).toBeGreaterThan(15);
    expect(wide[1].distance_km).toBeLessThan(25);
  });

  it('searches cuisines, skips pending vendors and refuses a bad radius', async () => {
    const bySuya = await asAnon((tx) => tx`select id from public.nearby_vendors(${IKEJA.lat}, ${IKEJA.lng}, 3, 'suya')`);
    expect(bySuya.map((r) => r.id)).toContain(far.id);
    await serviceSql()`update public.vendors set status = 'pending' where id = ${far.id}`;
    const after = await asAnon((tx) => tx`select id from public.nearby_vendors(${IKEJA.lat}, ${IKEJA.lng}, 3, 'suya')`);
    expect(after.map((r) => r.id)).not.toContain(far.id);
    expect((await errorOf(asAnon((tx) => tx`select * from public.nearby_vendors(6.4, 3.4, 0)`))).message).toBe('invalid_radius');
    expect((await errorOf(asAnon((tx) => tx`select * from public.nearby_vendors(95, 3.4)`))).message).toBe('invalid_location');
  });

  it('uses the location index for the bounding box', async () => {
    const plan = await serviceSql().begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      return tx`explain select id from public.vendors where point(lng, lat) <@ box(point(3.3, 6.3), point(3.5, 6.5))`;
    });
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toContain('vendors_location_idx');
  });
});

describe('deleting users', () => {
  it('deletes a user without money history, and refuses one with ledger rows', async () => {
    const fresh = await createUser();
    await serviceSql()`delete from auth.users where id = ${fresh.id}`;
    const [gone] = await serviceSql()`select count(*)::int as n from public.wallets where user_id = ${fresh.id}`;
    expect(gone.n).toBe(0);
    const paid = await createUser();
    await fundWallet(paid.id, 1000);
    expect((await errorOf(serviceSql()`delete from auth.users where id = ${paid.id}`)).code).toBe('23503');
  });
});

describe('phone changes', () => {
  it('follow the Auth phone into the profile', async () => {
    const user = await createUser();
    const phone = `2347${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
    await serviceSql()`update auth.users set phone = ${phone} where id = ${user.id}`;
    const [p] = await serviceSql()`select phone from public.profiles where id = ${user.id}`;
    expect(p.phone).toBe(`+${phone}`);
  });
});
