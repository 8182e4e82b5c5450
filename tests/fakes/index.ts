// Starts every fake provider for a test run and says where they are: the
// functions get the base URLs through env (as in production they get the real
// ones), tests get them through vitest's provide/inject.
import path from 'node:path';
import { projectRoot } from '../../stack/config.ts';
import { readDotenv } from '../../stack/services/functions/env.ts';
import type { FakesEnv } from './env.ts';
import { startFakePaystack } from './paystack.ts';
import { startFakeSms } from './sms.ts';
import { startFakeStripe } from './stripe.ts';

export async function startFakes(): Promise<{ env: FakesEnv; functionsEnv: Record<string, string>; close(): Promise<void> }> {
  // The values the functions will see: .env, overridden by this process's environment (as the stack does).
  const dotenv = await readDotenv(path.join(projectRoot, 'supabase', 'functions', '.env'));
  const secrets = Object.fromEntries(Object.entries(dotenv).map(([k, v]) => [k, process.env[k] ?? v]));
  const need = (k: string) => {
    if (!secrets[k]) throw new Error(`supabase/functions/.env has no ${k}`);
    return secrets[k];
  };
  const [paystack, stripe, sms] = await Promise.all([
    startFakePaystack(need('PAYSTACK_SECRET_KEY')),
    startFakeStripe(need('STRIPE_SECRET_KEY')),
    startFakeSms({
      termiiApiKey: need('TERMII_API_KEY'),
      twilioAccountSid: need('TWILIO_ACCOUNT_SID'),
      twilioAuthToken: need('TWILIO_AUTH_TOKEN'),
      africasTalkingUsername: need('AFRICASTALKING_USERNAME'),
      africasTalkingApiKey: need('AFRICASTALKING_API_KEY'),
    }),
  ]);
  return {
    env: { paystackUrl: paystack.url, stripeUrl: stripe.url, smsUrl: sms.url, secrets },
    functionsEnv: {
      PAYSTACK_BASE_URL: paystack.url,
      STRIPE_API_BASE: stripe.url,
      TERMII_BASE_URL: sms.url,
      TWILIO_BASE_URL: sms.url,
      AFRICASTALKING_BASE_URL: sms.url,
    },
    async close() {
      await Promise.all([paystack.close(), stripe.close(), sms.close()]);
    },
  };
}
