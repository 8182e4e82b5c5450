// The checked-in database types must match what the migrations produce.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { withScratchDatabase } from '../../stack/index.ts';
import { generateTypes, typesFile } from '../../stack/types.ts';

describe('generated database types', () => {
  it('are up to date with the migrations (run `npm run gen:types` when this fails)', async () => {
    const fresh = await withScratchDatabase((config) => generateTypes(config.dbUrl));
    expect(fresh).toContain('export type Database');
    const checkedIn = await readFile(typesFile, 'utf8');
    expect(checkedIn, 'supabase/functions/_shared/database.types.ts is stale: run `npm run gen:types`').toBe(fresh);
  });
});
