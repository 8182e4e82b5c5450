// Vendor payouts in SQL: request_payout moves money from the owner's wallet to
// a hold through the ledger, never overdraws (also under parallel requests),
// waits for an admin above the threshold, and apply_transfer_status settles or
// returns the hold once, whatever the order of events. Every refusal has its
// code and writes nothing; conservation is balanced after each step.
// A queued payout is sent by the payouts function right after commit; these
// accounts were never registered with the fake Paystack, so it answers 503 to
// their transfers (the payout stays processing) and the tests decide outcomes.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { Rollback, asService, asUser, createUser, rolledBack, serviceSql } from '../helpers/db.ts';
import { createAdmin, createCustomer, createVendor, errorOf, fundWallet, providerUnavailableFor, walletBalance, type TestVendor } from './fixtures.ts';

async function withAccount(v: TestVendor): Promise<void> {
  const recipient = `RCP_db${randomBytes(6).toString('hex')}`;
  await providerUnavailableFor(recipient, 'paystack');
  await asService((tx) => tx`
    select public.save_payout_account(${v.owner.id}::uuid, '058', 'Guaranty Trust Bank', '0123456789', 'MAMA PUT VENTURES', ${recipient})`);
}

/** A vendor whose owner has `balance` kobo and a verified payout account. */
async function payableVendor(balance: number, account = true): Promise<TestVendor> {
  const v = await createVendor();
  if (balance > 0) await fundWallet(v.owner.id, balance);
  if (account) await withAccount(v);
  return v;
}

