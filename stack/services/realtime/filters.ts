// postgres_changes filters (`column=op.value`, ops eq, neq, lt, lte, gt, gte,
// in) and the conversion of pgoutput's text values to the JSON values that
// Realtime's walrus sends (what `to_jsonb` would give).

export type FilterOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';
export interface Filter {
  column: string;
  op: FilterOp;
  values: string[];
}

const OPS = new Set<FilterOp>(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in']);
const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid']);

/** Parses a filter string; throws with Realtime's wording when it is malformed. */
export function parseFilter(text: string): Filter {
  const match = /^([^=]+)=(\w+)\.(.*)$/s.exec(text);
  if (!match || !OPS.has(match[2] as FilterOp)) throw new Error(`Error parsing \`filter\` params: ${JSON.stringify(text)}`);
  const [, column, op, raw] = match;
  if (op !== 'in') return { column, op: op as FilterOp, values: [raw] };
  const list = /^\((.*)\)$/s.exec(raw);
  if (!list) throw new Error(`Error parsing \`filter\` params: ${JSON.stringify(text)}`);
  const values = [...list[1].matchAll(/"((?:[^"\\]|\\.)*)"|([^,]+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2].trim()));
  if (values.length > 100) throw new Error('Error parsing `filter` params: too many values for `in` filter (max 100)');
  return { column, op: 'in', values };
}

function compare(type: string, a: string, b: string): number {
  if (NUMERIC.has(type)) return Number(a) - Number(b);
  if (type === 'bool') return Number(a === 't' || a === 'true') - Number(b === 't' || b === 'true');
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when the row's text value passes the filter (a null never matches). */
export function matches(filter: Filter, type: string, value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  if (filter.op === 'in') return filter.values.some((v) => compare(type, value, v) === 0);
  const c = compare(type, value, filter.values[0]);
  switch (filter.op) {
    case 'eq':
      return c === 0;
    case 'neq':
      return c !== 0;
    case 'lt':
      return c < 0;
    case 'lte':
      return c <= 0;
    case 'gt':
      return c > 0;
    case 'gte':
      return c >= 0;
  }
  return false;
}

function timestampJson(text: string, withZone: boolean): string {
  const iso = text.replace(' ', 'T');
  if (!withZone) return iso;
  // Postgres prints offsets as +00 or +05:30; to_jsonb prints +00:00.
  return iso.replace(/([+-]\d\d)$/, '$1:00');
}

function parseArray(text: string, elementType: string): unknown {
  if (!text.startsWith('{') || !text.endsWith('}') || text.includes('{', 1)) return text;
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  const items = [...inner.matchAll(/"((?:[^"\\]|\\.)*)"|([^,]+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] === 'NULL' ? null : m[2]));
  return items.map((v) => (v === null ? null : toJsonValue(elementType, v)));
}

/** A column's text value as the JSON value Supabase Realtime delivers. */
export function toJsonValue(type: string, text: string | null): unknown {
  if (text === null) return null;
  if (type.startsWith('_')) return parseArray(text, type.slice(1));
  if (NUMERIC.has(type)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  switch (type) {
    case 'bool':
      return text === 't';
    case 'json':
    case 'jsonb':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    case 'timestamptz':
      return timestampJson(text, true);
    case 'timestamp':
      return timestampJson(text, false);
    default:
      return text;
  }
}
