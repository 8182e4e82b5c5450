// Starts every fake provider (Paystack, Stripe, SMS, Google's FCM and token endpoint, Resend) for a test run and says where they are: the
// functions get the base URLs through env (as in production they get the real
// ones), tests get them through vitest's provide/inject.
import path from 'node:path';
import { projectRoot } from '../../stack/config.ts';
import { readDotenv } from '../../stack/services/functions/env.ts';
import { startFakeEmail } from './email.ts';
import type { FakesEnv } from './env.ts';
import { startFakeGoogle } from './google.ts';
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
  const [paystack, stripe, sms, google, email] = await Promise.all([
    startFakePaystack(need('PAYSTACK_SECRET_KEY')),
    startFakeStripe(need('STRIPE_SECRET_KEY')),
    startFakeSms({
      termiiApiKey: need('TERMII_API_KEY'),
      twilioAccountSid: need('TWILIO_ACCOUNT_SID'),
      twilioAuthToken: need('TWILIO_AUTH_TOKEN'),
      africasTalkingUsername: need('AFRICASTALKING_USERNAME'),
      africasTalkingApiKey: need('AFRICASTALKING_API_KEY'),
    }),
    startFakeGoogle(),
    startFakeEmail(need('RESEND_API_KEY')),
  ]);
  return {
    env: { paystackUrl: paystack.url, stripeUrl: stripe.url, smsUrl: sms.url, fcmUrl: google.fcmUrl, googleOAuthUrl: google.oauthUrl, emailUrl: email.url, secrets },
    functionsEnv: {
      PAYSTACK_BASE_URL: paystack.url,
      STRIPE_API_BASE: stripe.url,
      TERMII_BASE_URL: sms.url,
      TWILIO_BASE_URL: sms.url,
      AFRICASTALKING_BASE_URL: sms.url,
      RESEND_BASE_URL: email.url,
      // firebase-admin has no base-URL setting: FCM and Google's token endpoint
      // are reached by name through the fakes' proxy, whose CA Deno trusts.
      FIREBASE_SERVICE_ACCOUNT: google.serviceAccount,
      HTTPS_PROXY: google.proxyUrl,
      NO_PROXY: '127.0.0.1,localhost',
      DENO_CERT: google.caFile,
    },
    async close() {
      await Promise.all([paystack.close(), stripe.close(), sms.close(), google.close(), email.close()]);
    },
  };
}