/** Resolves once the send started after the payout's commit has had its answer (503 here). */
async function afterCommitAttempt(payoutId: string): Promise<void> {
  if (!inject('fakes')) return; // another Supabase: its pg_net calls its own functions
  for (;;) {
    const [p] = await serviceSql()`select status, attempts, last_error, transfer_code from public.payouts where id = ${payoutId}`;
    if (p.attempts > 0 && (p.status !== 'processing' || p.last_error !== null || p.transfer_code !== null)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** request_payout as the owner; its row as the call returned it, once the send after commit is done. */
async function requestPayout(userId: string, amount: number | null, key: string | null = null) {
  const p = await asUser(userId, async (tx) => (await tx`select * from public.request_payout(${amount}::bigint, ${key})`)[0]);
  if (p.status === 'queued') await afterCommitAttempt(p.id);
  return p;
}

async function conservation() {
  const [c] = await serviceSql()`select * from admin.money_conservation`;
  return c;
}

async function expectBalanced() {
  const c = await conservation();
  expect({ balanced: c.balanced, payouts_off_ledger: Number(c.payouts_off_ledger), wallets_off_ledger: Number(c.wallets_off_ledger) })
    .toEqual({ balanced: true, payouts_off_ledger: 0, wallets_off_ledger: 0 });
}

/** What a refusal must leave untouched: the owner's payouts, ledger rows and balance. */
async function footprint(userId: string) {
  const [f] = await serviceSql()`
    select (select count(*)::int from public.payouts where user_id = ${userId}) as payouts,
           (select count(*)::int from public.wallet_transactions t join public.wallets w on w.id = t.wallet_id where w.user_id = ${userId}) as entries,
           (select balance from public.wallets where user_id = ${userId}) as balance,
           (select count(*)::int from public.notifications where user_id = ${userId}) as notes`;
  return f;
}

const claim = (userId: string | null, payoutId: string | null) =>
  asService(async (tx) => tx`select * from public.claim_payouts(${userId}::uuid, ${payoutId}::uuid)`);

/** Makes a payout look queued `minutes` ago, never sent (triggers off, so updated_at keeps the value). */
async function queuedAgo(tx: any, payoutId: string, minutes: number) {
  await tx`set local session_replication_role = replica`;
  await tx`update public.payouts set status = 'queued', attempts = 0, sent_at = null, updated_at = now() - make_interval(mins => ${minutes}) where id = ${payoutId}`;
  await tx`set local session_replication_role = origin`;
}

/** What a sweep (an admin's, or the platform's with userId null) claims, without keeping it. */
function sweepRolledBack(userId: string | null, prelude?: (tx: any) => Promise<unknown>) {
  return rolledBack(async (tx) => {
    if (prelude) await prelude(tx);
    await tx`select set_config('role', 'service_role', true)`;
    return [...(await tx`select * from public.claim_payouts(${userId}::uuid)`)];
  });
}

const apply = (reference: string, status: string, event: string | null = null, amount: number | null = null) =>
  asService(async (tx) => (await tx`
    select public.apply_transfer_status(p_reference => ${reference}, p_status => ${status}, p_transfer_code => 'TRF_test',
      p_amount => ${amount}::bigint, p_currency => 'NGN', p_reason => ${status === 'success' ? null : 'Account closed'},
      p_provider_event_id => ${event}) as r`)[0].r);

const payout = async (id: string) => (await serviceSql()`select * from public.payouts where id = ${id}`)[0];

describe('request_payout', () => {
  it('moves the amount to a hold through the ledger and queues the payout', async () => {
    const v = await payableVendor(1_000_000);
    const p = await requestPayout(v.owner.id, 400_000);
    expect(p).toMatchObject({ status: 'queued', amount: '400000', currency: 'NGN', vendor_id: v.id, recipient_code: expect.stringMatching(/^RCP_db/), account_name: 'MAMA PUT VENTURES' });
    expect(p.reference).toMatch(/^po_[0-9a-f]{32}$/);
    expect(await walletBalance(v.owner.id)).toBe(600_000);
    const [hold] = await serviceSql()`select type, amount, balance_after, reference from public.wallet_transactions where id = ${p.hold_entry_id}`;
    expect(hold).toEqual({ type: 'payout_hold', amount: '-400000', balance_after: '600000', reference: p.reference });
    const c = await conservation();
    expect(Number(c.payout_held)).toBe(Number(c.payout_released) + Number(c.payouts_open) + Number(c.payouts_paid));
    await expectBalanced();
  });

  it('asks pg_net, in the same transaction, to call the payouts function for the payout', async () => {
    const v = await payableVendor(1_000_000);
    const request = await rolledBack(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: v.owner.id, role: 'authenticated' })}, true)`;
      const [p] = await tx`select id from public.request_payout(200000)`;
      await tx`select set_config('role', 'postgres', true)`;
      const [q] = await tx<{ url: string; body: unknown }[]>`select url, convert_from(body, 'utf8')::jsonb as body from net.http_request_queue
                           where convert_from(body, 'utf8')::jsonb ->> 'payout_id' = ${p.id}`;
      return { payoutId: p.id, ...q };
    });
    expect(request.url).toMatch(/\/functions\/v1\/payouts$/);
    expect(request.body).toEqual({ action: 'send', payout_id: request.payoutId });
    // Rolled back: no payout, and pg_net sends nothing.
    expect(await serviceSql()`select 1 from public.payouts where id = ${request.payoutId}`).toHaveLength(0);
  });

  it('returns the same payout for the same idempotency key, and holds once', async () => {
    const v = await payableVendor(1_000_000);
    const a = await requestPayout(v.owner.id, 300_000, 'withdraw-1');
    const b = await requestPayout(v.owner.id, 300_000, 'withdraw-1');
    expect(b.id).toBe(a.id);
    expect(await walletBalance(v.owner.id)).toBe(700_000);
    await expectBalanced();
  });

  it('lets exactly one of 10 parallel requests for the whole balance through', async () => {
    const v = await payableVendor(2_500_000);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => requestPayout(v.owner.id, 2_500_000)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason.message);
    expect(ok).toHaveLength(1);
    expect(refused).toEqual(Array(9).fill('insufficient_funds'));
    expect(await walletBalance(v.owner.id)).toBe(0);
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payouts where user_id = ${v.owner.id}`;
    expect(n).toBe(1);
    await expectBalanced();
  });

  it('refuses with a code for every rule and writes nothing', async () => {
    const v = await payableVendor(1_000_000);
    const noAccount = await payableVendor(1_000_000, false);
    const suspended = await payableVendor(1_000_000);
    await serviceSql()`update public.vendors set status = 'suspended' where id = ${suspended.id}`;
    const banned = await payableVendor(1_000_000);
    await serviceSql()`update public.profiles set status = 'suspended' where id = ${banned.owner.id}`;
    const customer = await createCustomer();
    await fundWallet(customer.id, 1_000_000);
    const cases: Array<[string, string, () => Promise<unknown>]> = [
      ['below the minimum', 'payout_below_minimum', () => requestPayout(v.owner.id, 99_999)],
      ['zero', 'invalid_amount', () => requestPayout(v.owner.id, 0)],
      ['negative', 'invalid_amount', () => requestPayout(v.owner.id, -500_000)],
      ['null', 'invalid_amount', () => requestPayout(v.owner.id, null)],
      ['absurd', 'invalid_amount', () => requestPayout(v.owner.id, 10_000_000_001)],
      ['more than the balance', 'insufficient_funds', () => requestPayout(v.owner.id, 1_000_001)],
      ['an overlong key', 'invalid_idempotency_key', () => requestPayout(v.owner.id, 200_000, 'k'.repeat(201))],
      ['no payout account', 'payout_account_missing', () => requestPayout(noAccount.owner.id, 200_000)],
      ['a suspended vendor', 'vendor_suspended', () => requestPayout(suspended.owner.id, 200_000)],
      ['a customer', 'not_a_vendor', () => requestPayout(customer.id, 200_000)],
      ['a suspended owner', 'account_suspended', () => requestPayout(banned.owner.id, 200_000)],
    ];
    const caller: Record<string, string> = {
      'no payout account': noAccount.owner.id, 'a suspended vendor': suspended.owner.id, 'a customer': customer.id, 'a suspended owner': banned.owner.id,
    };
    for (const [label, code, call] of cases) {
      const who = caller[label] ?? v.owner.id;
      const before = await footprint(who);
      const err = await errorOf(call());
      expect({ label, message: err.message, detail: Boolean(err.detail) }).toEqual({ label, message: code, detail: true });
      expect(await footprint(who)).toEqual(before);
    }
    const anon = await errorOf(serviceSql().begin(async (tx) => {
      await tx`select set_config('role', 'anon', true)`;
      return tx`select public.request_payout(200000)`;
    }));
    expect(anon.code).toBe('42501');
    await expectBalanced();
  });
});

