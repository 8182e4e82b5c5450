// The webhook signature helpers of the functions (Web Crypto, so they run here
// as in Deno), checked against signatures computed independently with Node's crypto.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacHex, timingSafeEqual, verifyPaystackSignature } from '../../supabase/functions/_shared/signatures.ts';

describe('webhook signatures', () => {
  const body = '{"event":"charge.success","data":{"reference":"rb_1","amount":330000}}';
  const key = 'sk_test_example';

  it('computes Paystack\'s HMAC-SHA512 of the raw body', async () => {
    const expected = createHmac('sha512', key).update(body).digest('hex');
    expect(await hmacHex('SHA-512', key, body)).toBe(expected);
    expect(await verifyPaystackSignature(body, expected, key)).toBe(true);
    expect(await verifyPaystackSignature(body, expected.toUpperCase(), key)).toBe(true);
  });

  it('refuses a missing signature, another key, another body or a truncated signature', async () => {
    const good = createHmac('sha512', key).update(body).digest('hex');
    expect(await verifyPaystackSignature(body, null, key)).toBe(false);
    expect(await verifyPaystackSignature(body, createHmac('sha512', 'other').update(body).digest('hex'), key)).toBe(false);
    expect(await verifyPaystackSignature(body.replace('330000', '1'), good, key)).toBe(false);
    expect(await verifyPaystackSignature(body, good.slice(0, -2), key)).toBe(false);
    expect(await verifyPaystackSignature(body, '', key)).toBe(false);
  });

  it('compares strings of any lengths', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true);
    expect(timingSafeEqual('abc', 'abd')).toBe(false);
    expect(timingSafeEqual('abc', 'abcd')).toBe(false);
    expect(timingSafeEqual('', 'a')).toBe(false);
    expect(timingSafeEqual('', '')).toBe(true);
  });
});
