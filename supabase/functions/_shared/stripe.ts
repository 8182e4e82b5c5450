// The Stripe SDK set up for Deno: fetch as HTTP client, SubtleCrypto for webhook
// signatures (the only way that works in Deno: constructEventAsync). STRIPE_API_BASE
// selects the server (https://api.stripe.com unless set).
import Stripe from 'stripe';
import { requireEnv } from './env.ts';

let client: Stripe | null = null;

export function stripe(): Stripe {
  if (client) return client;
  const base = Deno.env.get('STRIPE_API_BASE');
  const server = base ? new URL(base) : null;
  client = new Stripe(requireEnv('STRIPE_SECRET_KEY'), {
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 1,
    timeout: 15_000,
    ...(server ? { host: server.hostname, port: server.port || (server.protocol === 'https:' ? 443 : 80), protocol: server.protocol.replace(':', '') as 'http' | 'https' } : {}),
  });
  return client;
}

export const cryptoProvider = Stripe.createSubtleCryptoProvider();