describe('conservation', () => {
  it('notices a hold that no payout accounts for, and a payout whose hold came back twice', async () => {
    const v = await payableVendor(1_000_000);
    const p = await requestPayout(v.owner.id, 300_000);
    const planted = async (plant: (tx: any) => Promise<unknown>) => {
      let seen: Record<string, any> = {};
      await serviceSql().begin(async (tx) => {
        await plant(tx);
        [seen] = await tx`select balanced, payout_held, payout_released, payouts_open, payouts_paid, payouts_off_ledger from admin.money_conservation`;
        throw new Rollback();
      }).catch((err) => {
        if (!(err instanceof Rollback)) throw err;
      });
      return seen;
    };
    const stray = await planted((tx) => tx`select private.post_wallet_entry(${v.owner.id}::uuid, -100000::bigint, 'payout_hold', 'stray', ${'stray:' + p.id})`);
    expect(stray.balanced).toBe(false);
    const twice = await planted((tx) => tx`select private.post_wallet_entry(${v.owner.id}::uuid, 300000::bigint, 'payout_release', ${p.reference}, ${'again:' + p.id})`);
    expect(twice.balanced).toBe(false);
    const amountOffHold = await planted((tx) => tx`update public.payouts set amount = amount + 1 where id = ${p.id}`);
    expect({ balanced: amountOffHold.balanced, off: Number(amountOffHold.payouts_off_ledger) }).toEqual({ balanced: false, off: 1 });
    await expectBalanced();
  });
});

