// Writing PostgREST's answers: statuses, Content-Range, Preference-Applied, media
// types, the response.* GUCs, and error bodies with their Proxy-Status header.
import type { ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import type { Outcome } from './executor.ts';
import type { Statement } from './plan.ts';
import type { Accepted, Preferences } from './request-headers.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

export function send(res: ServerResponse, status: number, body: string | null, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const out: Record<string, string | number> = { ...headers };
  if (body !== null) out['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, out);
  res.end(body ?? undefined);
}

export function sendError(res: ServerResponse, err: ApiError, head: boolean): void {
  const body = JSON.stringify(err.body());
  send(res, err.status, head ? null : body, { 'content-type': JSON_TYPE, 'proxy-status': `PostgREST; error=${err.code}`, ...err.headers });
}

/** Content-Range and the status it implies (PostgREST: 206 for a partial page of a known total, 416 past the end). */
function rangeHeader(offset: number, page: number, total: number | null): { status: number; value: string } {
  const upper = offset + page - 1;
  const totalText = total === null ? '*' : String(total);
  const value = total !== 0 && offset <= upper ? `${offset}-${upper}/${totalText}` : `*/${totalText}`;
  let status = 200;
  if (total !== null) {
    if (offset > total) status = 416;
    else if (upper - offset + 1 < total) status = 206;
  }
  return { status, value };
}

/** Headers set with `set_config('response.headers', '[{"X-A": "b"}]', true)` in SQL. */
function gucHeaders(raw: string | null): Record<string, string> {
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || !parsed.every((h) => typeof h === 'object' && h !== null && Object.keys(h).length === 1 && typeof Object.values(h)[0] === 'string')) {
    throw new ApiError(500, 'PGRST111', 'response.headers guc must be a JSON array composed of objects with a single key and a string value');
  }
  return Object.fromEntries(parsed.map((h) => [Object.keys(h)[0].toLowerCase(), Object.values(h)[0] as string]));
}

function gucStatus(raw: string | null): number | null {
  if (!raw) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100 || n > 599) throw new ApiError(500, 'PGRST112', 'response.status guc must be a valid status code');
  return n;
}

export interface Answer {
  head: boolean;
  kind: 'read' | 'insert' | 'update' | 'delete' | 'rpc' | 'put';
  prefs: Preferences;
  accepted: Accepted;
  outcome: Outcome;
  statement: Statement;
  table: string;
  maxRows: number | null;
}

function contentType(accepted: Accepted): string {
  if (accepted.kind === 'csv') return 'text/csv; charset=utf-8';
  if (accepted.kind === 'object') return `application/vnd.pgrst.object+json;${accepted.stripNulls ? ' nulls=stripped;' : ''} charset=utf-8`;
  return accepted.stripNulls ? 'application/vnd.pgrst.array+json; nulls=stripped; charset=utf-8' : JSON_TYPE;
}

function appliedPreferences(prefs: Preferences, kind: Answer['kind']): string[] {
  const out: string[] = [];
  if (prefs.resolution && kind === 'insert') out.push(`resolution=${prefs.resolution}`);
  if (prefs.missing && kind === 'insert') out.push(`missing=${prefs.missing}`);
  if (prefs.return && kind !== 'read') out.push(`return=${prefs.return}`);
  if (prefs.count) out.push(`count=${prefs.count}`);
  if (prefs.tx) out.push(`tx=${prefs.tx}`);
  if (prefs.timezone) out.push(`timezone=${prefs.timezone}`);
  if (prefs.params) out.push(`params=${prefs.params}`);
  if (prefs.handling) out.push(`handling=${prefs.handling}`);
  if (prefs.maxAffected !== undefined && prefs.handling === 'strict') out.push(`max-affected=${prefs.maxAffected}`);
  return out;
}

export function respond(res: ServerResponse, a: Answer): void {
  const { row, planned } = a.outcome;
  const page = Number(row.page);
  let total = row.total === null ? null : Number(row.total);
  if (a.prefs.count === 'planned') total = planned;
  if (a.prefs.count === 'estimated' && total !== null && a.maxRows !== null && total > a.maxRows) total = Math.max(planned ?? 0, a.maxRows + 1);
  const headers: Record<string, string> = {};
  const applied = appliedPreferences(a.prefs, a.kind);
  if (applied.length) headers['preference-applied'] = applied.join(', ');
  let status: number;
  let body: string | null = null;
  if (a.kind === 'read' || a.kind === 'rpc') {
    if (a.statement.isVoid) {
      status = 204;
    } else {
      const range = rangeHeader(a.statement.offset, page, total);
      if (range.status === 416) {
        throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${a.statement.offset} was requested, but there are only ${total} rows.`, null, { 'content-range': `*/${total}` });
      }
      status = range.status;
      headers['content-range'] = range.value;
      body = row.body;
    }
  } else if (a.kind === 'put') {
    status = a.prefs.return === 'representation' ? (Number(row.inserted) > 0 ? 201 : 200) : 204;
    if (a.prefs.return === 'representation') body = row.body;
  } else if (a.kind === 'insert') {
    // PostgREST 12+: a merge-duplicates upsert that inserted no row answers 200.
    status = a.prefs.resolution === 'merge-duplicates' && row.inserted !== null && row.inserted !== undefined && Number(row.inserted) <= 0 ? 200 : 201;
    headers['content-range'] = `*/${total ?? '*'}`;
    if (a.prefs.return === 'representation') body = row.body;
    if (row.location) {
      const pk = JSON.parse(row.location) as Record<string, unknown>;
      headers.location = `/${a.table}?${Object.entries(pk).map(([k, v]) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(v))}`).join('&')}`;
    }
  } else {
    headers['content-range'] = page > 0 ? `0-${page - 1}/${total ?? '*'}` : `*/${total ?? '*'}`;
    status = a.prefs.return === 'representation' ? 200 : 204;
    if (a.prefs.return === 'representation') body = row.body;
  }
  Object.assign(headers, gucHeaders(row.response_headers));
  status = gucStatus(row.response_status) ?? status;
  if (body !== null) {
    headers['content-type'] = contentType(a.accepted);
  }
  send(res, status, a.head || status === 204 ? null : body ?? '', headers);
}
