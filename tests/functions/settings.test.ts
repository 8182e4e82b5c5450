// Every setting the edge functions read is named in supabase/functions/.env:
// only names written there reach the functions (the stack and `supabase
// functions serve` both work that way), so a setting missing from it could not
// be set from `npm start`'s environment, whatever the docs say.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../stack/config.ts';
import { readDotenv } from '../../stack/services/functions/env.ts';

const functionsDir = path.join(projectRoot, 'supabase', 'functions');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(full)));
    else if (/\.(ts|js|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** Names read with Deno.env.get / envOr / requireEnv, and the reads whose name is not a literal. */
async function settingsRead(): Promise<{ names: Set<string>; dynamic: string[] }> {
  const names = new Set<string>();
  const dynamic: string[] = [];
  for (const file of await sources(functionsDir)) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/\b(Deno\.env\.get|envOr|requireEnv)\(\s*([^,)]*)/g)) {
      const literal = /^['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]$/.exec(m[2].trim());
      if (literal) names.add(literal[1]);
      // The helpers themselves (their declarations, and the read of their parameter).
      else if (!(path.relative(functionsDir, file) === path.join('_shared', 'env.ts') && /^name\b/.test(m[2].trim()))) dynamic.push(`${path.relative(projectRoot, file)}: ${m[0]}`);
    }
  }
  return { names, dynamic };
}

describe('function settings', () => {
  it('are all named in supabase/functions/.env (SUPABASE_* are injected)', async () => {
    const { names, dynamic } = await settingsRead();
    expect(dynamic).toEqual([]);
    // The provider base URLs the fakes use must be among them (guards the scan itself).
    for (const name of ['PAYSTACK_BASE_URL', 'STRIPE_API_BASE', 'TERMII_BASE_URL', 'TWILIO_BASE_URL', 'AFRICASTALKING_BASE_URL']) expect(names).toContain(name);
    const dotenv = await readDotenv(path.join(functionsDir, '.env'));
    const missing = [...names].filter((n) => !n.startsWith('SUPABASE_') && !(n in dotenv));
    expect(missing).toEqual([]);
  });

  it('default when empty in .env: no value there is a comment the parser kept', async () => {
    const dotenv = await readDotenv(path.join(functionsDir, '.env'));
    for (const [name, value] of Object.entries(dotenv)) expect(value, name).not.toMatch(/^\s*#/);
  });
});