describe('admin approval', () => {
  it('holds a payout above the threshold until an admin approves it', async () => {
    const [v, admin] = await Promise.all([payableVendor(80_000_000), createAdmin()]);
    const p = await requestPayout(v.owner.id, 50_000_001);
    expect(p.status).toBe('pending_approval');
    expect(await walletBalance(v.owner.id)).toBe(80_000_000 - 50_000_001);
    const waiting = await serviceSql()`select vendor_name, amount, wallet_balance_after_hold from admin.payouts_awaiting_approval where payout_id = ${p.id}`;
    expect(waiting).toHaveLength(1);
    // Not sendable before approval, not even by its owner.
    expect((await errorOf(claim(v.owner.id, p.id))).message).toBe('payout_not_sendable');
    expect((await errorOf(asUser(v.owner.id, (tx) => tx`select public.admin_approve_payout(${p.id}::uuid)`))).message).toBe('forbidden');
    const approved = (await asUser(admin.id, (tx) => tx`select * from public.admin_approve_payout(${p.id}::uuid)`))[0];
    expect(approved).toMatchObject({ status: 'queued', approved_by: admin.id });
    expect(await serviceSql()`select 1 from admin.payouts_awaiting_approval where payout_id = ${p.id}`).toHaveLength(0);
    // Decided once.
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_approve_payout(${p.id}::uuid)`))).message).toBe('payout_not_pending');
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_reject_payout(${p.id}::uuid, 'too late')`))).message).toBe('payout_not_pending');
    await expectBalanced();
  });

  it('an admin who runs a vendor cannot approve their own payout', async () => {
    const v = await payableVendor(60_000_000);
    await serviceSql()`update public.profiles set role = 'admin' where id = ${v.owner.id}`;
    const p = await requestPayout(v.owner.id, 55_000_000);
    const before = await footprint(v.owner.id);
    expect((await errorOf(asUser(v.owner.id, (tx) => tx`select public.admin_approve_payout(${p.id}::uuid)`))).message).toBe('cannot_approve_own_payout');
    expect(await footprint(v.owner.id)).toEqual(before);
    expect((await payout(p.id)).status).toBe('pending_approval');
  });

  it('returns the hold when an admin rejects, with a reason, and tells the vendor', async () => {
    const [v, admin] = await Promise.all([payableVendor(60_000_000), createAdmin()]);
    const p = await requestPayout(v.owner.id, 55_000_000);
    const before = await footprint(v.owner.id);
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_reject_payout(${p.id}::uuid, '  ')`))).message).toBe('reason_required');
    expect((await errorOf(asUser(admin.id, (tx) => tx`select public.admin_reject_payout(${crypto.randomUUID()}::uuid, 'x')`))).message).toBe('payout_not_found');
    expect((await errorOf(asUser(v.owner.id, (tx) => tx`select public.admin_reject_payout(${p.id}::uuid, 'mine')`))).message).toBe('forbidden');
    expect(await footprint(v.owner.id)).toEqual(before);
    const rejected = (await asUser(admin.id, (tx) => tx`select * from public.admin_reject_payout(${p.id}::uuid, 'Account under review')`))[0];
    expect(rejected).toMatchObject({ status: 'failed', rejected_by: admin.id, failure_reason: 'rejected: Account under review' });
    expect(await walletBalance(v.owner.id)).toBe(60_000_000);
    const [note] = await serviceSql()`select title, data from public.notifications where user_id = ${v.owner.id} and data ->> 'payout_id' = ${p.id}`;
    expect(note).toMatchObject({ title: 'Payout failed', data: { status: 'failed' } });
    await expectBalanced();
  });
});

describe('transfer outcomes', () => {
  /** A payout the send after commit took to Paystack, which could not answer (503). */
  async function processing(amount = 500_000) {
    const v = await payableVendor(1_000_000);
    const p = await requestPayout(v.owner.id, amount);
    expect(await payout(p.id)).toMatchObject({ status: 'processing', attempts: 1, last_error: expect.stringContaining('503') });
    return { v, p };
  }

  it('success settles: the hold stays spent', async () => {
    const { v, p } = await processing();
    expect(await apply(p.reference, 'success', 'transfer.success:1' + p.id, 500_000)).toMatchObject({ outcome: 'paid', payout_status: 'paid', duplicate: false });
    expect(await walletBalance(v.owner.id)).toBe(500_000);
    expect((await payout(p.id)).paid_at).not.toBeNull();
    await expectBalanced();
  });

  it('shows in the vendor statement: a paid payout as money out, a failed one as nothing', async () => {
    const { v, p } = await processing(300_000);
    await apply(p.reference, 'success', 'transfer.success:' + p.id);
    const q = await requestPayout(v.owner.id, 200_000);
    await apply(q.reference, 'failed', 'transfer.failed:' + q.id);
    const [{ s }] = await asUser(v.owner.id, (tx) => tx`
      select public.vendor_statement(${v.id}::uuid, (now() at time zone 'Africa/Lagos')::date, (now() at time zone 'Africa/Lagos')::date) as s`);
    expect(s).toMatchObject({ reconciles: true, closing_balance: 700_000 });
    expect(s.days).toEqual([expect.objectContaining({ payouts: -300_000, other: 1_000_000, net: 700_000 })]);
    await expectBalanced();
  });

  it("counts in admin.daily_cash: out the day Paystack paid, back in the day the bank reversed", async () => {
    const { p } = await processing(300_000);
    const cash = async (tx: any) => {
      const [row] = await tx`select coalesce(sum(cash_in), 0)::bigint as cash_in, coalesce(sum(cash_out), 0)::bigint as cash_out
                             from admin.daily_cash where provider = 'paystack' and day = (now() at time zone 'Africa/Lagos')::date`;
      return { in: Number(row.cash_in), out: Number(row.cash_out) };
    };
    // One snapshot (repeatable read), rolled back: other tests' payments cannot move the sums meanwhile.
    const [before, paid, reversed] = await rolledBack(async (tx) => {
      await tx`set transaction isolation level repeatable read`;
      const a = await cash(tx);
      await tx`select public.apply_transfer_status(${p.reference}, 'success')`;
      const b = await cash(tx);
      await tx`select public.apply_transfer_status(${p.reference}, 'reversed')`;
      return [a, b, await cash(tx)];
    });
    expect({ in: paid.in - before.in, out: paid.out - before.out }).toEqual({ in: 0, out: 300_000 });
    expect({ in: reversed.in - paid.in, out: reversed.out - paid.out }).toEqual({ in: 300_000, out: 0 });
  });

  it('failure returns the hold to the wallet and tells the vendor', async () => {
    const { v, p } = await processing();
    expect(await apply(p.reference, 'failed', 'transfer.failed:' + p.id, 500_000)).toMatchObject({ outcome: 'failed', payout_status: 'failed' });
    expect(await walletBalance(v.owner.id)).toBe(1_000_000);
    expect(await payout(p.id)).toMatchObject({ status: 'failed', failure_reason: 'Account closed' });
    const notes = await serviceSql()`select title from public.notifications where user_id = ${v.owner.id} and data ->> 'payout_id' = ${p.id}`;
    expect(notes.map((n) => n.title)).toEqual(['Payout failed']);
    await expectBalanced();
  });

  it('an abandoned transfer (final at Paystack, no money moved) fails the payout', async () => {
    const { v, p } = await processing();
    expect(await apply(p.reference, 'abandoned')).toMatchObject({ outcome: 'failed', payout_status: 'failed' });
    expect(await walletBalance(v.owner.id)).toBe(1_000_000);
    await expectBalanced();
  });

  it('a reversal after success returns the hold once; replays and late events change nothing', async () => {
    const { v, p } = await processing();
    await apply(p.reference, 'success', 'transfer.success:' + p.id);
    expect(await apply(p.reference, 'reversed', 'transfer.reversed:' + p.id)).toMatchObject({ outcome: 'reversed', payout_status: 'reversed' });
    expect(await walletBalance(v.owner.id)).toBe(1_000_000);
    // The same event again, the success again, a failure after the fact: no-ops.
    expect(await apply(p.reference, 'reversed', 'transfer.reversed:' + p.id)).toMatchObject({ outcome: 'reversed', duplicate: true });
    expect(await apply(p.reference, 'success', 'transfer.success:' + p.id)).toMatchObject({ outcome: 'paid', duplicate: true });
    expect(await apply(p.reference, 'failed', 'transfer.failed:' + p.id)).toMatchObject({ outcome: 'ignored', payout_status: 'reversed' });
    expect(await walletBalance(v.owner.id)).toBe(1_000_000);
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.wallet_transactions where type = 'payout_release' and reference = ${p.reference}`;
    expect(n).toBe(1);
    await expectBalanced();
  });

  it('a reversal that overtakes the success is applied once and the late success is ignored', async () => {
    const { v, p } = await processing();
    expect(await apply(p.reference, 'reversed', 'transfer.reversed:' + p.id)).toMatchObject({ outcome: 'reversed' });
    expect(await apply(p.reference, 'success', 'transfer.success:' + p.id)).toMatchObject({ outcome: 'ignored', payout_status: 'reversed' });
    expect(await walletBalance(v.owner.id)).toBe(1_000_000);
    await expectBalanced();
  });

  it("ignores events for unknown references and for amounts that are not the payout's", async () => {
    const { v, p } = await processing();
    expect(await apply('po_00000000000000000000000000000000', 'success', 'transfer.success:unknown' + p.id)).toMatchObject({ outcome: 'unknown_reference', payout_id: null });
    expect(await apply(p.reference, 'success', 'transfer.success:forged' + p.id, 1)).toMatchObject({ outcome: 'amount_mismatch', payout_status: 'processing' });
    expect(await walletBalance(v.owner.id)).toBe(500_000);
    await expectBalanced();
  });

  it('a payout not sent yet is never settled by an event', async () => {
    const v = await payableVendor(80_000_000);
    const p = await requestPayout(v.owner.id, 60_000_000);
    expect(p.status).toBe('pending_approval');
    expect(await apply(p.reference, 'success', 'transfer.success:q' + p.id)).toMatchObject({ outcome: 'ignored', payout_status: 'pending_approval' });
    expect(await apply(p.reference, 'failed', 'transfer.failed:q' + p.id)).toMatchObject({ outcome: 'ignored', payout_status: 'pending_approval' });
    await expectBalanced();
  });

  it("sends only the caller's own payouts, and only admins sweep", async () => {
    const [v, other, admin] = await Promise.all([payableVendor(1_000_000), payableVendor(0), createAdmin()]);
    const p = await requestPayout(v.owner.id, 500_000);
    expect((await errorOf(claim(other.owner.id, p.id))).message).toBe('payout_not_found');
    expect((await errorOf(claim(v.owner.id, crypto.randomUUID()))).message).toBe('payout_not_found');
    expect((await errorOf(claim(v.owner.id, null))).message).toBe('forbidden');
    expect(await payout(p.id)).toMatchObject({ status: 'processing', attempts: 1 });
    // Sweeps are rolled back: they claim every due payout, other tests' too. A
    // payout just sent is not due; one left processing for 10 minutes is.
    const stale = async (tx: any) => {
      await tx`set local session_replication_role = replica`;
      await tx`update public.payouts set sent_at = now() - interval '11 minutes' where id = ${p.id}`;
      await tx`set local session_replication_role = origin`;
    };
    for (const who of [admin.id, null]) {
      expect((await sweepRolledBack(who)).find((s) => s.id === p.id)).toBeUndefined();
      expect((await sweepRolledBack(who, stale)).find((s) => s.id === p.id)).toMatchObject({ status: 'processing', attempts: 2 });
    }
    // A queued payout: an admin's sweep takes it at once, the platform's job only once the send after commit had a minute.
    expect((await sweepRolledBack(admin.id, (tx) => queuedAgo(tx, p.id, 0))).find((s) => s.id === p.id)).toMatchObject({ attempts: 1 });
    expect((await sweepRolledBack(null, (tx) => queuedAgo(tx, p.id, 0))).find((s) => s.id === p.id)).toBeUndefined();
    expect((await sweepRolledBack(null, (tx) => queuedAgo(tx, p.id, 2))).find((s) => s.id === p.id)).toMatchObject({ attempts: 1 });
    expect(await payout(p.id)).toMatchObject({ status: 'processing', attempts: 1 });
    // The platform may also send one payout.
    expect((await claim(null, p.id)).map((s) => s.attempts)).toEqual([2]);
  });

  it('stores payout accounts only for owners of active vendors', async () => {
    const [pending, customer] = await Promise.all([createVendor({ status: 'pending' }), createCustomer()]);
    const save = (userId: string) => asService((tx) => tx`select public.save_payout_account(${userId}::uuid, '058', 'GTB', '0123456789', 'X', 'RCP_x1')`);
    expect((await errorOf(save(pending.owner.id))).message).toBe('vendor_not_active');
    expect((await errorOf(save(customer.id))).message).toBe('not_a_vendor');
    expect(await serviceSql()`select 1 from public.payout_accounts where user_id in (${pending.owner.id}, ${customer.id})`).toHaveLength(0);
  });

  it('schedules send-payouts, which calls the payouts function as the platform when a payout is due', async () => {
    const [job] = await serviceSql()`select schedule, command, username, active from cron.job where jobname = 'send-payouts'`;
    expect(job).toEqual({ schedule: '* * * * *', command: 'select private.request_payout_sweep()', username: 'postgres', active: true });
    const v = await payableVendor(1_000_000);
    const p = await requestPayout(v.owner.id, 500_000);
    // Rolled back, so pg_net never sends it (requests leave only after commit).
    const request = await rolledBack(async (tx) => {
      await queuedAgo(tx, p.id, 2);
      const [{ id }] = await tx`select private.request_payout_sweep() as id`;
      const [q] = await tx`select url, headers, convert_from(body, 'utf8')::jsonb as body from net.http_request_queue where id = ${id}`;
      return q;
    });
    expect(request.url).toMatch(/\/functions\/v1\/payouts$/);
    expect(request.body).toEqual({ action: 'send' });
    expect(request.headers.Authorization).toMatch(/^Bearer ey/);
    expect((await payout(p.id)).status).toBe('processing');
    const user = await createUser();
    expect((await errorOf(asUser(user.id, (tx) => tx`select private.request_payout_sweep()`))).code).toBe('42501');
  });

  it('keeps the functions that move payouts away from clients', async () => {
    const user = await createUser();
    for (const call of [
      `select public.claim_payouts('${user.id}'::uuid)`,
      `select public.apply_transfer_status('po_x', 'success')`,
      `select public.record_payout_send_error('po_x', 'x')`,
      `select public.save_payout_account('${user.id}'::uuid, '058', 'GTB', '0123456789', 'X', 'RCP_x')`,
    ]) {
      expect((await errorOf(asUser(user.id, (tx) => tx.unsafe(call)))).code).toBe('42501');
    }
  });
});
