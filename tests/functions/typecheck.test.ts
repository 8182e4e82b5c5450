// The edge functions are type-checked by Deno itself (tsc checks the Node code):
// a type error in supabase/functions fails the suite before it fails a deploy.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../stack/config.ts';
import { denoBinary } from '../../stack/services/functions/deno.ts';

describe('edge functions', () => {
  it('pass `deno check`', async () => {
    const dir = path.join(projectRoot, 'supabase', 'functions');
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.'));
    const files = entries.map((e) => path.join(dir, e.name, 'index.ts'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(denoBinary(), ['check', '--quiet', '--config', path.join(dir, 'deno.json'), ...files], {
        env: { ...process.env, DENO_DIR: process.env.DENO_DIR || path.join(projectRoot, '.stack', 'deno'), NO_COLOR: '1' },
      }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }));
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
