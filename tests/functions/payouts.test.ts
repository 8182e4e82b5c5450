// Vendor payouts end to end through supabase-js: the owner saves a bank account
// through the payouts function (the fake Paystack resolves it and registers a
// recipient), requests a payout with rpc('request_payout'), which the payouts
// function sends right after commit (pg_net), and the fake Paystack settles the
// transfer and sends its signed webhook back.
import type { SupabaseClient } from '@supabase/supabase-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdmin, createCustomer, createVendor, fundWallet, walletBalance, type TestVendor } from '../db/fixtures.ts';
import { fakesEnv } from '../fakes/env.ts';
import { failCalls, fakeCalls } from '../fakes/recorder.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { invoke, invokeAsPlatform, postPaystackWebhook, userClient } from './payments-helpers.ts';

let accountCounter = 0;

describe.runIf(stackEnv().embedded)('payouts with Paystack Transfers', () => {
  const fakes = fakesEnv();
  let admin: SupabaseClient;
  beforeAll(async () => {
    admin = await userClient(await createAdmin());
  });

  async function fake(path: string, body: unknown): Promise<Record<string, any>> {
    const res = await fetch(`${fakes.paystackUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`fake Paystack ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** A bank account the fake Paystack resolves: a unique 10-digit number at GTBank. */
  async function bankAccount(name = 'MAMA PUT VENTURES') {
    accountCounter += 1;
    const account_number = `${process.pid % 100000}`.padStart(5, '0') + `${accountCounter}`.padStart(5, '0');
    await fake('/__fake/paystack/accounts', { bank_code: '058', account_number, account_name: name });
    return { bank_code: '058', account_number, account_name: name };
  }

  /** Paystack decides the transfer; its signed webhook goes to the stack unless deliver is false. */
  const settle = (reference: string, status: string, deliver = true) =>
    fake('/__fake/paystack/transfer/settle', {
      reference, status, ...(deliver ? { webhook_url: `${stackEnv().url}/functions/v1/paystack-webhook` } : {}),
      ...(status === 'failed' ? { gateway_response: 'Beneficiary account is dormant' } : {}),
    });

  async function payee(balance = 2_000_000): Promise<{ vendor: TestVendor; client: SupabaseClient; recipientCode: string }> {
    const vendor = await createVendor();
    if (balance) await fundWallet(vendor.owner.id, balance);
    const client = await userClient(vendor.owner);
    const { bank_code, account_number } = await bankAccount();
    const saved = await invoke(client, 'payouts', { action: 'save_account', bank_code, account_number });
    expect(saved.status).toBe(200);
    return { vendor, client, recipientCode: saved.body.recipient_code };
  }

  /** Resolves once the send pg_net started after the payout's commit has had Paystack's answer. */
  async function sentAfterCommit(payoutId: string): Promise<void> {
    for (;;) {
      const [p] = await serviceSql()`select status, attempts, last_error, transfer_code from public.payouts where id = ${payoutId}`;
      if (p.attempts > 0 && (p.status !== 'processing' || p.last_error !== null || p.transfer_code !== null)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** rpc('request_payout') as the app calls it; the row it returned, once the send after commit is done. */
  async function requested(client: SupabaseClient, amount: number) {
    const { data, error } = await client.rpc('request_payout', { p_amount: amount });
    expect(error).toBeNull();
    if (data.status === 'queued') await sentAfterCommit(data.id);
    return data as Record<string, any>;
  }

  const payout = async (id: string) => (await serviceSql()`select * from public.payouts where id = ${id}`)[0];
  const balanced = async () => (await serviceSql()`select balanced from admin.money_conservation`)[0].balanced;

  it('lists the banks Paystack pays out to', async () => {
    const { client } = await payee(0);
    const banks = await invoke(client, 'payouts', { action: 'list_banks' });
    expect(banks.status).toBe(200);
    expect(banks.body.banks).toContainEqual({ name: 'Guaranty Trust Bank', code: '058', slug: 'guaranty-trust-bank' });
    const calls = await fakeCalls(fakes.paystackUrl, '/bank?currency=NGN');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0].headers.authorization).toBe(`Bearer ${fakes.secrets.PAYSTACK_SECRET_KEY}`);
  });

  it('resolves the account, stores the name Paystack gives and the recipient code; only for vendor owners', async () => {
    const vendor = await createVendor();
    const client = await userClient(vendor.owner);
    const account = await bankAccount('ADAEZE OKONKWO');
    const preview = await invoke(client, 'payouts', { action: 'resolve_account', bank_code: account.bank_code, account_number: account.account_number });
    expect(preview).toEqual({ status: 200, body: { bank_code: '058', account_number: account.account_number, account_name: 'ADAEZE OKONKWO' } });
    expect(await serviceSql()`select 1 from public.payout_accounts where user_id = ${vendor.owner.id}`).toHaveLength(0);

    const saved = await invoke(client, 'payouts', { action: 'save_account', bank_code: account.bank_code, account_number: account.account_number });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ user_id: vendor.owner.id, vendor_id: vendor.id, bank_name: 'Guaranty Trust Bank', account_name: 'ADAEZE OKONKWO' });
    expect(saved.body.recipient_code).toMatch(/^RCP_/);
    const [recipientCall] = (await fakeCalls(fakes.paystackUrl, account.account_number)).filter((c) => c.path === '/transferrecipient');
    expect(JSON.parse(recipientCall.body)).toEqual({ type: 'nuban', name: 'ADAEZE OKONKWO', account_number: account.account_number, bank_code: '058', currency: 'NGN' });

    // The owner reads it through the API; another vendor does not see it.
    const { data: mine } = await client.from('payout_accounts').select('account_name, recipient_code');
    expect(mine).toEqual([{ account_name: 'ADAEZE OKONKWO', recipient_code: saved.body.recipient_code }]);
    const other = await userClient((await createVendor()).owner);
    expect((await other.from('payout_accounts').select('id').eq('user_id', vendor.owner.id)).data).toEqual([]);
    // Clients cannot write it directly.
    const forged = await client.from('payout_accounts').update({ account_name: 'SOMEONE ELSE' }).eq('user_id', vendor.owner.id).select();
    expect(forged.error?.code).toBe('42501');

    // Refusals: an account Paystack cannot resolve, a malformed body, a caller who owns no vendor.
    const unknown = await invoke(client, 'payouts', { action: 'save_account', bank_code: '058', account_number: '0000000001' });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'account_not_resolved' } });
    expect((await invoke(client, 'payouts', { action: 'save_account', bank_code: '058', account_number: '12345' })).body.code).toBe('invalid_request');
    expect((await invoke(client, 'payouts', { action: 'withdraw_everything' })).body.code).toBe('invalid_request');
    const customer = await userClient(await createCustomer());
    expect(await invoke(customer, 'payouts', { action: 'resolve_account', bank_code: account.bank_code, account_number: account.account_number })).toMatchObject({ status: 403, body: { code: 'not_a_vendor' } });
    const pending = await userClient((await createVendor({ status: 'pending' })).owner);
    expect(await invoke(pending, 'payouts', { action: 'resolve_account', bank_code: account.bank_code, account_number: account.account_number })).toMatchObject({ status: 403, body: { code: 'vendor_not_active' } });
    expect((await fakeCalls(fakes.paystackUrl, account.account_number)).filter((c) => c.path.startsWith('/bank/resolve'))).toHaveLength(2);
    const [row] = await serviceSql()`select account_name from public.payout_accounts where user_id = ${vendor.owner.id}`;
    expect(row.account_name).toBe('ADAEZE OKONKWO');
  });

  it('sends the transfer with our reference right after the request commits, and the signed transfer.success settles it once', async () => {
    const { vendor, client } = await payee();
    const p = await requested(client, 700_000);
    expect(p.status).toBe('queued');
    expect(await payout(p.id)).toMatchObject({ status: 'processing', attempts: 1, last_error: null });
    const transfers = (await fakeCalls(fakes.paystackUrl, p.reference)).filter((c) => c.path === '/transfer');
    expect(transfers).toHaveLength(1);
    const [transfer] = transfers;
    expect(JSON.parse(transfer.body)).toMatchObject({ source: 'balance', amount: 700_000, currency: 'NGN', reference: p.reference, recipient: p.recipient_code });
    expect((await payout(p.id)).transfer_code).toMatch(/^TRF_/);

    const { event, delivery } = await settle(p.reference, 'success');
    expect(delivery).toMatchObject({ status: 200, body: { received: true, outcome: 'paid', duplicate: false, payout_id: p.id } });
    expect(await payout(p.id)).toMatchObject({ status: 'paid' });
    expect(await walletBalance(vendor.owner.id)).toBe(1_300_000);
    // Paystack retries the same event: a no-op.
    expect((await postPaystackWebhook(event)).body).toMatchObject({ outcome: 'paid', duplicate: true });
    // Sending a paid payout again is refused.
    expect(await invoke(client, 'payouts', { action: 'send', payout_id: p.id })).toMatchObject({ status: 400, body: { code: 'payout_not_sendable' } });
    const { data: notes } = await client.from('notifications').select('title').eq('data->>payout_id', p.id);
    expect(notes).toEqual([{ title: 'Payout sent' }]);
    expect(await balanced()).toBe(true);
  });

  it('transfer.failed returns the hold to the wallet and tells the vendor', async () => {
    const { vendor, client } = await payee();
    const p = await requested(client, 500_000);
    const { delivery } = await settle(p.reference, 'failed');
    expect(delivery.body).toMatchObject({ outcome: 'failed', payout_status: 'failed' });
    expect(await payout(p.id)).toMatchObject({ status: 'failed', failure_reason: 'Beneficiary account is dormant' });
    expect(await walletBalance(vendor.owner.id)).toBe(2_000_000);
    const { data: notes } = await client.from('notifications').select('title, body').eq('data->>payout_id', p.id);
    expect(notes).toEqual([{ title: 'Payout failed', body: expect.stringContaining('Beneficiary account is dormant') }]);
    expect(await balanced()).toBe(true);
  });

  it('transfer.reversed after success returns the hold; events out of order are no-ops', async () => {
    const { vendor, client } = await payee();
    const p = await requested(client, 500_000);
    // Paystack pays, then the bank reverses; the reversal's webhook overtakes the success's.
    const success = await settle(p.reference, 'success', false);
    const reversed = await settle(p.reference, 'reversed', false);
    expect((await postPaystackWebhook(reversed.event)).body).toMatchObject({ outcome: 'reversed', payout_status: 'reversed' });
    expect((await postPaystackWebhook(success.event)).body).toMatchObject({ outcome: 'ignored', payout_status: 'reversed' });
    expect((await postPaystackWebhook(reversed.event)).body).toMatchObject({ duplicate: true });
    expect(await walletBalance(vendor.owner.id)).toBe(2_000_000);
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.wallet_transactions where type = 'payout_release' and reference = ${p.reference}`;
    expect(n).toBe(1);

    // In order this time: success, then reversed.
    const q = await requested(client, 400_000);
    expect((await settle(q.reference, 'success')).delivery.body).toMatchObject({ outcome: 'paid' });
    expect(await walletBalance(vendor.owner.id)).toBe(1_600_000);
    expect((await settle(q.reference, 'reversed')).delivery.body).toMatchObject({ outcome: 'reversed' });
    expect(await walletBalance(vendor.owner.id)).toBe(2_000_000);
    expect(await balanced()).toBe(true);
  });

  it('a transfer Paystack refuses fails the payout and returns the hold', async () => {
    const { vendor, client, recipientCode } = await payee();
    await failCalls(fakes.paystackUrl, { match: recipientCode, status: 400, times: 1, body: { status: false, message: 'Your balance is not enough to fulfil this request' } });
    const p = await requested(client, 600_000);
    expect(await payout(p.id)).toMatchObject({ status: 'failed', failure_reason: 'Paystack refused the transfer: Your balance is not enough to fulfil this request' });
    expect(await walletBalance(vendor.owner.id)).toBe(2_000_000);
    expect(await balanced()).toBe(true);
  });

  it('an outage leaves the payout processing; the retry reuses the reference and Paystack makes one transfer', async () => {
    const { vendor, client, recipientCode } = await payee();
    await failCalls(fakes.paystackUrl, { match: recipientCode, status: 503, times: 2 });
    const p = await requested(client, 600_000);
    expect(await payout(p.id)).toMatchObject({ status: 'processing', attempts: 1, last_error: expect.stringContaining('503') });
    // The owner tries again while Paystack is still down.
    const first = await invoke(client, 'payouts', { action: 'send', payout_id: p.id });
    expect(first).toMatchObject({ status: 502, body: { code: 'payout_send_pending' } });
    expect(await payout(p.id)).toMatchObject({ status: 'processing', attempts: 2 });
    const retry = await invoke(client, 'payouts', { action: 'send', payout_id: p.id });
    expect(retry.body).toMatchObject({ outcome: 'pending', payout_status: 'processing' });
    // A lost answer: Paystack did the transfer, we send again, the same transfer comes back.
    const again = await invoke(client, 'payouts', { action: 'send', payout_id: p.id });
    expect(again.body).toMatchObject({ outcome: 'pending' });
    expect((await fakeCalls(fakes.paystackUrl, p.reference)).filter((c) => c.path === '/transfer')).toHaveLength(4);
    expect((await settle(p.reference, 'success')).delivery.body).toMatchObject({ outcome: 'paid' });
    expect(await walletBalance(vendor.owner.id)).toBe(1_400_000);
    expect(await balanced()).toBe(true);
  });

  it('two sends at once make one transfer', async () => {
    const { vendor, client } = await payee();
    const p = await requested(client, 300_000);
    const [a, b] = await Promise.all([0, 1].map(() => invoke(client, 'payouts', { action: 'send', payout_id: p.id })));
    expect([a.body.outcome, b.body.outcome]).toEqual(['pending', 'pending']);
    expect((await payout(p.id)).attempts).toBe(3); // the send after commit, then these two
    const verify = await fetch(`${fakes.paystackUrl}/transfer/verify/${p.reference}`, { headers: { authorization: `Bearer ${fakes.secrets.PAYSTACK_SECRET_KEY}` } });
    const transfer = (await verify.json()).data;
    expect((await settle(p.reference, 'success')).delivery.body).toMatchObject({ outcome: 'paid' });
    expect((await payout(p.id)).transfer_code).toBe(transfer.transfer_code);
    expect(await walletBalance(vendor.owner.id)).toBe(1_700_000);
  });

  it('a transfer Paystack answers as already successful (test mode) is paid at once; its webhook then changes nothing', async () => {
    const { vendor, client, recipientCode } = await payee();
    const data = { id: 991_000_001, transfer_code: 'TRF_testmode0001', amount: 300_000, currency: 'NGN', status: 'success' };
    await failCalls(fakes.paystackUrl, { match: recipientCode, status: 200, times: 1, body: { status: true, message: 'Transfer has been queued', data } });
    const p = await requested(client, 300_000);
    expect(await payout(p.id)).toMatchObject({ status: 'paid', transfer_code: 'TRF_testmode0001' });
    expect((await postPaystackWebhook({ event: 'transfer.success', data: { ...data, reference: p.reference } })).body).toMatchObject({ outcome: 'ignored', payout_status: 'paid' });
    expect(await walletBalance(vendor.owner.id)).toBe(1_700_000);
    expect(await balanced()).toBe(true);
  });

  it('above the threshold: waits for an admin, who approves and sends it; nobody else can send it', async () => {
    const { vendor, client } = await payee(90_000_000);
    const p = await requested(client, 60_000_000);
    expect(p.status).toBe('pending_approval');
    expect(await invoke(client, 'payouts', { action: 'send', payout_id: p.id })).toMatchObject({ status: 400, body: { code: 'payout_not_sendable' } });
    const stranger = await userClient((await createVendor()).owner);
    expect(await invoke(stranger, 'payouts', { action: 'send', payout_id: p.id })).toMatchObject({ status: 404, body: { code: 'payout_not_found' } });
    expect(await invoke(stranger, 'payouts', { action: 'send' })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const { data: approved, error } = await admin.rpc('admin_approve_payout', { p_payout_id: p.id });
    expect(error).toBeNull();
    expect(approved.status).toBe('queued');
    await sentAfterCommit(p.id);
    // Sent after the approval committed; an admin's send is the same transfer again.
    const sent = await invoke(admin, 'payouts', { action: 'send', payout_id: p.id });
    expect(sent.body).toMatchObject({ outcome: 'pending', payout_status: 'processing' });
    expect((await settle(p.reference, 'success')).delivery.body).toMatchObject({ outcome: 'paid' });
    expect(await walletBalance(vendor.owner.id)).toBe(30_000_000);
    // The vendor sees only its own payouts.
    expect((await client.from('payouts').select('id, status')).data).toEqual([{ id: p.id, status: 'paid' }]);
    expect((await stranger.from('payouts').select('id').eq('id', p.id)).data).toEqual([]);
    expect(await balanced()).toBe(true);
  });

  it('the platform sends with the service_role key (as pg_net and the job do); the anon key sends nothing', async () => {
    const { client } = await payee();
    const p = await requested(client, 300_000);
    const anon = testClient();
    expect(await invoke(anon, 'payouts', { action: 'send', payout_id: p.id })).toMatchObject({ status: 401, body: { code: 'not_authenticated' } });
    expect(await invokeAsPlatform('payouts', { action: 'list_banks' })).toMatchObject({ status: 401, body: { code: 'not_authenticated' } });
    expect((await invokeAsPlatform('payouts', { action: 'send', payout_id: p.id })).body).toMatchObject({ outcome: 'pending', payout_status: 'processing' });
  });

  it('refuses a transfer webhook with a wrong signature and writes nothing', async () => {
    const { client } = await payee();
    const p = await requested(client, 500_000);
    const { event } = await settle(p.reference, 'success', false);
    const forged = await postPaystackWebhook(event, 'sk_test_not_our_key');
    expect(forged.status).toBe(401);
    // Signed but without the fields we need: acknowledged, nothing written.
    const hollow = await postPaystackWebhook({ event: 'transfer.success', data: { reference: p.reference } });
    expect(hollow).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect((await payout(p.id)).status).toBe('processing');
    expect(await serviceSql()`select 1 from public.payout_events where payout_id = ${p.id}`).toHaveLength(0);
  });
});
