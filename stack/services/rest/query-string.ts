// PostgREST's query-string grammar: `select`, horizontal filters with their
// operators, `or`/`and` trees, `order`, `limit`/`offset` (also on embedded
// resources), `columns` and `on_conflict`. Produces a syntax tree only; names are
// checked against the schema cache when the SQL is built.
import { ApiError, parseError } from './errors.ts';

export interface JsonStep {
  arrow: '->' | '->>';
  key: string;
  /** An integer array index rather than an object key. */
  index: boolean;
}

export interface FieldRef {
  name: string;
  path: JsonStep[];
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'field'; field: FieldRef; alias?: string; cast?: string; aggregate?: Aggregate; aggregateCast?: string }
  | { kind: 'embed'; name: string; alias?: string; hint?: string; inner: boolean; select: SelectItem[]; spread?: boolean };

/** PostgREST's aggregate functions: `count()`, `col.sum()`, `col::cast.avg()::cast` … */
export type Aggregate = 'count' | 'sum' | 'avg' | 'max' | 'min';
const AGGREGATES = new Set<string>(['count', 'sum', 'avg', 'max', 'min']);

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'is', 'isdistinct', 'in', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts'] as const;
export type Operator = (typeof OPERATORS)[number];
const QUANTIFIABLE = new Set<Operator>(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);
const FTS = new Set<Operator>(['fts', 'plfts', 'phfts', 'wfts']);

export interface Filter {
  kind: 'filter';
  field: FieldRef;
  negate: boolean;
  op: Operator;
  quantifier?: 'any' | 'all';
  language?: string;
  /** A list for `in` and quantified operators, a string otherwise. */
  value: string | string[];
}

export interface Logic {
  kind: 'logic';
  op: 'and' | 'or';
  negate: boolean;
  children: Condition[];
}

export type Condition = Filter | Logic;

