// The platform's scheduled jobs: their schedules in cron.job, and the effect of
// each job's own command (run here as the scheduler runs it: as the job's
// owner), so no test waits for a minute to pass. The real jobs also run during
// the suite, so these tests assert states, not counts.
import { beforeAll, describe, expect, it } from 'vitest';
import { asUser, serviceSql } from '../helpers/db.ts';
import { createCustomer, createVendor, errorOf, fundWallet, jollofWithChicken, placeOrder, setStatus, walletBalance, type TestVendor } from './fixtures.ts';

const sql = serviceSql();

async function jobCommand(name: string): Promise<string> {
  const [job] = await sql`select command from cron.job where jobname = ${name} and username = 'postgres'`;
  return job.command;
}

/** Runs a job's command now, as its owner (postgres), the way the scheduler does. */
async function runJob(name: string) {
  return sql.unsafe(await jobCommand(name));
}

/** Moves the order's arrival in `new` back by `minutes`. */
async function newFor(orderId: string, minutes: number) {
  await sql`update public.order_events set created_at = now() - make_interval(secs => ${minutes * 60}) where order_id = ${orderId} and to_status = 'new'`;
}

async function notificationsAbout(orderId: string) {
  return sql`select user_id, type, title, body, data from public.notifications where order_id = ${orderId} order by created_at, id`;
}

let vendor: TestVendor;
beforeAll(async () => {
  vendor = await createVendor();
});

describe('job schedules', () => {
  it('schedules the jobs with cron.schedule under their names, as postgres, in UTC', async () => {
    const jobs = await sql`select jobname, schedule, command, username, active from cron.job where jobname in ('expire-unpaid-orders', 'cancel-unaccepted-orders', 'reconcile-payments') order by jobname`;
    expect(jobs).toEqual([
      { jobname: 'cancel-unaccepted-orders', schedule: '* * * * *', command: 'select public.cancel_unaccepted_orders()', username: 'postgres', active: true },
      { jobname: 'expire-unpaid-orders', schedule: '* * * * *', command: 'select public.expire_unpaid_orders()', username: 'postgres', active: true },
      { jobname: 'reconcile-payments', schedule: '*/2 * * * *', command: 'select private.request_payment_reconcile()', username: 'postgres', active: true },
    ]);
  });

  it('expire-unpaid-orders cancels card orders unpaid after 30 minutes', async () => {
    const c = await createCustomer();
    const old = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 1 }], addressId: c.addressId, paymentMethod: 'paystack' });
    const fresh = await placeOrder(c.id, { vendorId: vendor.id, items: [{ menu_item_id: vendor.suya, quantity: 2 }], addressId: c.addressId, paymentMethod: 'paystack' });
    await sql`update public.orders set created_at = now() - interval '31 minutes' where id = ${old.id}`;
    await runJob('expire-unpaid-orders');
    const rows = await sql`select id, status, cancel_reason, cancelled_by_role from public.orders where id in (${old.id}, ${fresh.id})`;
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[old.id]).toMatchObject({ status: 'cancelled', cancel_reason: 'payment_timeout', cancelled_by_role: 'system' });
    expect(byId[fresh.id].status).toBe('awaiting_payment');
  });
});

describe('vendors.accept_within_minutes', () => {
  it('defaults to 10; the owner sets it from 3 to 60, nobody else', async () => {
    const v = await createVendor();
    const [row] = await sql`select accept_within_minutes from public.vendors where id = ${v.id}`;
    expect(row.accept_within_minutes).toBe(10);
    await asUser(v.owner.id, (tx) => tx`update public.vendors set accept_within_minutes = 3 where id = ${v.id}`);
    await asUser(v.owner.id, (tx) => tx`update public.vendors set accept_within_minutes = 60 where id = ${v.id}`);
    for (const bad of [2, 61, -1]) {
      expect((await errorOf(asUser(v.owner.id, (tx) => tx`update public.vendors set accept_within_minutes = ${bad} where id = ${v.id}`))).code).toBe('23514');
    }
    const stranger = await createCustomer();
    const changed = await asUser(stranger.id, (tx) => tx`update public.vendors set accept_within_minutes = 5 where id = ${v.id} returning id`);
    expect(changed).toHaveLength(0);
    expect((await sql`select accept_within_minutes from public.vendors where id = ${v.id}`)[0].accept_within_minutes).toBe(60);
  });
});

