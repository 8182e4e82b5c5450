// The database client of the functions: `postgres` on SUPABASE_DB_URL, each
// call one short transaction as service_role (the role the payment contract is
// granted to), so SQL grants are enforced here exactly as in production.
import postgres from 'postgres';
import type { Database } from './database.types.ts';
import { HttpError } from './http.ts';
import { requireEnv } from './env.ts';

export type Tables<T extends keyof Database['public']['Tables']> = Database['public']['Tables'][T]['Row'];
export type Payment = Tables<'payments'>;

let client: postgres.Sql | null = null;

function sql(): postgres.Sql {
  client ??= postgres(requireEnv('SUPABASE_DB_URL'), {
    max: 5,
    idle_timeout: 20,
    // Statements are not prepared so the URL may also be a transaction-mode pooler.
    prepare: false,
    onnotice: () => {},
    connection: { application_name: 'edge-functions' },
    // Money is bigint in minor units; amounts fit in a double, as the generated types say.
    types: { bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) } },
  });
  return client;
}

/** The errors the contract raises: our code as message, a human detail, SQLSTATE for the class. */
const STATUS_BY_SQLSTATE: Record<string, number> = { P0001: 400, '42501': 403, '23514': 400, '22P02': 400 };

/** `PTnnn` (PostgREST's "answer with status nnn"), then the classes above. */
function statusOf(code: string): number | undefined {
  const pt = /^PT([1-5]\d\d)$/.exec(code);
  return pt ? Number(pt[1]) : STATUS_BY_SQLSTATE[code];
}

export async function asServiceRole<T>(fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  try {
    return await sql().begin(async (tx) => {
      await tx`set local role service_role`;
      return fn(tx);
    }) as T;
  } catch (err) {
    const e = err as { code?: string; message?: string; detail?: string };
    const status = e.code ? statusOf(e.code) : undefined;
    if (status) throw new HttpError(status, e.message ?? 'invalid_request', e.detail ?? e.message ?? 'The request was refused');
    throw err;
  }
}
