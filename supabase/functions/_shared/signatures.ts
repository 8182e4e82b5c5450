// Webhook signature checks on the raw body, with Web Crypto only (runs in Deno
// and, for unit tests, in Node). Comparison is constant-time.

const encoder = new TextEncoder();

export async function hmacHex(hash: 'SHA-256' | 'SHA-512', key: string, data: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(data)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Equal strings in a time that does not depend on where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Paystack: `x-paystack-signature` is the hex HMAC-SHA512 of the raw body with the secret key. */
export async function verifyPaystackSignature(rawBody: string, signature: string | null, secretKey: string): Promise<boolean> {
  if (!signature) return false;
  return timingSafeEqual(await hmacHex('SHA-512', secretKey, rawBody), signature.trim().toLowerCase());
}
