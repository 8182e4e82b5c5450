// Where the fake providers of this test run are, provided by the global setup.
import { inject } from 'vitest';

export interface FakesEnv {
  paystackUrl: string;
  stripeUrl: string;
  smsUrl: string;
  /** FCM HTTP v1 and Google's OAuth token endpoint (the functions reach them by name through a proxy; tests read the calls here). */
  fcmUrl: string;
  googleOAuthUrl: string;
  /** Resend. */
  emailUrl: string;
  /** The secrets the functions use (from supabase/functions/.env), to sign webhooks as the providers do. */
  secrets: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    fakes: FakesEnv;
  }
}

export const fakesEnv = (): FakesEnv => inject('fakes');
