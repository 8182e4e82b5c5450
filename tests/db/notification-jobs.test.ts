// The notification jobs' work: cleanup-notifications and weekly-vendor-report,
// called as their cron commands call them.
import { describe, expect, it } from 'vitest';
import { serviceSql } from '../helpers/db.ts';
import { createCustomer, createVendor, errorOf, fundWallet, placeOrder, setStatus } from './fixtures.ts';

const sql = () => serviceSql();

describe('cleanup-notifications', () => {
  it('deletes read notifications after 90 days and finished deliveries after 30, nothing else', async () => {
    const c = await createCustomer();
    await sql()`update auth.users set email = ${`c${c.id.slice(0, 8)}@example.test`}, email_confirmed_at = now() where id = ${c.id}`;
    const ids = await sql().begin(async (tx) => {
      // Backdating updated_at needs the touch trigger out of the way.
      await tx`set local session_replication_role = replica`;
      const make = async (age: string, read: boolean) => {
        const [n] = await tx`insert into public.notifications (user_id, type, title, body, created_at, read_at)
          values (${c.id}, 'account', 'Old', 'x', now() - ${age}::interval, ${read ? tx`now() - ${age}::interval` : null}) returning id`;
        return n.id as string;
      };
      const oldRead = await make('91 days', true);
      const oldUnread = await make('200 days', false);
      const recentRead = await make('89 days', true);
      const [d] = await tx`insert into public.notification_deliveries (notification_id, user_id, channel, status, updated_at)
        values (${oldUnread}, ${c.id}, 'email', 'sent', now() - interval '31 days'), (${oldUnread}, ${c.id}, 'push', 'failed', now() - interval '31 days'),
               (${recentRead}, ${c.id}, 'email', 'dead', now() - interval '29 days'), (${oldRead}, ${c.id}, 'email', 'sent', now())
        returning id`;
      return { oldRead, oldUnread, recentRead, oldSent: d.id as string };
    });
    const [{ result }] = await sql()`select private.cleanup_notifications() as result`;
    expect(result.notifications).toBeGreaterThanOrEqual(1);
    expect(result.deliveries).toBeGreaterThanOrEqual(1);
    const notes = await sql()`select id from public.notifications where id in ${sql()([ids.oldRead, ids.oldUnread, ids.recentRead])} order by created_at`;
    expect(notes.map((n) => n.id)).toEqual([ids.oldUnread, ids.recentRead]);
    const left = await sql()`select channel, status from public.notification_deliveries where notification_id in ${sql()([ids.oldRead, ids.oldUnread, ids.recentRead])} order by status`;
    // The retrying one stays however old it is; the dead one is not 30 days old yet.
    expect(left).toEqual([{ channel: 'email', status: 'dead' }, { channel: 'push', status: 'failed' }]);
  });

  it('is not callable through the API', async () => {
    const err = await errorOf(sql().begin(async (tx) => {
      await tx`set local role service_role`;
      await tx`select private.cleanup_notifications()`;
    }));
    expect(err.code).toBe('42501');
  });
});

describe('weekly-vendor-report', () => {
  it('notifies each active vendor owner once per week with orders, sales, commission and top 3 items, and queues the email', async () => {
    const vendor = await createVendor();
    await sql()`update auth.users set email = ${`v${vendor.owner.id.slice(0, 8)}@example.test`}, email_confirmed_at = now() where id = ${vendor.owner.id}`;
    const customer = await createCustomer();
    await fundWallet(customer.id, 10_000_000);
    const lines = [
      [{ menu_item_id: vendor.suya, quantity: 3 }],
      [{ menu_item_id: vendor.suya, quantity: 1 }, { menu_item_id: vendor.jollof, quantity: 2, modifier_ids: [vendor.chicken] }],
      [{ menu_item_id: vendor.jollof, quantity: 1, modifier_ids: [vendor.beef] }],
    ];
    const orders = [];
    for (const items of [...lines, lines[0]]) {
      const o = await placeOrder(customer.id, { vendorId: vendor.id, items, fulfillment: 'pickup' });
      for (const s of ['preparing', 'ready', 'completed']) await setStatus(vendor.owner.id, o.id, s);
      orders.push(o);
    }
    // Three orders completed in the week of Monday 2026-11-16 (Lagos), the last one the week after.
    await sql()`update public.orders set completed_at = '2026-11-16 00:30 Africa/Lagos' where id = ${orders[0].id}`;
    await sql()`update public.orders set completed_at = '2026-11-19 12:00 Africa/Lagos' where id = ${orders[1].id}`;
    await sql()`update public.orders set completed_at = '2026-11-22 23:59 Africa/Lagos' where id = ${orders[2].id}`;
    await sql()`update public.orders set completed_at = '2026-11-23 00:01 Africa/Lagos' where id = ${orders[3].id}`;

    const [{ made }] = await sql()`select private.weekly_vendor_report('2026-11-16') as made`;
    expect(made).toBeGreaterThanOrEqual(1);
    const reports = await sql()`select id, title, body, data from public.notifications where user_id = ${vendor.owner.id} and type = 'vendor_report'`;
    expect(reports).toHaveLength(1);
    const [totals] = await sql()`select sum(subtotal)::bigint as sales, sum(commission)::bigint as commission, sum(subtotal + delivery_fee - commission)::bigint as earnings
      from public.orders where id in ${sql()(orders.slice(0, 3).map((o) => o.id))}`;
    expect(reports[0].data).toEqual({
      vendor_id: vendor.id, week_start: '2026-11-16', week_end: '2026-11-23', orders: 3, currency: 'NGN',
      sales: Number(totals.sales), commission: Number(totals.commission), earnings: Number(totals.earnings),
      top_items: [
        { name: 'Suya', quantity: 4, sales: 600000 },
        { name: 'Jollof rice', quantity: 3, sales: 2 * 330000 + 310000 },
      ],
    });
    expect(reports[0].body).toContain('3 completed orders');
    expect(reports[0].body).toContain('Top items: Suya (4), Jollof rice (3).');
    const channels = await sql()`select channel from public.notification_deliveries where notification_id = ${reports[0].id}`;
    expect(channels.map((c) => c.channel)).toEqual(['email']);

    // A second run of the same week sends nothing new to this vendor.
    await sql()`select private.weekly_vendor_report('2026-11-16')`;
    expect(await sql()`select 1 from public.notifications where user_id = ${vendor.owner.id} and type = 'vendor_report'`).toHaveLength(1);
    // A week without orders still reports zeros.
    await sql()`select private.weekly_vendor_report('2026-11-02')`;
    const [quiet] = await sql()`select data from public.notifications where user_id = ${vendor.owner.id} and type = 'vendor_report' and data ->> 'week_start' = '2026-11-02'`;
    expect(quiet.data).toMatchObject({ orders: 0, sales: 0, commission: 0, top_items: [] });
  });

  it('skips vendors that are not active and refuses a week that does not start on Monday', async () => {
    const vendor = await createVendor({ status: 'suspended' });
    await sql()`select private.weekly_vendor_report('2026-11-09')`;
    expect(await sql()`select 1 from public.notifications where user_id = ${vendor.owner.id} and type = 'vendor_report'`).toHaveLength(0);
    expect((await errorOf(sql()`select private.weekly_vendor_report('2026-11-10')`)).message).toBe('invalid_week');
  });
});
