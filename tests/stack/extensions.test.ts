// Installing the extension stand-ins into the (shared) Postgres share folder:
// a missing or older file is replaced, a newer one from another checkout is kept.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installStandInExtensions } from '../../stack/postgres.ts';
import { projectRoot } from '../../stack/config.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('extension stand-ins', () => {
  it('installs missing and older files, keeps newer revisions', async () => {
    const pkgDir = await mkdtemp(path.join(os.tmpdir(), 'rambini-ext-'));
    dirs.push(pkgDir);
    const target = path.join(pkgDir, 'native', 'share', 'postgresql', 'extension');
    await mkdir(target, { recursive: true });
    const ours = (name: string) => readFile(path.join(projectRoot, 'stack', 'extensions', name), 'utf8');
    await writeFile(path.join(target, 'pg_cron--1.6.sql'), '-- an older copy without a revision\n');
    await writeFile(path.join(target, 'pg_net--0.20.4.sql'), '-- stand-in revision: 999\n-- a newer copy from another checkout\n');
    installStandInExtensions(pkgDir);
    expect(await readFile(path.join(target, 'pg_cron--1.6.sql'), 'utf8')).toBe(await ours('pg_cron--1.6.sql'));
    expect(await readFile(path.join(target, 'pg_cron.control'), 'utf8')).toBe(await ours('pg_cron.control'));
    expect(await readFile(path.join(target, 'supabase_vault--0.3.1.sql'), 'utf8')).toBe(await ours('supabase_vault--0.3.1.sql'));
    expect(await readFile(path.join(target, 'pg_net--0.20.4.sql'), 'utf8')).toContain('revision: 999');
  });
});
