import { describe, expect, it } from 'vitest';
import { LOCAL_JWT_SECRET, localKeys, signJwt, verifyJwt } from '../../stack/keys.ts';

describe('local keys', () => {
  it('are the keys `supabase start` issues (HS256 with the well-known local secret)', async () => {
    const keys = localKeys(3600);
    const secret = new TextEncoder().encode(LOCAL_JWT_SECRET);
    expect(await signJwt({ iss: 'supabase-demo', role: 'anon', exp: 1983812996 }, secret)).toBe(keys.anonKey);
    expect(await signJwt({ iss: 'supabase-demo', role: 'service_role', exp: 1983812996 }, secret)).toBe(keys.serviceRoleKey);
    expect((await verifyJwt(keys.anonKey, keys)).role).toBe('anon');
  });

  it('rejects a token signed with another secret or expired', async () => {
    const keys = localKeys(3600);
    const other = await signJwt({ role: 'service_role' }, new TextEncoder().encode('x'.repeat(40)));
    await expect(verifyJwt(other, keys)).rejects.toThrow();
    const expired = await signJwt({ role: 'anon', exp: Math.floor(Date.now() / 1000) - 10 }, keys.secretBytes);
    await expect(verifyJwt(expired, keys)).rejects.toThrow(/exp/);
  });
});
