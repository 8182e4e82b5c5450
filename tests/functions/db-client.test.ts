// The functions' database client (_shared/db.ts) under real Deno, against the
// stack's Postgres: each call is one transaction as service_role, and no refusal
// (a value postgres.js cannot send, an SQL error, an error thrown by the caller,
// a connection killed mid-call) leaves a pooled connection unusable or inside a
// transaction.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../stack/config.ts';
import { denoBinary } from '../../stack/services/functions/deno.ts';
import { stackEnv } from '../helpers/env.ts';

const env = stackEnv();

describe('asServiceRole', () => {
  it('runs as service_role, and every kind of refusal or broken connection leaves the pool serving', async () => {
    const probe = path.join(projectRoot, 'tests', 'functions', 'probes', 'service-role-client.ts');
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(denoBinary(), ['run', '--check', '--allow-all', '--quiet', '--config', path.join(projectRoot, 'supabase', 'functions', 'deno.json'), probe], {
        env: { ...process.env, SUPABASE_DB_URL: env.dbUrl, DENO_DIR: process.env.DENO_DIR || path.join(projectRoot, '.stack', 'deno'), NO_COLOR: '1' },
        timeout: 60_000,
      }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const seen = JSON.parse(result.stdout);
    // Prepared statements on a direct connection; none through Supavisor's transaction mode.
    expect(seen.prepares).toEqual({ direct: true, transactionPooler: false });
    expect(seen.role).toBe('service_role');
    expect(seen.refusedUndefined).toEqual(Array(12).fill('UNDEFINED_VALUE'));
    expect(seen.refusedSql).toEqual(Array(12).fill('22012'));
    expect(seen.thrown).toEqual(Array(12).fill('Error: thrown by the caller'));
    for (const k of seen.kills) {
      expect(k.killed).toBe(5);
      expect(k.interrupted).toHaveLength(8);
      expect(k.interrupted).not.toContain('ok');
      expect(k.after).toEqual(Array(12).fill('ok'));
    }
    expect(seen.escaped).toBe(0);
    expect(seen.after).toEqual(Array.from({ length: 20 }, (_, i) => ({ i, role: 'service_role' })));
    expect(seen.transactions).toBe(20);
  }, 90_000);
});