export interface OrderTerm {
  /** A to-one embedded resource whose column orders the rows. */
  relation?: string;
  field: FieldRef;
  direction?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

export interface ParsedQuery {
  select: SelectItem[];
  /** Keyed by the embed path joined with '.' ('' for the top level). */
  conditions: Map<string, Condition[]>;
  order: Map<string, OrderTerm[]>;
  limit: Map<string, number>;
  offset: Map<string, number>;
  columns?: string[];
  onConflict?: string[];
  /** Parameters left for the caller (function arguments of a GET /rpc). */
  rest: Map<string, string>;
  /** True when at least one filter applies to the top level (for PostgREST's unfiltered-write rule). */
  hasRootFilter: boolean;
}

const IDENT_CHAR = /[\p{L}\p{N}_$ @#]/u;

/**
 * Deepest nesting of `or`/`and` trees and of embedded resources. PostgREST has no
 * such bound; ours keeps parsing linear in the URL's length (each level rescans
 * its own text) and the stack shallow, far beyond what clients send.
 */
export const MAX_NESTING = 32;

function tooDeep(what: string): ApiError {
  return parseError(`"failed to parse ${what}"`, `nesting deeper than ${MAX_NESTING} levels`);
}

class Cursor {
  pos = 0;
  constructor(readonly text: string, readonly what: string) {}
  peek(n = 0): string {
    return this.text[this.pos + n] ?? '';
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }
  fail(expecting: string): never {
    const near = this.done() ? 'end of input' : `"${this.text[this.pos]}"`;
    throw parseError(`"failed to parse ${this.what} (${this.text})" (line 1, column ${this.pos + 1})`, `unexpected ${near} expecting ${expecting}`);
  }
}

/** An identifier: `"quoted"` (with `""` or `\"` escapes) or a run of name characters, dashes allowed inside. */
function readIdentifier(c: Cursor): string {
  if (c.peek() === '"') {
    c.pos++;
    let out = '';
    while (!c.done()) {
      const ch = c.peek();
      if (ch === '\\' && c.peek(1)) {
        out += c.peek(1);
        c.pos += 2;
      } else if (ch === '"') {
        c.pos++;
        return out;
      } else {
        out += ch;
        c.pos++;
      }
    }
    c.fail('closing quote');
  }
  const start = c.pos;
  while (!c.done()) {
    const ch = c.peek();
    if (IDENT_CHAR.test(ch)) c.pos++;
    else if (ch === '-' && c.peek(1) !== '>' && c.pos > start) c.pos++;
    else break;
  }
  if (c.pos === start) c.fail('field name (* or [a..z0..9_$])');
  return c.text.slice(start, c.pos).trim();
}

function readJsonPath(c: Cursor): JsonStep[] {
  const path: JsonStep[] = [];
  while (c.startsWith('->')) {
    const arrow = c.startsWith('->>') ? '->>' : '->';
    c.pos += arrow.length;
    const m = /^-?\d+(?![\p{L}_$])/u.exec(c.text.slice(c.pos));
    if (m && c.peek() !== '"') {
      c.pos += m[0].length;
      path.push({ arrow, key: m[0], index: true });
    } else {
      path.push({ arrow, key: readIdentifier(c), index: false });
    }
  }
  return path;
}

function readCast(c: Cursor): string | undefined {
  if (!c.startsWith('::')) return undefined;
  c.pos += 2;
  const m = /^[A-Za-z_][A-Za-z0-9_]*(\[\])?/.exec(c.text.slice(c.pos));
  if (!m) c.fail('type name');
  c.pos += m[0].length;
  return m[0];
}

function readSelectList(c: Cursor, closing: string, depth: number): SelectItem[] {
  if (depth > MAX_NESTING) throw tooDeep('select parameter');
  const items: SelectItem[] = [];
  if (c.peek() === closing || (closing === '' && c.done())) return items;
  for (;;) {
    items.push(readSelectItem(c, depth));
    if (c.peek() === ',') {
      c.pos++;
      continue;
    }
    if (closing === '' ? c.done() : c.peek() === closing) return items;
    c.fail(closing === '' ? '"," or end of input' : `"," or "${closing}"`);
  }
}

function readSelectItem(c: Cursor, depth: number): SelectItem {
  if (c.peek() === '*') {
    c.pos++;
    return { kind: 'star' };
  }
  // `...rel(cols)`: the embedded columns are lifted into the parent object.
  const spread = c.startsWith('...');
  if (spread) c.pos += 3;
  let alias: string | undefined;
  let name = readIdentifier(c);
  if (!spread && c.peek() === ':' && c.peek(1) !== ':') {
    c.pos++;
    alias = name;
    name = readIdentifier(c);
  }
  if (spread && c.peek() !== '!' && c.peek() !== '(') c.fail('"(" after a spread relation');
  if (c.peek() === '!' || c.peek() === '(') {
    let hint: string | undefined;
    let inner = false;
    while (c.peek() === '!') {
      c.pos++;
      const word = readIdentifier(c);
      if (word === 'inner') inner = true;
      else if (word === 'left') inner = false;
      else if (hint === undefined) hint = word;
      else c.fail('"inner" or "left"');
    }
    // `count()` is the count aggregate, never an embed (PostgREST's grammar).
    if (!spread && name === 'count' && hint === undefined && !inner && c.startsWith('()')) {
      c.pos += 2;
      return { kind: 'field', field: { name: '*', path: [] }, alias, aggregate: 'count', aggregateCast: readCast(c) };
    }
    if (c.peek() !== '(') c.fail('"("');
    c.pos++;
    const select = readSelectList(c, ')', depth + 1);
    c.pos++;
    return { kind: 'embed', name, alias, hint, inner, select, spread };
  }
  const path = readJsonPath(c);
  const cast = readCast(c);
  let aggregate: Aggregate | undefined;
  let aggregateCast: string | undefined;
  if (c.peek() === '.') {
    c.pos++;
    const m = /^(count|sum|avg|max|min)\(\)/.exec(c.text.slice(c.pos));
    if (!m || !AGGREGATES.has(m[1])) c.fail('an aggregate function (count(), sum(), avg(), max() or min())');
    c.pos += m[0].length;
    aggregate = m[1] as Aggregate;
    aggregateCast = readCast(c);
  }
  return { kind: 'field', field: { name, path }, alias, cast, ...(aggregate ? { aggregate, aggregateCast } : {}) };
}

export function parseSelect(text: string): SelectItem[] {
  const c = new Cursor(text, 'select parameter');
  const items = readSelectList(c, '', 1);
  if (!c.done()) c.fail('end of input');
  return items;
}

/** A field with an optional JSON path, filling the whole text. */
function parseField(text: string, what: string): FieldRef {
  const c = new Cursor(text, what);
  const name = readIdentifier(c);
  const path = readJsonPath(c);
  if (!c.done()) c.fail('"->", "->>" or end of field');
  return { name, path };
}

/** Splits on commas that are outside quotes, parentheses, braces and brackets. */
function splitTopLevel(text: string, what: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '(' || ch === '{' || ch === '[') depth++;
    else if (ch === ')' || ch === '}' || ch === ']') {
      depth--;
      if (depth < 0) throw parseError(`"failed to parse ${what} (${text})"`, 'unbalanced parentheses');
    } else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0 || quoted) throw parseError(`"failed to parse ${what} (${text})"`, 'unbalanced parentheses or quotes');
  parts.push(text.slice(start));
  return parts;
}

