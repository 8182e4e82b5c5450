// TypeScript types for the database, produced by @supabase/postgres-meta's type
// generator: the same program and settings that `supabase gen types typescript`
// runs in its container, run here with Node instead.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Where the generated types live: edge functions import them from `_shared`. */
export const typesFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'supabase', 'functions', '_shared', 'database.types.ts');

export function generateTypes(dbUrl: string, schemas: string[] = ['public']): Promise<string> {
  const server = path.join(path.dirname(require.resolve('@supabase/postgres-meta/package.json')), 'dist', 'server', 'server.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [server], {
      env: {
        ...process.env,
        PG_META_DB_URL: dbUrl,
        PG_META_GENERATE_TYPES: 'typescript',
        PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS: schemas.join(','),
        PG_META_GENERATE_TYPES_DETECT_ONE_TO_ONE_RELATIONSHIPS: 'true',
      },
      maxBuffer: 64 << 20,
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`type generation failed: ${(stderr || err.message).trim().split('\n').at(-1)}`));
      else resolve(stdout);
    });
  });
}