describe('cancel-unaccepted-orders', () => {
  async function paidWalletOrder(v = vendor) {
    const c = await createCustomer();
    await fundWallet(c.id, 1_000_000);
    const order = await placeOrder(c.id, { vendorId: v.id, items: [jollofWithChicken(v)], addressId: c.addressId });
    expect(order.status).toBe('new');
    return { c, order, before: await walletBalance(c.id) };
  }

  it('reminds the vendor once at half the window, then cancels with a full refund and notifies both sides', async () => {
    const { c, order, before } = await paidWalletOrder();
    expect(before).toBe(1_000_000 - Number(order.total));

    // Under half the window (10 min): nothing.
    await newFor(order.id, 4);
    await runJob('cancel-unaccepted-orders');
    expect((await sql`select status, accept_reminder_sent_at from public.orders where id = ${order.id}`)[0]).toEqual({ status: 'new', accept_reminder_sent_at: null });

    // Half the window: one reminder to the vendor's owner, however often the job runs.
    await newFor(order.id, 6);
    await runJob('cancel-unaccepted-orders');
    await runJob('cancel-unaccepted-orders');
    const [afterReminder] = await sql`select status, accept_reminder_sent_at from public.orders where id = ${order.id}`;
    expect(afterReminder.status).toBe('new');
    expect(afterReminder.accept_reminder_sent_at).not.toBeNull();
    const reminders = (await notificationsAbout(order.id)).filter((n) => n.data.reminder === true);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatchObject({ user_id: vendor.owner.id, type: 'new_order', title: `Order ${order.number} is waiting` });

    // The whole window: cancelled by the system, the total back in the wallet, both sides told.
    await newFor(order.id, 11);
    await runJob('cancel-unaccepted-orders');
    const [cancelled] = await sql`select status, payment_status, cancel_reason, cancelled_by, cancelled_by_role from public.orders where id = ${order.id}`;
    expect(cancelled).toEqual({ status: 'cancelled', payment_status: 'refunded', cancel_reason: 'not_accepted', cancelled_by: null, cancelled_by_role: 'system' });
    expect(await walletBalance(c.id)).toBe(1_000_000);
    const [event] = await sql`select from_status, to_status, actor_role, reason from public.order_events where order_id = ${order.id} order by id desc limit 1`;
    expect(event).toEqual({ from_status: 'new', to_status: 'cancelled', actor_role: 'system', reason: 'not_accepted' });
    const told = (await notificationsAbout(order.id)).filter((n) => n.data.status === 'cancelled');
    expect(told.map((n) => n.user_id).sort()).toEqual([c.id, vendor.owner.id].sort());

    // Running again changes nothing: no second refund.
    await runJob('cancel-unaccepted-orders');
    expect(await walletBalance(c.id)).toBe(1_000_000);
  });

  it('follows each vendor\'s own window', async () => {
    const quick = await createVendor();
    await asUser(quick.owner.id, (tx) => tx`update public.vendors set accept_within_minutes = 3 where id = ${quick.id}`);
    const { order: remindMe } = await paidWalletOrder(quick);
    const { order: cancelMe } = await paidWalletOrder(quick);
    const { order: patient } = await paidWalletOrder(); // the 10-minute vendor
    await newFor(remindMe.id, 2);
    await newFor(cancelMe.id, 3.5);
    await newFor(patient.id, 3.5);
    await runJob('cancel-unaccepted-orders');
    const rows = await sql`select id, status, accept_reminder_sent_at is not null as reminded from public.orders where id in (${remindMe.id}, ${cancelMe.id}, ${patient.id})`;
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[remindMe.id]).toMatchObject({ status: 'new', reminded: true });
    expect(byId[cancelMe.id]).toMatchObject({ status: 'cancelled' });
    expect(byId[patient.id]).toMatchObject({ status: 'new', reminded: false });
  });

  it('leaves orders the vendor accepted, however old', async () => {
    const { order } = await paidWalletOrder();
    await setStatus(vendor.owner.id, order.id, 'preparing');
    await newFor(order.id, 60);
    await runJob('cancel-unaccepted-orders');
    expect((await sql`select status from public.orders where id = ${order.id}`)[0].status).toBe('preparing');
  });

  it('is for the scheduler and service_role only', async () => {
    const c = await createCustomer();
    expect((await errorOf(asUser(c.id, (tx) => tx`select public.cancel_unaccepted_orders()`))).code).toBe('42501');
    expect((await errorOf(asUser(c.id, (tx) => tx`select private.request_payment_reconcile()`))).code).toBe('42501');
    expect((await errorOf(asUser(c.id, (tx) => tx`select * from public.payments_to_reconcile()`))).code).toBe('42501');
  });
});