function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1).replace(/\\(.)/g, '$1');
  return text;
}

/** `(a,"b,c")` or `{a,b}`: the elements of a list value. */
function parseList(text: string, open: string, close: string, what: string): string[] {
  if (!text.startsWith(open) || !text.endsWith(close)) throw parseError(`"failed to parse filter (${what})"`, `expecting a list in "${open}" and "${close}"`);
  const inner = text.slice(1, -1);
  if (inner.trim() === '') return [];
  return splitTopLevel(inner, 'filter').map((v) => unquote(v.trim()));
}

/** `[not.]op[(modifier)].value` applied to `field`; `inLogic` values may be quoted. */
export function parseOperation(field: FieldRef, text: string, inLogic: boolean): Filter {
  let rest = text;
  let negate = false;
  if (rest.startsWith('not.')) {
    negate = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+)(?:\(([^)]*)\))?\./.exec(rest);
  if (!m || !(OPERATORS as readonly string[]).includes(m[1])) {
    throw parseError(`"failed to parse filter (${text})" (line 1, column 1)`, `unexpected "${rest.split('.')[0]}" expecting an operator (eq, neq, gt, ...)`);
  }
  const op = m[1] as Operator;
  const modifier = m[2];
  let raw = rest.slice(m[0].length);
  if (inLogic) raw = unquote(raw);
  const filter: Filter = { kind: 'filter', field, negate, op, value: raw };
  if (modifier !== undefined) {
    if (FTS.has(op)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(modifier)) throw parseError(`"failed to parse filter (${text})"`, 'a text search configuration name is expected');
      filter.language = modifier;
    } else if (QUANTIFIABLE.has(op) && (modifier === 'any' || modifier === 'all')) {
      filter.quantifier = modifier;
      filter.value = parseList(raw, '{', '}', text);
    } else {
      throw parseError(`"failed to parse filter (${text})"`, `unexpected modifier "${modifier}" for ${op}`);
    }
  }
  if (op === 'in') filter.value = parseList(raw, '(', ')', text);
  if (op === 'is' && !['null', 'not_null', 'true', 'false', 'unknown'].includes(raw.toLowerCase())) {
    throw parseError(`"failed to parse filter (${text})"`, 'unexpected value, expecting null, not_null, true, false or unknown');
  }
  return filter;
}

/** The inside of `or=(…)`/`and=(…)`, recursively. */
/** The deepest parenthesis nesting outside quotes, in one pass. */
function parenDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '(') max = Math.max(max, ++depth);
    else if (ch === ')') depth--;
  }
  return max;
}

export function parseLogic(op: 'and' | 'or', negate: boolean, text: string, depth = 1): Logic {
  // A tree far too deep is refused in one pass, before any level is parsed (an `in.(…)` list adds one level).
  if (depth > MAX_NESTING || (depth === 1 && parenDepth(text) > MAX_NESTING + 1)) throw tooDeep('logic tree');
  if (!text.startsWith('(') || !text.endsWith(')')) throw parseError(`"failed to parse logic tree (${text})" (line 1, column 1)`, 'expecting "("');
  const children = splitTopLevel(text.slice(1, -1), 'logic tree').map((part): Condition => {
    const item = part.trim();
    const nested = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
    if (nested) return parseLogic(nested[2] as 'and' | 'or', !!nested[1], nested[3], depth + 1);
    const c = new Cursor(item, 'logic tree');
    const name = readIdentifier(c);
    const path = readJsonPath(c);
    if (c.peek() !== '.') c.fail('"." then an operator');
    return parseOperation({ name, path }, item.slice(c.pos + 1), true);
  });
  return { kind: 'logic', op, negate, children };
}

