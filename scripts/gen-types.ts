// `npm run gen:types`: writes supabase/functions/_shared/database.types.ts from a
// throwaway database built from the migrations (what `supabase gen types
// typescript --local` gives, without Docker).
import { writeFile } from 'node:fs/promises';
import { StackError, withScratchDatabase } from '../stack/index.ts';
import { generateTypes, typesFile } from '../stack/types.ts';

try {
  const types = await withScratchDatabase((config) => generateTypes(config.dbUrl));
  await writeFile(typesFile, types);
  console.log(`wrote ${typesFile}`);
} catch (err) {
  console.error(err instanceof StackError ? `error: ${err.message}\nhint:  ${err.hint}` : `error: ${(err as Error).message}`);
  process.exit(1);
}
