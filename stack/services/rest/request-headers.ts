// The request headers PostgREST reads: Prefer (comma-joined values), Accept
// (media types it can produce), Accept-/Content-Profile (schema) and Range.
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './errors.ts';

export interface Preferences {
  return?: 'minimal' | 'headers-only' | 'representation';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  tx?: 'commit' | 'rollback';
  handling?: 'strict' | 'lenient';
  maxAffected?: number;
  params?: 'single-object';
  /** A time zone Postgres knows, set for the transaction. */
  timezone?: string;
  /** The accepted preferences, echoed in Preference-Applied. */
  applied: string[];
}

const ALLOWED: Record<string, string[]> = {
  return: ['minimal', 'headers-only', 'representation'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  tx: ['commit', 'rollback'],
  handling: ['strict', 'lenient'],
  params: ['single-object'],
};

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const raw = headers[name];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(','));
}

/** `allowTx`: pgrst.db_tx_end allows `Prefer: tx` to override the transaction's end (else it is ignored, as PostgREST does). */
export function parsePrefer(headers: IncomingHttpHeaders, isTimezone: (name: string) => boolean, allowTx = true): Preferences {
  const prefs: Preferences = { applied: [] };
  const invalid: string[] = [];
  for (const item of headerValues(headers, 'prefer').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (key === 'max-affected' && /^\d{1,15}$/.test(value)) {
      prefs.maxAffected = Number(value);
    } else if (key === 'timezone' && isTimezone(value)) {
      prefs.timezone = value;
    } else if (key === 'tx' && !allowTx && ALLOWED.tx.includes(value)) {
      // A valid preference that this configuration does not honour: neither applied nor invalid.
    } else if (ALLOWED[key]?.includes(value)) {
      (prefs as unknown as Record<string, string>)[key] = value;
    } else {
      invalid.push(item);
    }
  }
  if (prefs.handling === 'strict' && invalid.length) {
    throw new ApiError(400, 'PGRST122', 'Invalid preferences given with handling=strict', `Invalid preferences: ${invalid.join(', ')}`);
  }
  return prefs;
}

export type MediaKind = 'json' | 'object' | 'csv';

export interface Accepted {
  kind: MediaKind;
  stripNulls: boolean;
  /** `application/vnd.pgrst.plan+json|text`: the EXPLAIN of the query for `kind`, with its options. */
  plan?: { format: 'json' | 'text'; options: string[] };
}

const PLAN_OPTIONS = new Set(['analyze', 'verbose', 'settings', 'buffers', 'wal']);

/** Picks what to answer from the Accept header, in PostgREST's terms; 406 PGRST107 when nothing fits. */
export function negotiate(headers: IncomingHttpHeaders, planEnabled = false): Accepted {
  const raw = headers.accept;
  if (!raw || raw.trim() === '') return { kind: 'json', stripNulls: false };
  const entries = raw
    .split(',')
    .map((part, i) => {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim().replace(/^"|"$/g, ''))));
      const q = p.q === undefined ? 1 : Number(p.q);
      return { type: type.toLowerCase(), params: p as Record<string, string>, q: Number.isFinite(q) ? q : 0, i };
    })
    .filter((e) => e.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const e of entries) {
    const strip = e.params.nulls === 'stripped';
    switch (e.type) {
      case 'application/json':
      case 'application/*':
      case '*/*':
        return { kind: 'json', stripNulls: false };
      case 'application/vnd.pgrst.array+json':
      case 'application/vnd.pgrst.array':
        return { kind: 'json', stripNulls: strip };
      case 'application/vnd.pgrst.object+json':
      case 'application/vnd.pgrst.object':
        return { kind: 'object', stripNulls: strip };
      case 'text/csv':
        return { kind: 'csv', stripNulls: false };
      case 'application/vnd.pgrst.plan':
      case 'application/vnd.pgrst.plan+text':
      case 'application/vnd.pgrst.plan+json': {
        // Offered only with pgrst.db_plan_enabled, as PostgREST's db-plan-enabled.
        if (!planEnabled) break;
        const target = negotiate({ accept: e.params.for ?? 'application/json' });
        if (target.plan) break;
        const options = (e.params.options ?? '').split('|').map((o) => o.trim().toLowerCase()).filter((o) => PLAN_OPTIONS.has(o));
        return { ...target, plan: { format: e.type.endsWith('+json') ? 'json' : 'text', options } };
      }
    }
  }
  throw new ApiError(406, 'PGRST107', `None of these media types are available: ${entries.map((e) => e.type).join(', ') || raw}`);
}

/** The schema named by Accept-Profile (reads) or Content-Profile (writes), or the first exposed one. */
export function pickSchema(headers: IncomingHttpHeaders, method: string, exposed: string[]): string {
  const header = method === 'GET' || method === 'HEAD' ? headers['accept-profile'] : headers['content-profile'];
  const wanted = Array.isArray(header) ? header[0] : header;
  if (wanted === undefined || wanted === '') return exposed[0];
  if (!exposed.includes(wanted)) {
    throw new ApiError(406, 'PGRST106', `Invalid schema: ${wanted}`, null, `Only the following schemas are exposed: ${exposed.join(', ')}`);
  }
  return wanted;
}

/** `Range: 0-9` (items): offset and limit; null when absent. */
export function parseRange(headers: IncomingHttpHeaders): { offset: number; limit?: number } | null {
  const raw = headers.range;
  if (!raw) return null;
  const m = /^(?:items=)?\s*(\d+)-(\d*)\s*$/.exec(raw);
  if (!m) return null;
  const lower = Number(m[1]);
  if (m[2] === '') return { offset: lower };
  const upper = Number(m[2]);
  if (upper < lower) {
    throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', 'The lower boundary must be lower than or equal to the upper boundary in the Range header.');
  }
  return { offset: lower, limit: upper - lower + 1 };
}
