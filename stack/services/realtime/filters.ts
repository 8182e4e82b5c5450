// postgres_changes filters as Realtime's `subscriptions.ex` parses them
// (`col=op.value`, ops eq, neq, lt, lte, gt, gte, in, like, ilike, is, match,
// imatch, isdistinct, each negatable with `not.`, comma-joined segments ANDed),
// the SQL that evaluates them with Postgres's own operators and types (as
// walrus's check_equality_op does), and the conversion of pgoutput's text
// values to the JSON values that walrus sends (what `to_jsonb` would give).

export const FILTER_OPS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'ilike', 'is', 'match', 'imatch', 'isdistinct'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];
export interface Filter {
  column: string;
  op: FilterOp;
  /** The value as Realtime stores it: unquoted, and for `in` an array literal `{a,b}`. */
  value: string;
  negate: boolean;
}

const OPS = new Set<string>(FILTER_OPS);
const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid']);
/** The keywords `is` accepts, as walrus checks them. */
export const IS_VALUES = new Set(['null', 'true', 'false', 'unknown']);

class FilterParseError extends Error {}

/** Elixir's `inspect` of a list of strings, which Realtime puts in its parse errors. */
function inspectList(parts: string[]): string {
  return `[${parts.map((p) => JSON.stringify(p)).join(', ')}]`;
}

/** Splits on commas outside parentheses and double quotes (Realtime's split_top_level). */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  let prev = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < text.length) {
        current += ch + text[++i];
        prev = text[i];
        continue;
      }
      if (ch === '"') quoted = false;
      current += ch;
      prev = ch;
      continue;
    }
    // A quote opens a quoted value only right after `.`, `(` or `,`.
    if (ch === '"' && (prev === '.' || prev === '(' || prev === ',')) quoted = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
      prev = '';
      continue;
    }
    current += ch;
    prev = ch;
  }
  out.push(current);
  return out;
}

/** `"a\"b"` → `a"b`; anything not a single well-formed quoted string stays as it is. */
function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\') {
      if (i + 1 >= value.length) return value;
      out += value[++i];
    } else if (ch === '"') return i === value.length - 1 ? out : value;
    else out += ch;
  }
  return value;
}

function parseSegment(segment: string): Filter {
  const trimmed = segment.trim();
  if (!trimmed) throw new FilterParseError('filter must not contain empty segments (check for extra commas)');
  const eq = trimmed.indexOf('=');
  if (eq < 0) throw new FilterParseError(inspectList([trimmed]));
  const column = trimmed.slice(0, eq);
  let rest = trimmed.slice(eq + 1);
  const negate = rest.startsWith('not.');
  if (negate) rest = rest.slice(4);
  const dot = rest.indexOf('.');
  if (dot < 0) throw new FilterParseError(inspectList([rest]));
  const op = rest.slice(0, dot);
  const raw = rest.slice(dot + 1);
  if (!OPS.has(op)) throw new FilterParseError(inspectList([op, raw]));
  if (op === 'in') {
    if (raw.length < 2 || !raw.startsWith('(') || !raw.endsWith(')')) throw new FilterParseError('`in` filter value must be wrapped by parentheses');
    return { column, op, value: `{${raw.slice(1, -1)}}`, negate };
  }
  return { column, op: op as FilterOp, value: unquote(raw), negate };
}

/** Parses a binding's `filter`; throws with Realtime's wording when it is malformed. */
export function parseFilters(text: string): Filter[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    return splitTopLevel(trimmed).map(parseSegment);
  } catch (err) {
    if (err instanceof FilterParseError) throw new Error(`Error parsing \`filter\` params: ${err.message}`);
    throw err;
  }
}

/** The filters as Realtime logs them in subscription errors: `[{"id", "eq", "5", false}]`. */
export function filtersToLog(filters: Filter[]): string {
  return `[${filters.map((f) => `{${[f.column, f.op, f.value].map((s) => JSON.stringify(s)).join(', ')}, ${f.negate}}`).join(', ')}]`;
}

/**
 * A SQL boolean expression for one filter on one value, with Postgres's own
 * operators: `$v` and `$f` are the row's value and the filter's value (text
 * parameters), `type` a type name as format_type prints it. Null when true
 * SQL semantics give null (e.g. a NULL value under `eq`): the caller treats
 * that as "does not match", as walrus does.
 */
export function filterSql(filter: Filter, type: string, v: string, f: string): string {
  // Parameters are typed text: the client library would otherwise encode them
  // for the inferred type (e.g. any string as false for a boolean).
  const value = `${v}::text::${type}`;
  f = `${f}::text`;
  switch (filter.op) {
    case 'is':
      // A keyword, never a typed literal (checked at subscribe time too, as Realtime does).
      if (!IS_VALUES.has(filter.value)) throw new Error('invalid value for is filter: must be null, true, false, or unknown');
      return `(${value} ${filter.negate ? 'is not' : 'is'} ${filter.value})`;
    case 'isdistinct':
      return `(${value} ${filter.negate ? 'is not distinct from' : 'is distinct from'} ${f}::${type})`;
    case 'in':
      return `${filter.negate ? 'not ' : ''}(${value} = any(${f}::${type}[]))`;
  }
  const symbol = { eq: '=', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=', like: 'like', ilike: 'ilike', match: '~', imatch: '~*' }[filter.op];
  return `${filter.negate ? 'not ' : ''}(${value} ${symbol} ${f}::${type})`;
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
