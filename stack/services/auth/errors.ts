// GoTrue's error wire format. Clients that send `X-Supabase-Api-Version:
// 2024-01-01` (auth-js does) get `{code, message}`; older clients get the
// legacy `{code: <status>, error_code, msg}`. Both carry `x-sb-error-code`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../../http.ts';

export const API_VERSION_HEADER = 'x-supabase-api-version';
const API_VERSION_2024 = '2024-01-01';

export class AuthError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

export const badRequest = (code: string, message: string) => new AuthError(400, code, message);
export const forbidden = (code: string, message: string) => new AuthError(403, code, message);
export const unprocessable = (code: string, message: string) => new AuthError(422, code, message);
export const tooManyRequests = (code: string, message: string) => new AuthError(429, code, message);

/** True when the client asked for API version 2024-01-01 or later (dates compare as strings). */
function wantsApiVersion2024(req: IncomingMessage): boolean {
  const raw = req.headers[API_VERSION_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return !!value && /^\d{4}-\d{2}-\d{2}$/.test(value) && value >= API_VERSION_2024;
}

export function sendAuthError(req: IncomingMessage, res: ServerResponse, err: AuthError): void {
  const headers: Record<string, string> = { 'x-sb-error-code': err.code };
  if (wantsApiVersion2024(req)) {
    headers[API_VERSION_HEADER] = API_VERSION_2024;
    sendJson(res, err.status, { code: err.code, message: err.message }, headers);
  } else {
    sendJson(res, err.status, { code: err.status, error_code: err.code, msg: err.message }, headers);
  }
}
