// The environment a function sees, as the edge runtime builds it: the variables
// Supabase injects (legacy keys and the opaque keys' dictionaries), then the secrets of `supabase/functions/.env`. A variable
// named in `.env` takes its value from the environment of `npm start` when set
// there (e.g. `PAYSTACK_BASE_URL=http://127.0.0.1:4010 npm start`), and the
// stack's own `functionsEnv` (tests) overrides everything.
import { readFile } from 'node:fs/promises';
import type { StackConfig } from '../../config.ts';

/** Parses a dotenv file: KEY=value lines, `#` comments, optional quotes, `export ` prefix. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[match[1]] = value;
  }
  return out;
}

export async function readDotenv(file: string): Promise<Record<string, string>> {
  try {
    return parseDotenv(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

export async function functionEnv(config: StackConfig, dotenvFile: string, log: (line: string) => void): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    SUPABASE_URL: config.apiUrl,
    SUPABASE_ANON_KEY: config.keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: config.keys.serviceRoleKey,
    SUPABASE_DB_URL: config.dbUrl,
    // As hosted: the opaque keys, as JSON dictionaries by key name.
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: config.keys.publishableKey }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: config.keys.secretKey }),
  };
  for (const [key, value] of Object.entries(await readDotenv(dotenvFile))) {
    // As the CLI does: the SUPABASE_ names are reserved for the injected values.
    if (key.startsWith('SUPABASE_')) {
      log(`functions: ${dotenvFile}: ${key} is reserved (names starting with SUPABASE_ are injected), skipped`);
      continue;
    }
    env[key] = process.env[key] ?? value;
  }
  return { ...env, ...config.functionsEnv };
}
