import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig, projectRoot } from '../../stack/config.ts';
import { LOCAL_JWT_SECRET, LOCAL_SIGNING_KEY, localKeys, parseSigningKeys, signAccessToken, signJwt, verifyJwt } from '../../stack/keys.ts';

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

describe('signing keys (ES256), as `supabase start` and `[auth] signing_keys_path`', () => {
  const cliKey = () => {
    // The CLI generates keys offline and prints one JWK; the keys file is a JSON array of them.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signing-key-'));
    mkdirSync(path.join(dir, 'supabase'));
    copyFileSync(path.join(projectRoot, 'supabase', 'config.toml'), path.join(dir, 'supabase', 'config.toml'));
    const out = execFileSync(path.join(projectRoot, 'node_modules', '.bin', 'supabase'), ['gen', 'signing-key', '--algorithm', 'ES256'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { dir, key: JSON.parse(out) };
  };

  it('signs user tokens with the CLI\'s local ES256 key, kid in the header, and verifies them', async () => {
    const keys = localKeys(3600);
    expect(keys.signingKey).toEqual(LOCAL_SIGNING_KEY);
    const token = await signAccessToken({ sub: 'u', role: 'authenticated' }, keys);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: LOCAL_SIGNING_KEY.kid, typ: 'JWT' });
    expect((await verifyJwt(token, keys)).role).toBe('authenticated');
    // The published key verifies it on its own, as any JWKS consumer does.
    await expect(jwtVerify(token, createLocalJWKSet(keys.jwks))).resolves.toBeTruthy();
    expect(JSON.stringify(keys.jwks)).not.toMatch(/"d"/);
  });

  it('rejects ES256 tokens from another key (same kid or none), alg none, and expired ones', async () => {
    const keys = localKeys(3600);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'ES256', kid: LOCAL_SIGNING_KEY.kid }).sign(privateKey);
    await expect(verifyJwt(forged, keys)).rejects.toThrow();
    const noKid = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    await expect(verifyJwt(noKid, keys)).rejects.toThrow();
    const unknownKid = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'ES256', kid: 'other' }).sign(privateKey);
    await expect(verifyJwt(unknownKid, keys)).rejects.toThrow();
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"role":"service_role"}').toString('base64url')}.`;
    await expect(verifyJwt(none, keys)).rejects.toThrow();
    const expired = await signAccessToken({ role: 'authenticated', exp: Math.floor(Date.now() / 1000) - 10 }, keys);
    await expect(verifyJwt(expired, keys)).rejects.toThrow(/exp/);
    // An HS256 token whose header names the ES256 kid still needs the secret.
    const hsWithKid = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256', kid: LOCAL_SIGNING_KEY.kid }).sign(new TextEncoder().encode('x'.repeat(40)));
    await expect(verifyJwt(hsWithKid, keys)).rejects.toThrow();
  });

  it('reads a key made by `supabase gen signing-key` from [auth] signing_keys_path, relative to supabase/', async () => {
    const { dir, key } = cliKey();
    writeFileSync(path.join(dir, 'supabase', 'signing_keys.json'), JSON.stringify([key]));
    const toml = path.join(dir, 'supabase', 'config.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('# signing_keys_path = "./signing_keys.json"', 'signing_keys_path = "./signing_keys.json"'));
    const keys = loadConfig({ projectRoot: dir }).keys;
    expect(keys.signingKey.kid).toBe(key.kid);
    const token = await signAccessToken({ role: 'authenticated' }, keys);
    expect(decodeProtectedHeader(token).kid).toBe(key.kid);
    expect((await verifyJwt(token, keys)).role).toBe('authenticated');
    // The built-in key is no longer trusted once the project has its own.
    await expect(verifyJwt(await signAccessToken({ role: 'authenticated' }, localKeys(3600)), keys)).rejects.toThrow();
    // As the CLI: the file holds an array; the bare JWK the CLI prints is refused with a hint.
    writeFileSync(path.join(dir, 'supabase', 'signing_keys.json'), JSON.stringify(key));
    expect(() => loadConfig({ projectRoot: dir })).toThrow(/wrap the key/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unusable key files as GoTrue does: none or two signing keys, no private part, no kid', () => {
    const k = { ...LOCAL_SIGNING_KEY };
    expect(() => parseSigningKeys('nope')).toThrow(/not JSON/);
    expect(() => parseSigningKeys('[]')).toThrow(/non-empty/);
    expect(() => parseSigningKeys(JSON.stringify([{ ...k, key_ops: ['verify'] }]))).toThrow(/no signing key/);
    expect(() => parseSigningKeys(JSON.stringify([k, { ...k, kid: 'two' }]))).toThrow(/multiple signing keys/);
    expect(() => parseSigningKeys(JSON.stringify([{ ...k, d: undefined }]))).toThrow(/private part/);
    expect(() => parseSigningKeys(JSON.stringify([{ ...k, kid: undefined }]))).toThrow(/kid/);
    expect(() => parseSigningKeys(JSON.stringify([{ ...k, alg: 'HS256' }]))).toThrow(/ES256 or RS256/);
    // A rotated-out key keeps verifying: it is published, and only the `sign` key signs.
    const rotated = parseSigningKeys(JSON.stringify([{ ...k, kid: 'old', key_ops: ['verify'] }, k]));
    expect(localKeys(3600, rotated).signingKey.kid).toBe(k.kid);
    expect(localKeys(3600, rotated).jwks.keys.map((j) => j.kid)).toEqual(['old', k.kid]);
  });
});
