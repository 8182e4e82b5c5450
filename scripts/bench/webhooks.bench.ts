// Signed payment webhooks through /functions/v1, against the same
// confirm_payment called directly over SQL in the same run. Each operation
// confirms its own pending wallet top-up, created beforehand. Stripe:
// signature check in Deno, then confirm_payment. Paystack: signature check,
// the verify call to Paystack (a local fake, through a second functions gateway
// on the same database, since the bench stack points at the real Paystack),
// then confirm_payment.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import postgres from 'postgres';
import { createGateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createFunctionsService } from '../../stack/services/functions/index.ts';
import { readDotenv } from '../../stack/services/functions/env.ts';
import { paystackSignature, startFakePaystack } from '../../tests/fakes/paystack.ts';
import { stripeSignature } from '../../tests/fakes/stripe.ts';
import { printComparison, runConcurrent, type BenchContext } from './harness.ts';

const OPS = 400;
const CLIENTS = 8;
// At most 5 pending payment starts per user in 10 minutes (begin_payment), and each run starts OPS at once.
const USERS = 100;
const AMOUNT = 100_000;

export default async function webhooks(ctx: BenchContext): Promise<void> {
  const { config, log } = ctx;
  const dotenv = await readDotenv(path.join(config.supabaseDir, 'functions', '.env'));
  const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET ?? dotenv.STRIPE_WEBHOOK_SECRET;
  const paystackKey = process.env.PAYSTACK_SECRET_KEY ?? dotenv.PAYSTACK_SECRET_KEY;
  const sql = postgres(config.dbUrl, { max: CLIENTS + 2, onnotice: () => {} });
  const paystack = await startFakePaystack(paystackKey);
  const paystackConfig = { ...config, apiPort: await freePort(), functionsEnv: { ...config.functionsEnv, PAYSTACK_BASE_URL: paystack.url } };
  paystackConfig.apiUrl = `http://${config.host}:${paystackConfig.apiPort}`;
  const functions = createFunctionsService({ config: paystackConfig, log });
  const gateway = createGateway(paystackConfig, [functions], async () => ({ ok: true }), log);
  await new Promise<void>((resolve) => gateway.server.listen(paystackConfig.apiPort, config.host, resolve));
  try {
    // Many users, so that runs measure the path rather than one wallet's row lock.
    const users = Array.from({ length: USERS }, () => randomUUID());
    for (const [i, id] of users.entries()) {
      await sql`insert into auth.users (instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
                values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${`23490${process.pid % 1000}${String(i).padStart(5, '0')}`}, now(),
                        '{"provider":"phone","providers":["phone"]}', '{}', now(), now())`;
    }
    const pending = async (n: number, provider = 'stripe') => {
      const refs: string[] = [];
      for (let i = 0; i < n; i++) {
        const [p] = await sql.begin(async (tx) => {
          await tx`set local role service_role`;
          return tx`select reference from public.begin_payment(${users[i % USERS]}::uuid, ${provider}, null, ${AMOUNT}::bigint)`;
        });
        refs.push(p.reference);
      }
      return refs;
    };
    /** A Paystack transaction initialized and paid at the (fake) provider: its charge.success body. */
    const paidAtPaystack = async (reference: string) => {
      const headers = { authorization: `Bearer ${paystackKey}`, 'content-type': 'application/json' };
      await fetch(`${paystack.url}/transaction/initialize`, { method: 'POST', headers, body: JSON.stringify({ email: 'bench@example.com', amount: AMOUNT, reference }) });
      const tx = await (await fetch(`${paystack.url}/__fake/paystack/charge`, { method: 'POST', body: JSON.stringify({ reference }) })).json();
      return JSON.stringify({ event: 'charge.success', data: tx });
    };
    const paystackUrl = `${paystackConfig.apiUrl}/functions/v1/paystack-webhook`;
    const deliverPaystack = async (raw: string) => {
      const res = await fetch(paystackUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(raw, paystackKey) }, body: raw });
      const body = await res.json() as { outcome?: string };
      if (res.status !== 200 || body.outcome !== 'credited') throw new Error(`paystack webhook answered ${res.status} ${JSON.stringify(body)}`);
    };
    const event = (reference: string) => JSON.stringify({
      id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', created: Math.floor(Date.now() / 1000), livemode: false,
      data: { object: { id: `pi_${randomUUID().replace(/-/g, '')}`, object: 'payment_intent', amount: AMOUNT, amount_received: AMOUNT, currency: 'ngn', status: 'succeeded', metadata: { reference } } },
    });
    const url = `${config.apiUrl}/functions/v1/stripe-webhook`;
    const deliver = async (raw: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(raw, webhookSecret) }, body: raw });
      const body = await res.json() as { outcome?: string };
      if (res.status !== 200 || (body.outcome !== 'credited')) throw new Error(`webhook answered ${res.status} ${JSON.stringify(body)}`);
      return raw;
    };

    // Warm the workers (Deno start, npm packages) outside the measurement.
    await deliver(event((await pending(1))[0]));
    await deliverPaystack(await paidAtPaystack((await pending(1, 'paystack'))[0]));

    const sqlRefs = await pending(OPS);
    const baseline = await runConcurrent('confirm_payment over SQL', { clients: CLIENTS, totalOps: OPS }, (_c, i) => sql.begin(async (tx) => {
      await tx`set local role service_role`;
      return tx`select public.confirm_payment('stripe', ${`evt_sql_${randomUUID()}`}, ${sqlRefs[i]}, ${AMOUNT}::bigint, 'NGN')`;
    }));

    const hookRefs = await pending(OPS);
    const delivered: string[] = [];
    const viaFunctions = await runConcurrent('signed webhook via /functions/v1', { clients: CLIENTS, totalOps: OPS }, async (_c, i) => {
      delivered.push(await deliver(event(hookRefs[i])));
    });

    // Providers redeliver: a replay is checked, found, and answered without effect.
    const replays = await runConcurrent('replayed webhook via /functions/v1', { clients: CLIENTS, totalOps: Math.min(OPS, delivered.length) }, async (_c, i) => {
      const raw = delivered[i];
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(raw, webhookSecret) }, body: raw });
      if (!(await res.json() as { duplicate?: boolean }).duplicate) throw new Error('a replay was applied twice');
    });

    const paystackBodies = await Promise.all((await pending(OPS, 'paystack')).map(paidAtPaystack));
    const viaPaystack = await runConcurrent('Paystack webhook + verify via /functions/v1', { clients: CLIENTS, totalOps: OPS }, (_c, i) => deliverPaystack(paystackBodies[i]));

    printComparison('Payment webhooks: confirm_payment directly vs. through the edge functions', baseline, [viaFunctions, replays, viaPaystack], log);
  } finally {
    await gateway.close();
    await functions.close();
    await paystack.close();
    await sql.end({ timeout: 5 });
  }
}