export function parseOrder(text: string): OrderTerm[] {
  return splitTopLevel(text, 'order').map((term) => {
    let rest = term.trim();
    let relation: string | undefined;
    const rel = /^([^().]+)\(([^()]+)\)/.exec(rest);
    let fieldText: string;
    if (rel) {
      relation = rel[1];
      fieldText = rel[2];
      rest = rest.slice(rel[0].length);
    } else {
      const dot = rest.indexOf('.');
      fieldText = dot < 0 ? rest : rest.slice(0, dot);
      rest = dot < 0 ? '' : rest.slice(dot);
    }
    const out: OrderTerm = { relation, field: parseField(fieldText, 'order') };
    for (const word of rest.split('.').filter(Boolean)) {
      if ((word === 'asc' || word === 'desc') && !out.direction && !out.nulls) out.direction = word;
      else if ((word === 'nullsfirst' || word === 'nullslast') && !out.nulls) out.nulls = word === 'nullsfirst' ? 'first' : 'last';
      else throw parseError(`"failed to parse order (${text})" (line 1, column 1)`, `unexpected "${word}" expecting "asc", "desc", "nullsfirst" or "nullslast"`);
    }
    return out;
  });
}

function parseCount(key: string, text: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    if (/^-\d+$/.test(text) && key.endsWith('limit')) throw new ApiError(416, 'PGRST103', 'Requested range not satisfiable', 'Limit should be greater than or equal to zero.');
    throw parseError(`"failed to parse ${key} parameter (${text})"`, 'expecting a non-negative integer');
  }
  return Number(text);
}

/** A comma-separated list of column names, each optionally quoted (`columns`, `on_conflict`). */
export function parseColumnList(text: string, what: string): string[] {
  return splitTopLevel(text, what).map((part) => {
    const c = new Cursor(part.trim(), what);
    const name = readIdentifier(c);
    if (!c.done()) c.fail('"," or end of input');
    return name;
  });
}

/**
 * Parses the whole query string. `isRpcArg` tells which keys are function
 * arguments (GET /rpc) and stay out of the filters.
 */
export function parseQuery(params: URLSearchParams, isRpcArg: (key: string) => boolean = () => false): ParsedQuery {
  const out: ParsedQuery = { select: [{ kind: 'star' }], conditions: new Map(), order: new Map(), limit: new Map(), offset: new Map(), rest: new Map(), hasRootFilter: false };
  const addCondition = (path: string, cond: Condition) => {
    out.conditions.set(path, [...(out.conditions.get(path) ?? []), cond]);
    if (path === '') out.hasRootFilter = true;
  };
  for (const [key, value] of params) {
    if (key === 'apikey') continue;
    if (key === 'select') {
      out.select = parseSelect(value);
      continue;
    }
    if (key === 'columns') {
      out.columns = parseColumnList(value, 'columns');
      continue;
    }
    if (key === 'on_conflict') {
      out.onConflict = parseColumnList(value, 'on_conflict');
      continue;
    }
    if (isRpcArg(key)) {
      out.rest.set(key, value);
      continue;
    }
    const parts = key.split('.');
    const last = parts[parts.length - 1];
    // `not.or` / `embed.not.and`: a negated logic tree.
    if ((last === 'or' || last === 'and') && parts.length >= 2 && parts[parts.length - 2] === 'not') {
      addCondition(parts.slice(0, -2).join('.'), parseLogic(last, true, value));
      continue;
    }
    const path = parts.slice(0, -1).join('.');
    if (last === 'or' || last === 'and') addCondition(path, parseLogic(last, false, value));
    else if (last === 'order') out.order.set(path, parseOrder(value));
    else if (last === 'limit') out.limit.set(path, parseCount(key, value));
    else if (last === 'offset') out.offset.set(path, parseCount(key, value));
    else {
      // The key is `embed.path.field`; a JSON path may follow the field.
      const field = parseField(last, 'filter');
      addCondition(path, parseOperation(field, value, false));
    }
  }
  return out;
}
