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

/** The largest request body a function reads: provider webhooks and our own requests are a few KB. */
export const MAX_BODY_BYTES = 1 << 20;

/**
 * The request body as text, read chunk by chunk and refused with 413 as soon as
 * it passes `limit` (a declared Content-Length says so before anything is read),
 * so a huge body is never buffered.
 */
export async function readText(req: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `The request body must be at most ${limit} bytes`);
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) throw tooLarge();
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Parses a JSON request body (at most MAX_BODY_BYTES) with a zod schema; bad JSON or shape → 400. */
export async function readJson<T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T>> {
  const text = await readText(req);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
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
