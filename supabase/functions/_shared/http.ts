// JSON answers and the one error shape of our functions: `{ code, message }`
// with a stable machine code, and the HTTP status a client can act on.
import { z } from 'zod';
import { corsHeaders, preflight } from './cors.ts';

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { ...corsHeaders, ...headers } });
}

export function errorJson(status: number, code: string, message: string, details?: unknown): Response {
  return json(details === undefined ? { code, message } : { code, message, details }, status);
}

/** Parses a JSON request body with a zod schema; bad JSON or shape → 400. */
export async function readJson<T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw new HttpError(400, 'invalid_json', 'The request body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new HttpError(400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), parsed.error.issues);
  }
  return parsed.data;
}

/**
 * Serves `handler` with CORS preflights answered, POST enforced, HttpError
 * mapped to its JSON answer, and anything else logged and answered 500 (which
 * makes webhook senders retry).
 */
export function serve(name: string, handler: (req: Request) => Promise<Response>): void {
  Deno.serve(async (req) => {
    const pre = preflight(req);
    if (pre) return pre;
    if (req.method !== 'POST') return errorJson(405, 'method_not_allowed', `${name} accepts POST only`);
    try {
      return await handler(req);
    } catch (err) {
      if (err instanceof HttpError) return errorJson(err.status, err.code, err.message, err.details);
      console.error(`${name}: unexpected error`, err);
      return errorJson(500, 'internal_error', 'An unexpected error occurred; it has been logged');
    }
  });
}
