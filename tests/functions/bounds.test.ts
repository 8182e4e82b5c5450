// Functions under hostile load (issue 13, findings 7 and 12): huge unsigned
// bodies are refused with 413 without buffering them, while signed payment
// confirmations go on; and payment starts are limited per user.
import { describe, expect, it } from 'vitest';
import { createCustomer } from '../db/fixtures.ts';
import { fakesEnv } from '../fakes/env.ts';
import { fakeCalls } from '../fakes/recorder.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { chargeSuccess, invoke, paystackCharge, postPaystackWebhook, userClient } from './payments-helpers.ts';

/** POSTs `totalBytes` of JSON-looking bytes with chunked encoding (no length declared), as fast as the server reads. */
/** The status, or the client's error when the connection broke without an answer. */
async function hugePost(name: string, totalBytes: number, headers: Record<string, string>): Promise<number | string> {
  const chunk = new Uint8Array(1 << 20).fill(0x20);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  try {
    const res = await fetch(`${stackEnv().url}/functions/v1/${name}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
    await res.text();
    return res.status;
  } catch (err) {
    return String((err as Error).cause ?? err);
  }
}

describe.runIf(stackEnv().embedded)('huge webhook bodies (finding 7)', () => {
  it('refuses 160 MB to stripe-webhook and 320 MB to paystack-webhook with 413; a concurrent signed confirmation succeeds', async () => {
    const customer = await createCustomer();
    const client = await userClient(customer);
    const started = await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 250_000, provider: 'paystack' });
    expect(started.status).toBe(200);
    const tx = await paystackCharge(started.body.reference);

    const stripe = hugePost('stripe-webhook', 160 << 20, { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' });
    const paystack = hugePost('paystack-webhook', 320 << 20, { 'content-type': 'application/json', 'x-paystack-signature': 'x' });
    const confirmation = await postPaystackWebhook(chargeSuccess(tx));
    expect(confirmation.status).toBe(200);
    expect(confirmation.body).toMatchObject({ outcome: 'credited' });
    const answers = await Promise.all([stripe, paystack]);
    expect(answers).toEqual([413, 413]);
    // Both workers are still the ones serving: none ran out of memory.
    const again = await postPaystackWebhook(chargeSuccess(tx));
    expect(again.status).toBe(200);
    const declared = await fetch(`${stackEnv().url}/functions/v1/stripe-webhook`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' }, body: 'x'.repeat((1 << 20) + 1),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: 'payload_too_large' });
  }, 60_000);
});

describe.runIf(stackEnv().embedded)('payment starts are limited (finding 12)', () => {
  it('allows 5 pending starts per user in 10 minutes: of 8 at once, 5 reach Paystack and 3 get 429 too_many_requests', async () => {
    const customer = await createCustomer();
    const client = await userClient(customer);
    const answers = await Promise.all(Array.from({ length: 8 }, () => invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    for (const a of answers.filter((x) => x.status === 429)) expect(a.body).toMatchObject({ code: 'too_many_requests' });
    const initializes = (await fakeCalls(fakesEnv().paystackUrl, customer.phone)).filter((c) => c.path === '/transaction/initialize');
    expect(initializes).toHaveLength(5);
    const [{ n }] = await serviceSql()`select count(*)::int as n from public.payments where user_id = ${customer.id}`;
    expect(n).toBe(5);

    // Another user is not affected.
    const other = await createCustomer();
    expect((await invoke(await userClient(other), 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })).status).toBe(200);
  }, 30_000);

  it('does not count a payment that is no longer pending, nor one started more than 10 minutes ago', async () => {
    const customer = await createCustomer();
    const client = await userClient(customer);
    for (let i = 0; i < 5; i++) expect((await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })).status).toBe(200);
    expect((await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })).status).toBe(429);
    await serviceSql()`
      update public.payments set created_at = now() - interval '11 minutes'
      where id = (select id from public.payments where user_id = ${customer.id} order by created_at limit 1)`;
    expect((await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })).status).toBe(200);
    await serviceSql()`
      update public.payments set status = 'failed'
      where id = (select id from public.payments where user_id = ${customer.id} and status = 'pending' and created_at > now() - interval '10 minutes' limit 1)`;
    expect((await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })).status).toBe(200);
    expect((await invoke(client, 'payments', { purpose: 'wallet_topup', amount: 100_000, provider: 'paystack' })).status).toBe(429);
  }, 30_000);
});
