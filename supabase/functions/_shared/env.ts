// Function settings come from env (`supabase secrets set` in production,
// supabase/functions/.env locally): a missing one is a clear error, not undefined.
import { HttpError } from './http.ts';

export function requireEnv(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new HttpError(500, 'misconfigured', `The function is not configured: ${name} is not set`);
  return value;
}

export function envOr(name: string, fallback: string): string {
  return Deno.env.get(name) || fallback;
}
