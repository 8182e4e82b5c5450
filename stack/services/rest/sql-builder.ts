// Turns a parsed request into one SQL statement whose single row carries the
// response: the JSON body (built by Postgres, as PostgREST does), the page and
// total counts, and the response.headers/response.status GUCs. Identifiers come
// only from the schema cache and are quoted; every value is a bind parameter.
import { csvBodyExpr } from './csv.ts';
import { ApiError, parseError, undefinedColumn } from './errors.ts';
import type { Condition, FieldRef, Filter, OrderTerm, ParsedQuery, SelectItem } from './query-string.ts';
import { findRelationship, type Relationship } from './relationships.ts';
import type { Column, SchemaCache, Table } from './schema-cache.ts';

export function ident(name: string): string {
  if (name.includes('\0')) throw parseError('"failed to parse identifier"', 'identifiers cannot contain a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

export function literal(text: string): string {
  if (text.includes('\0')) throw parseError('"failed to parse value"', 'values cannot contain a NUL character');
  return `'${text.replace(/'/g, "''")}'`;
}

/** A relation rows are read from: a table or view, or the result of a function. */
export interface Source {
  name: string;
  columns: Map<string, Column>;
  /** The table whose foreign keys embedding may follow, if any. */
  table: Table | null;
}

export const tableSource = (table: Table): Source => ({ name: table.name, columns: table.columnMap, table });

export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

interface Embed {
  key: string;
  level: Level;
  rel: Relationship;
  inner: boolean;
  /** `rel()` with nothing selected: used for filtering only, left out of the output. */
  omitted: boolean;
  /** `...rel(cols)`: its columns are lifted into the parent (arrays of values for to-many). */
  spread: boolean;
}

interface Level {
  source: Source;
  alias: string;
  path: string;
  /** Select-list entries in request order: `*`, an expression with its key (an aggregate or not), or an embed. */
  items: Array<{ star: true } | { expr: string; key: string; aggregate?: true } | { embed: Embed }>;
  embeds: Map<string, Embed>;
  conds: string[];
  order: string[];
  limit?: number;
  offset?: number;
}

const SIMPLE_OPS: Record<string, string> = {
  eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'like', ilike: 'ilike', match: '~', imatch: '~*',
  isdistinct: 'is distinct from', cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxl: '&>', nxr: '&<', adj: '-|-',
};
const FTS_FUNCTIONS: Record<string, string> = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' };

/** A PostgreSQL array literal of text elements, for `= any(…)` filters. */
function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

export class QueryBuilder {
  readonly params = new Params();
  // Starts at 1: callers name the top level `t0` (writes, functions) themselves.
  private aliasCount = 1;
  private readonly visited = new Set<string>();
  /** Per alias, the name PostgREST's SQL gives the relation (`table`, or `table_<depth>` when embedded), for Postgres-like errors. */
  private readonly labels = new Map<string, string>();

  constructor(private readonly cache: SchemaCache, private readonly query: ParsedQuery, private readonly maxRows: number | null) {}

  private nextAlias(prefix: string): string {
    return `${prefix}${this.aliasCount++}`;
  }

  /** A function of the source's row used as a column (PostgREST's computed fields), if any. */
  private computedField(source: Source, name: string) {
    return source.table ? this.cache.computed.get(`${source.table.schema}.${source.table.name}`)?.get(name) : undefined;
  }

  private column(source: Source, name: string, alias?: string): Column {
    const col = source.columns.get(name);
    if (col) return col;
    const fn = this.computedField(source, name);
    if (fn) return { name, type: fn.returnType, typeName: fn.returnType, nullable: true, default: null };
    throw undefinedColumn((alias && this.labels.get(alias)) ?? source.name, name);
  }

  /** `alias."col"->'a'->>'b'` (or a computed field `schema.fn(alias)`), checked against the schema cache. */
  fieldSql(source: Source, alias: string, field: FieldRef): string {
    this.column(source, field.name, alias);
    const fn = source.columns.has(field.name) ? undefined : this.computedField(source, field.name);
    let sql = fn ? `${ident(fn.schema)}.${ident(fn.name)}(${alias})` : `${alias}.${ident(field.name)}`;
    for (const step of field.path) sql += `${step.arrow}${step.index ? String(Number(step.key)) : literal(step.key)}`;
    return sql;
  }

  /** Builds the tree of levels (the top one and its embedded resources) for a read. */
  level(source: Source, path: string, select: SelectItem[], alias = this.nextAlias('t'), withModifiers = true): Level {
    this.visited.add(path);
    const depth = path === '' ? 0 : path.split('.').length;
    this.labels.set(alias, depth === 0 ? source.name : `${source.name}_${depth}`);
    const level: Level = { source, alias, path, items: [], embeds: new Map(), conds: [], order: [] };
    for (const item of select) {
      if (item.kind === 'star') {
        level.items.push({ star: true });
      } else if (item.kind === 'field' && item.aggregate) {
        if (!this.cache.config.aggregatesEnabled) throw new ApiError(400, 'PGRST123', 'Use of aggregate functions is not allowed');
        let arg = '*';
        if (item.field.name !== '*') {
          arg = this.fieldSql(source, alias, item.field);
          if (item.cast) arg = `(${arg})::${item.cast}`;
        }
        let sql = `${item.aggregate}(${arg})`;
        if (item.aggregateCast) sql = `(${sql})::${item.aggregateCast}`;
        level.items.push({ expr: sql, key: item.alias ?? item.aggregate, aggregate: true });
      } else if (item.kind === 'field' && item.field.name === 'count' && item.field.path.length === 0 && !item.cast
        && !source.columns.has('count') && !this.computedField(source, 'count')) {
        // PostgREST passes `rel.count` to Postgres, which reads it as count(rel): the row count, aggregates enabled or not.
        level.items.push({ expr: 'count(*)', key: item.alias ?? 'count', aggregate: true });
      } else if (item.kind === 'field') {
        const { field } = item;
        let sql = this.fieldSql(source, alias, field);
        if (item.cast) sql = `(${sql})::${item.cast}`;
        const lastKey = [...field.path].reverse().find((s) => !s.index)?.key;
        const key = item.alias ?? lastKey ?? field.name;
        level.items.push({ expr: sql, key });
      } else {
        if (!source.table) throw new ApiError(400, 'PGRST200', `Could not find a relationship between '${source.name}' and '${item.name}' in the schema cache`);
        const rel = findRelationship(this.cache, source.table, item.name, item.hint);
        const key = item.alias ?? item.name;
        // PostgREST joins each embed under the alias `<table>_<name>_<depth>`; the same one twice is Postgres's 42712.
        if (level.embeds.has(key)) throw new ApiError(400, '42712', `table name "${source.name}_${key}_${depth + 1}" specified more than once`);
        const childPath = path ? `${path}.${key}` : key;
        const child = this.level(tableSource(rel.target), childPath, item.select);
        const embed: Embed = { key, level: child, rel, inner: item.inner, omitted: item.select.length === 0, spread: !!item.spread };
        level.embeds.set(key, embed);
        if (!embed.omitted) level.items.push({ embed });
      }
    }
    if (withModifiers) this.applyModifiers(level);
    return level;
  }

  /** Filters, order, limit and offset that the query string gave this level. */
  private applyModifiers(level: Level): void {
    for (const cond of this.query.conditions.get(level.path) ?? []) level.conds.push(this.condition(level, cond));
    for (const term of this.query.order.get(level.path) ?? []) level.order.push(this.orderTerm(level, term));
    level.limit = this.query.limit.get(level.path);
    level.offset = this.query.offset.get(level.path);
    for (const embed of level.embeds.values()) if (embed.inner) level.conds.push(`exists (${this.existsSql(level, embed)})`);
  }

  /** Checks that every embed path used in a filter, order or limit was embedded. */
  assertPathsEmbedded(): void {
    for (const map of [this.query.conditions, this.query.order, this.query.limit, this.query.offset]) {
      for (const path of map.keys()) {
        if (path !== '' && !this.visited.has(path)) {
          const name = path.split('.').pop() ?? path;
          throw new ApiError(400, 'PGRST108', `'${name}' is not an embedded resource in this request`, null, `Verify that '${name}' is included in the 'select' query parameter.`);
        }
      }
    }
  }

  condition(level: Level, cond: Condition): string {
    if (cond.kind === 'logic') {
      const parts = cond.children.map((c) => this.condition(level, c));
      const joined = parts.length ? `(${parts.join(cond.op === 'and' ? ' and ' : ' or ')})` : cond.op === 'and' ? 'true' : 'false';
      return cond.negate ? `not ${joined}` : joined;
    }
    // `?child=is.null` / `?child=not.is.null` on an embedded resource (PostgREST's "null filtering").
    if (!level.source.columns.has(cond.field.name) && cond.field.path.length === 0 && level.embeds.has(cond.field.name)) {
      const embed = level.embeds.get(cond.field.name)!;
      const lower = typeof cond.value === 'string' ? cond.value.toLowerCase() : '';
      if (cond.op !== 'is' || (lower !== 'null' && lower !== 'not_null')) {
        throw new ApiError(400, 'PGRST120', `Bad operator on the '${embed.key}' embedded resource`, 'Only is null or not is null filters are allowed on embedded resources');
      }
      const isNull = (lower === 'null') !== cond.negate;
      return `${isNull ? 'not ' : ''}exists (${this.existsSql(level, embed)})`;
    }
    const sql = this.filterSql(level.source, level.alias, cond);
    return cond.negate ? `not (${sql})` : sql;
  }

  filterSql(source: Source, alias: string, f: Filter): string {
    const target = this.fieldSql(source, alias, f.field);
    const col = this.column(source, f.field.name);
    const p = (v: unknown) => this.params.add(v);
    if (f.quantifier) {
      const values = (f.value as string[]).map((v) => (f.op === 'like' || f.op === 'ilike' ? v.replace(/\*/g, '%') : v));
      const textual = f.op === 'like' || f.op === 'ilike' || f.op === 'match' || f.op === 'imatch' || f.field.path.at(-1)?.arrow === '->>';
      const arrayType = textual ? 'text[]' : f.field.path.length ? 'jsonb[]' : `${col.type}[]`;
      return `${target} ${SIMPLE_OPS[f.op]} ${f.quantifier}(${p(arrayLiteral(values))}::${arrayType})`;
    }
    switch (f.op) {
      case 'is': {
        const v = (f.value as string).toLowerCase();
        return `${target} is ${v === 'not_null' ? 'not null' : v}`;
      }
      case 'in': {
        const values = f.value as string[];
        if (values.length === 0) return 'false';
        // One array parameter, whatever the list's length (the protocol caps parameters at 65535).
        const last = f.field.path.at(-1);
        const arrayType = !last ? `${col.type}[]` : last.arrow === '->>' ? 'text[]' : 'jsonb[]';
        return `${target} = any(${p(arrayLiteral(values))}::${arrayType})`;
      }
      case 'fts':
      case 'plfts':
      case 'phfts':
      case 'wfts': {
        const config = f.language ? `${p(f.language)}::regconfig, ` : '';
        const doc = col.typeName === 'tsvector' && f.field.path.length === 0 ? target : `to_tsvector(${config}${target})`;
        return `${doc} @@ ${FTS_FUNCTIONS[f.op]}(${config}${p(f.value)})`;
      }
      case 'like':
      case 'ilike':
        return `${target} ${SIMPLE_OPS[f.op]} ${p((f.value as string).replace(/\*/g, '%'))}`;
      default:
        return `${target} ${SIMPLE_OPS[f.op]} ${p(f.value)}`;
    }
  }

  private orderTerm(level: Level, term: OrderTerm): string {
    let sql: string;
    if (term.relation !== undefined) {
      const embed = level.embeds.get(term.relation);
      if (!embed) {
        throw new ApiError(400, 'PGRST108', `'${term.relation}' is not an embedded resource in this request`, null, `Verify that '${term.relation}' is included in the 'select' query parameter.`);
      }
      if (!embed.rel.toOne) {
        throw new ApiError(400, 'PGRST118', `A related order on '${embed.key}' is not possible`, `'${level.source.name}' and '${embed.key}' do not form a many-to-one or one-to-one relationship`);
      }
      const alias = this.nextAlias('o');
      sql = `(select ${this.fieldSql(embed.level.source, alias, term.field)} from ${this.embedFrom(level.alias, embed.rel, embed.level.source)} as ${alias} where ${this.joinSql(level.alias, alias, embed.rel)})`;
    } else {
      sql = this.fieldSql(level.source, level.alias, term.field);
    }
    return `${sql}${term.direction ? ` ${term.direction}` : ''}${term.nulls ? ` nulls ${term.nulls}` : ''}`;
  }

  fromSql(source: Source): string {
    if (!source.table) throw new Error('a function result cannot be embedded');
    return `${ident(source.table.schema)}.${ident(source.table.name)}`;
  }

  /** Where an embed's rows come from: its table, or for a computed relationship its function of the parent row. */
  embedFrom(parent: string, rel: Relationship, source: Source): string {
    return rel.fn ? `${ident(rel.fn.schema)}.${ident(rel.fn.name)}(${parent})` : this.fromSql(source);
  }

  /** The condition tying an embedded row (alias `child`) to its parent row. */
  joinSql(parent: string, child: string, rel: Relationship): string {
    if (rel.fn) return 'true';
    if (rel.junction) {
      const j = this.nextAlias('j');
      const { sourceFk, targetFk, table } = rel.junction;
      const conds = [
        ...targetFk.columns.map((c, i) => `${j}.${ident(c)} = ${child}.${ident(targetFk.refColumns[i])}`),
        ...sourceFk.columns.map((c, i) => `${j}.${ident(c)} = ${parent}.${ident(sourceFk.refColumns[i])}`),
      ];
      return `exists (select 1 from ${ident(table.schema)}.${ident(table.name)} as ${j} where ${conds.join(' and ')})`;
    }
    return rel.targetColumns.map((c, i) => `${child}.${ident(c)} = ${parent}.${ident(rel.sourceColumns[i])}`).join(' and ');
  }

  private existsSql(parent: Level, embed: Embed): string {
    const child = embed.level;
    const where = [this.joinSql(parent.alias, child.alias, embed.rel), ...child.conds];
    return `select 1 from ${this.embedFrom(parent.alias, embed.rel, child.source)} as ${child.alias} where ${where.join(' and ')}`;
  }

  /** The select list as `[expression, key]` pairs (`*` expanded only when asked). */
  private itemPairs(level: Level, expandStar: boolean, grouped = false): Array<[string, string | null, boolean?]> {
    const out: Array<[string, string | null, boolean?]> = [];
    // Grouping needs equality, which json lacks: embeds are grouped as jsonb (what PostgREST embeds as).
    const groupable = (expr: string) => (grouped ? `(${expr})::jsonb` : expr);
    for (const item of level.items) {
      if ('star' in item) {
        if (expandStar) for (const name of level.source.columns.keys()) out.push([`${level.alias}.${ident(name)}`, name]);
        else out.push([`${level.alias}.*`, null]);
      } else if ('expr' in item) {
        out.push([item.expr, item.key, item.aggregate]);
      } else {
        const { embed } = item;
        const child = embed.level;
        const from = this.embedFrom(level.alias, embed.rel, child.source);
        const join = this.joinSql(level.alias, child.alias, embed.rel);
        if (embed.spread) {
          // To-one: each lifted column reads the one related row (null when there is none).
          // To-many (PostgREST 13): each lifted column is the array of its values, in the embed's order.
          const where = [join, ...child.conds].join(' and ');
          const order = child.order.length ? ` order by ${child.order.join(', ')}` : '';
          for (const [expr, key] of this.itemPairs(child, true)) {
            out.push([
              embed.rel.toOne
                ? `(select ${expr} from ${from} as ${child.alias} where ${where})`
                : groupable(`(select coalesce(json_agg(${expr}${order}), '[]'::json) from ${from} as ${child.alias} where ${where})`),
              key,
            ]);
          }
          continue;
        }
        const sub = this.nextAlias('e');
        const inner = this.levelSql(child, from, join);
        out.push([
          groupable(embed.rel.toOne
            ? `(select row_to_json(${sub}) from (${inner}) as ${sub})`
            : `coalesce((select json_agg(${sub}) from (${inner}) as ${sub}), '[]'::json)`),
          embed.key,
        ]);
      }
    }
    return out;
  }

  /** The select list, and (with aggregates) the ordinals of the other entries to group by, as PostgREST groups. */
  private selectList(level: Level): { list: string; groupBy: number[] } {
    const grouped = level.items.some((i) => 'expr' in i && i.aggregate);
    const pairs = this.itemPairs(level, grouped, grouped);
    return {
      list: pairs.map(([expr, key]) => (key === null ? expr : `${expr} as ${ident(key)}`)).join(', '),
      groupBy: grouped ? pairs.flatMap(([, , aggregate], i) => (aggregate ? [] : [i + 1])) : [],
    };
  }

  /** `select … from <from> as alias where …` for one level; `join` ties it to its parent. */
  levelSql(level: Level, from: string, join?: string, opts: { skipConds?: boolean; rootLimit?: boolean; noLimit?: boolean } = {}): string {
    const where = [...(join ? [join] : []), ...(opts.skipConds ? [] : level.conds)];
    const { list, groupBy } = this.selectList(level);
    let sql = `select ${list} from ${from} as ${level.alias}`;
    if (where.length) sql += ` where ${where.join(' and ')}`;
    if (groupBy.length) sql += ` group by ${groupBy.join(', ')}`;
    if (level.order.length) sql += ` order by ${level.order.join(', ')}`;
    let limit = opts.noLimit ? undefined : level.limit;
    if (opts.rootLimit && this.maxRows !== null) limit = limit === undefined ? this.maxRows : Math.min(limit, this.maxRows);
    if (limit !== undefined) sql += ` limit ${limit}`;
    if (level.offset && !opts.noLimit) sql += ` offset ${level.offset}`;
    return sql;
  }

  /** The filtered row set of the top level without select, order or limit (for counts). */
  countSql(level: Level, from: string): string {
    return `select 1 from ${from} as ${level.alias}${level.conds.length ? ` where ${level.conds.join(' and ')}` : ''}`;
  }
}

export type BodyShape = 'array' | 'object' | 'csv';

export function bodyExpr(source: string, shape: BodyShape, stripNulls: boolean): string {
  if (shape === 'csv') return csvBodyExpr(source);
  const agg = shape === 'object' ? `json_agg(_s)->0` : `coalesce(json_agg(_s), '[]'::json)`;
  const expr = stripNulls ? (shape === 'object' ? `json_strip_nulls(${agg})` : `(select coalesce(json_agg(json_strip_nulls(_x)), '[]'::json) from json_array_elements(${agg}) _x)`) : agg;
  return `(select (${expr})::text from (${source}) as _s)`;
}

export const RESPONSE_GUCS = `nullif(current_setting('response.headers', true), '') as response_headers, nullif(current_setting('response.status', true), '') as response_status`;

