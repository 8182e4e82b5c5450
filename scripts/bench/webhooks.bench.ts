// Signed payment webhooks through /functions/v1, against the same
// confirm_payment called directly over SQL in the same run. Each operation
// confirms its own pending wallet top-up, created beforehand. Stripe:
// signature check in Deno, then confirm_payment. Paystack: signature check,
// the verify call to Paystack (a local fake, through a second functions gateway
// on the same database, since the bench stack points at the real Paystack),
// then confirm_payment.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import postgres from 'postgres';
import { createGateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createFunctionsService } from '../../stack/services/functions/index.ts';
import { readDotenv } from '../../stack/services/functions/env.ts';
import { paystackSignature, startFakePaystack } from '../../tests/fakes/paystack.ts';
import { stripeSignature } from '../../tests/fakes/stripe.ts';
import { cpuPerOp, cpuTicksByCommand, printComparison, runConcurrent, type BenchContext, type RunResult } from './harness.ts';

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
  // Webhooks are sent as providers send them, over kept-alive connections, with
  // node:http: the bench's sender shares the stack's event loop, and fetch
  // (undici) costs more CPU per request there than the gateway and the hand-off
  // to the function together (half the Node thread's time in a profile).
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const post = (url: string, headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      req.end(body);
    });
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
      const { status, body } = await post(paystackUrl, { 'x-paystack-signature': paystackSignature(raw, paystackKey) }, raw);
      if (status !== 200 || body.outcome !== 'credited') throw new Error(`paystack webhook answered ${status} ${JSON.stringify(body)}`);
    };
    const event = (reference: string) => JSON.stringify({
      id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', created: Math.floor(Date.now() / 1000), livemode: false,
      data: { object: { id: `pi_${randomUUID().replace(/-/g, '')}`, object: 'payment_intent', amount: AMOUNT, amount_received: AMOUNT, currency: 'ngn', status: 'succeeded', metadata: { reference } } },
    });
    const url = `${config.apiUrl}/functions/v1/stripe-webhook`;
    const deliver = async (raw: string) => {
      const { status, body } = await post(url, { 'stripe-signature': stripeSignature(raw, webhookSecret) }, raw);
      if (status !== 200 || body.outcome !== 'credited') throw new Error(`webhook answered ${status} ${JSON.stringify(body)}`);
      return raw;
    };

    // Each run is preceded by a warm-up of CLIENTS operations of its own kind, so
    // that it measures the steady state: workers started (Deno, npm packages) and
    // every pool connection open (the function's postgres.js pool closes after
    // 20 s idle, and each new connection's SCRAM login costs tens of
    // milliseconds of CPU, in Deno and in Postgres).
    const warm = (op: (i: number) => Promise<unknown>) => Promise.all(Array.from({ length: CLIENTS }, (_, i) => op(i)));
    // The same call as the function makes, with the event as payload.
    const confirmOverSql = (raw: string) => {
      const e = JSON.parse(raw);
      const intent = e.data.object;
      return sql.begin(async (tx) => {
        await tx`set local role service_role`;
        return tx`select public.confirm_payment(
          p_provider => 'stripe', p_provider_event_id => ${e.id}, p_reference => ${intent.metadata.reference},
          p_amount => ${intent.amount_received}::bigint, p_currency => ${intent.currency}, p_provider_payment_id => ${intent.id},
          p_payload => ${sql.json(e)}) as result`;
      });
    };

    // Each run with the CPU it took per operation, by process (ticks of 10 ms).
    const cpu: string[] = [];
    const measured = async (label: string, opts: { clients: number; totalOps: number }, op: (client: number, i: number) => Promise<unknown>): Promise<RunResult> => {
      const before = cpuTicksByCommand();
      const result = await runConcurrent(label, opts, op);
      cpu.push(`  ${label.padEnd(44)} ${cpuPerOp(before, cpuTicksByCommand(), result.ops)}`);
      return result;
    };

    const sqlEvents = (await pending(OPS + CLIENTS)).map(event);
    await warm((i) => confirmOverSql(sqlEvents[OPS + i]));
    const baseline = await measured('confirm_payment over SQL', { clients: CLIENTS, totalOps: OPS }, (_c, i) => confirmOverSql(sqlEvents[i]));

    const hookEvents = (await pending(OPS + CLIENTS)).map(event);
    await warm((i) => deliver(hookEvents[OPS + i]));
    const delivered: string[] = [];
    const viaFunctions = await measured('signed webhook via /functions/v1', { clients: CLIENTS, totalOps: OPS }, async (_c, i) => {
      delivered.push(await deliver(hookEvents[i]));
    });

    // Providers redeliver: a replay is checked, found, and answered without effect.
    const replays = await measured('replayed webhook via /functions/v1', { clients: CLIENTS, totalOps: Math.min(OPS, delivered.length) }, async (_c, i) => {
      const raw = delivered[i];
      const { body } = await post(url, { 'stripe-signature': stripeSignature(raw, webhookSecret) }, raw);
      if (!body.duplicate) throw new Error('a replay was applied twice');
    });

    const paystackBodies = await Promise.all((await pending(OPS + CLIENTS, 'paystack')).map(paidAtPaystack));
    await warm((i) => deliverPaystack(paystackBodies[OPS + i]));
    const viaPaystack = await measured('Paystack webhook + verify via /functions/v1', { clients: CLIENTS, totalOps: OPS }, (_c, i) => deliverPaystack(paystackBodies[i]));

    printComparison('Payment webhooks: confirm_payment directly vs. through the edge functions', baseline, [viaFunctions, replays, viaPaystack], log);
    log('  CPU ms per operation (this process is the bench and the stack; deno the function workers):');
    for (const line of cpu) log(line);
  } finally {
    agent.destroy();
    await gateway.close();
    await functions.close();
    await paystack.close();
    await sql.end({ timeout: 5 });
  }
}
