// One statement per request: reads, inserts (and upserts), updates, deletes and
// function calls, each as `with pgrst_source as (…) select <counts>, <body>, …`.
import { ApiError, columnNotFound } from './errors.ts';
import { closest } from './fuzzy.ts';
import type { ParsedQuery } from './query-string.ts';
import type { Preferences } from './request-headers.ts';
import { qualified, type Column, type RoutineInfo, type SchemaCache, type Table } from './schema-cache.ts';
import { bodyExpr, ident, literal, QueryBuilder, RESPONSE_GUCS, tableSource, type BodyShape, type Source } from './sql-builder.ts';

export interface Statement {
  sql: string;
  params: unknown[];
  /** `explain` of the filtered set, for `count=planned|estimated`. */
  explain?: { sql: string; params: unknown[] };
  readOnly: boolean;
  /** `void` function: answer 204. */
  isVoid?: boolean;
  /** The body is one JSON value from a function returning a scalar or one composite. */
  scalarBody?: boolean;
  /** The top level's offset, for Content-Range. */
  offset: number;
  /** For a function call: the parameters for other argument values of the same shape. */
  rebind?: (args: unknown) => unknown[];
}

export interface PlanInput {
  cache: SchemaCache;
  schema: string;
  query: ParsedQuery;
  prefs: Preferences;
  shape: BodyShape;
  stripNulls: boolean;
  maxRows: number | null;
  range: { offset: number; limit?: number } | null;
}

export function findTable(cache: SchemaCache, schema: string, name: string): Table {
  const table = cache.tables.get(qualified(schema, name));
  if (!table) {
    const near = closest([...cache.tables.values()].filter((t) => t.schema === schema).map((t) => t.name), name, 0.75);
    throw new ApiError(404, 'PGRST205', `Could not find the table '${schema}.${name}' in the schema cache`, null, near ? `Perhaps you meant the table '${schema}.${near}'` : null);
  }
  return table;
}

function applyRange(input: PlanInput): void {
  if (!input.range) return;
  const { query, range } = input;
  // Range and limit/offset together: the narrower window wins, as in PostgREST.
  const offset = (query.offset.get('') ?? 0) + range.offset;
  query.offset.set('', offset);
  if (range.limit !== undefined) {
    const limit = query.limit.get('');
    query.limit.set('', limit === undefined ? range.limit : Math.min(limit, range.limit));
  }
}

/** Counts for Content-Range: exact in SQL, planned by EXPLAIN; `estimated` is exact below max rows. */
function totalExpr(prefs: Preferences, countSql: string, maxRows: number | null): string {
  if (prefs.count === 'exact') return `(select count(*) from (${countSql}) as _c)`;
  if (prefs.count === 'estimated' && maxRows !== null) return `(select count(*) from (${countSql} limit ${maxRows + 1}) as _c)`;
  return 'null::int8';
}

/** EXPLAIN must see every parameter typed; ones the filtered set does not use are mentioned in a dead CTE. */
function explainFor(countSql: string, params: unknown[]): { sql: string; params: unknown[] } {
  const used = new Set([...countSql.matchAll(/\$(\d+)\b/g)].map((m) => Number(m[1])));
  const unused = params.map((_, i) => i + 1).filter((n) => !used.has(n));
  const pad = unused.length ? `with _unused as (select ${unused.map((n) => `$${n}::text`).join(', ')}) ` : '';
  return { sql: `explain (format json) ${pad}${countSql}`, params };
}

export function planRead(input: PlanInput, tableName: string, readOnly = true): Statement {
  const table = findTable(input.cache, input.schema, tableName);
  applyRange(input);
  const b = new QueryBuilder(input.cache, input.query, input.maxRows);
  const root = b.level(tableSource(table), '', input.query.select);
  b.assertPathsEmbedded();
  const from = `${ident(table.schema)}.${ident(table.name)}`;
  const countSql = b.countSql(root, from);
  const sql = `with pgrst_source as (${b.levelSql(root, from, undefined, { rootLimit: true })})
select ${totalExpr(input.prefs, countSql, input.maxRows)} as total, (select count(*) from pgrst_source) as page,
${bodyExpr('select * from pgrst_source', input.shape, input.stripNulls)} as body, null::text as location, ${RESPONSE_GUCS}`;
  const statement: Statement = { sql, params: b.params.values, readOnly, offset: input.query.offset.get('') ?? 0 };
  if (input.prefs.count === 'planned' || input.prefs.count === 'estimated') statement.explain = explainFor(countSql, b.params.values);
  return statement;
}

type JsonObject = Record<string, unknown>;

export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'PGRST102', 'Empty or invalid json', (err as Error).message);
  }
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The payload's columns: `columns=` if given, else the keys of the object(s), which must all match. */
function payloadColumns(table: Table, rows: JsonObject[], given: string[] | undefined): string[] {
  let columns: string[];
  if (given) {
    columns = given;
  } else {
    columns = Object.keys(rows[0] ?? {});
    const sorted = [...columns].sort().join('\0');
    if (rows.some((r) => Object.keys(r).sort().join('\0') !== sorted)) throw new ApiError(400, 'PGRST102', 'All object keys must match');
  }
  for (const c of columns) if (!table.columnMap.has(c)) throw columnNotFound(table.name, c);
  return columns;
}

function returning(input: PlanInput): string {
  if (input.prefs.return === 'representation' || input.prefs.return === 'headers-only') return 'returning t0.*';
  return 'returning 1';
}

/** The final select over a write's `pgrst_source`: counts, the representation and a Location. */
function writeResult(input: PlanInput, b: QueryBuilder, table: Table, withLocation: boolean, upsert = false): string {
  const wantsBody = input.prefs.return === 'representation';
  let body = 'null::text';
  if (wantsBody) {
    // Filters already chose the rows in the write; the representation only shapes them.
    const root = b.level(tableSource(table), '', input.query.select, 't0', false);
    body = bodyExpr(b.levelSql(root, 'pgrst_source', undefined, { skipConds: true, noLimit: true }), input.shape, input.stripNulls);
  }
  let location = 'null::text';
  if (withLocation && input.prefs.return === 'headers-only' && table.pk.length) {
    location = `(select row_to_json(_l)::text from (select ${table.pk.map(ident).join(', ')} from pgrst_source limit 1) as _l)`;
  }
  b.assertPathsEmbedded();
  const page = '(select count(*) from pgrst_source)';
  // Read after the write has run to its end (the count scans the whole CTE).
  const inserted = upsert ? `(select nullif(current_setting('pgrst.inserted', true), '')::int from (select count(*) from pgrst_source) as _c)` : 'null::int';
  return `select ${input.prefs.count === 'exact' ? page : 'null::int8'} as total, ${page} as page, ${body} as body, ${location} as location, ${inserted} as inserted, ${RESPONSE_GUCS}`;
}

export function planInsert(input: PlanInput, tableName: string, payload: unknown): Statement {
  const table = findTable(input.cache, input.schema, tableName);
  const rows = Array.isArray(payload) ? payload : [payload];
  if (payload === undefined || !rows.every(isObject)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
  const columns = payloadColumns(table, rows as JsonObject[], input.query.columns);
  const b = new QueryBuilder(input.cache, input.query, input.maxRows);
  const target = `${ident(table.schema)}.${ident(table.name)}`;
  const json = b.params.add(JSON.stringify(rows));
  let select: string;
  if (input.prefs.missing === 'default') {
    // A key missing from a row takes the column default, as PostgREST's missing=default. The
    // defaults are evaluated for every row, as PostgREST's `defaults || row` does (so each row
    // takes a sequence value even when it gives the column).
    const withDefault = columns.filter((c) => (table.columnMap.get(c) as Column).default !== null);
    const exprs = columns.map((c) => (withDefault.includes(c) ? `case when _j.e::jsonb ? ${literal(c)} then _r.${ident(c)} else _d.${ident(c)} end` : `_r.${ident(c)}`));
    const defaults = withDefault.length
      // Correlated with the row (and not flattened) so that it runs once per row, not once in all.
      ? `, lateral (select _j.n as _n, ${withDefault.map((c) => `${(table.columnMap.get(c) as Column).default} as ${ident(c)}`).join(', ')} offset 0) as _d`
      : '';
    select = `select ${exprs.join(', ')} from json_array_elements(${json}::json) with ordinality as _j(e, n), lateral json_populate_record(null::${target}, _j.e) as _r${defaults} order by _j.n`;
  } else {
    select = `select ${columns.map((c) => `_r.${ident(c)}`).join(', ')} from json_populate_recordset(null::${target}, ${json}::json) as _r`;
  }
  const merge = input.prefs.resolution === 'merge-duplicates';
  // As PostgREST: pgrst.inserted counts the rows offered to the insert, minus those the
  // conflict turned into updates, so that an upsert that inserted nothing answers 200.
  if (merge) select = `select * from (${select}) as _m where set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) + 1)::text, true) <> '0'`;
  let sql = `insert into ${target} as t0 ${columns.length ? `(${columns.map(ident).join(', ')}) ` : ''}${select}`;
  if (input.prefs.resolution) {
    const conflict = input.query.onConflict ?? table.pk;
    for (const c of conflict) if (!table.columnMap.has(c)) throw columnNotFound(table.name, c);
    const target = conflict.length ? `(${conflict.map(ident).join(', ')})` : '';
    // Every payload column is set, the conflict columns too (to themselves), as PostgREST
    // does: a payload of only the key still updates the row and returns it.
    sql += !merge || columns.length === 0
      ? ` on conflict ${target} do nothing`
      : ` on conflict ${target} do update set ${columns.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}`
        + ` where set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) - 1)::text, true) <> '-1'`;
  }
  sql = `with pgrst_source as (${sql} ${returning(input)})\n${writeResult(input, b, table, true, merge)}`;
  return { sql, params: b.params.values, readOnly: false, offset: 0 };
}

/** PUT: a single-row upsert addressed by `pk=eq.value` filters on every primary-key column. */
export function planPut(input: PlanInput, tableName: string, payload: unknown): Statement {
  const table = findTable(input.cache, input.schema, tableName);
  if (input.query.limit.size || input.query.offset.size) throw new ApiError(400, 'PGRST114', 'limit/offset querystring parameters are not allowed for PUT');
  const filters = input.query.conditions.get('') ?? [];
  const byColumn = new Map<string, string>();
  for (const f of filters) {
    if (f.kind === 'filter' && f.op === 'eq' && !f.negate && !f.quantifier && f.field.path.length === 0 && typeof f.value === 'string') byColumn.set(f.field.name, f.value);
  }
  if (table.pk.length === 0 || filters.length !== table.pk.length || !table.pk.every((c) => byColumn.has(c))) {
    throw new ApiError(405, 'PGRST105', "Filters must include all and only primary key columns with 'eq' operators");
  }
  const row = Array.isArray(payload) && payload.length === 1 ? payload[0] : payload;
  if (!isObject(row)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
  if (!table.pk.every((c) => Object.hasOwn(row, c) && String(row[c]) === byColumn.get(c))) {
    throw new ApiError(400, 'PGRST115', 'Payload values do not match URL in primary key column(s)');
  }
  // The filters only address the row; the upsert itself is an insert on conflict of the key.
  const query = { ...input.query, conditions: new Map(input.query.conditions), onConflict: table.pk };
  query.conditions.delete('');
  return planInsert({ ...input, query, prefs: { ...input.prefs, resolution: 'merge-duplicates' } }, tableName, row);
}

/** Filters of a write's top level; with limit, the target rows are chosen by ctid (tables only). */
function writeConditions(input: PlanInput, b: QueryBuilder, table: Table): string {
  const limit = input.query.limit.get('');
  const limited = limit !== undefined || !!input.query.offset.get('');
  const root = b.level(tableSource(table), '', [], limited ? 'l0' : 't0');
  if (!limited) return root.conds.length ? ` where ${root.conds.join(' and ')}` : '';
  if (table.kind !== 'table') throw new ApiError(400, 'PGRST127', 'Feature not implemented', 'limit on an update or delete of a view is not supported by the local stack');
  let sub = `select l0.ctid from ${ident(table.schema)}.${ident(table.name)} as l0`;
  if (root.conds.length) sub += ` where ${root.conds.join(' and ')}`;
  if (root.order.length) sub += ` order by ${root.order.join(', ')}`;
  if (limit !== undefined) sub += ` limit ${limit}`;
  if (root.offset) sub += ` offset ${root.offset}`;
  return ` where t0.ctid = any(array(${sub}))`;
}

/** Supabase runs pg-safeupdate: an update or delete without a filter is refused. */
function requireFilter(input: PlanInput, verb: 'UPDATE' | 'DELETE'): void {
  if (!input.query.hasRootFilter && input.query.limit.get('') === undefined) {
    throw new ApiError(400, '21000', `${verb} requires a WHERE clause`);
  }
}

export function planUpdate(input: PlanInput, tableName: string, payload: unknown): Statement {
  const table = findTable(input.cache, input.schema, tableName);
  if (!isObject(payload)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
  requireFilter(input, 'UPDATE');
  const columns = payloadColumns(table, [payload], input.query.columns);
  const b = new QueryBuilder(input.cache, input.query, input.maxRows);
  const target = `${ident(table.schema)}.${ident(table.name)}`;
  const where = writeConditions(input, b, table);
  let write: string;
  if (columns.length === 0) {
    // An empty patch changes nothing; PostgREST answers as if no row matched.
    write = `select t0.* from ${target} as t0${where ? `${where} and false` : ' where false'}`;
  } else {
    const json = b.params.add(JSON.stringify(payload));
    write = `update ${target} as t0 set ${columns.map((c) => `${ident(c)} = _b.${ident(c)}`).join(', ')} from json_populate_record(null::${target}, ${json}::json) as _b${where} ${returning(input)}`;
  }
  return { sql: `with pgrst_source as (${write})\n${writeResult(input, b, table, false)}`, params: b.params.values, readOnly: false, offset: 0 };
}

export function planDelete(input: PlanInput, tableName: string): Statement {
  const table = findTable(input.cache, input.schema, tableName);
  requireFilter(input, 'DELETE');
  const b = new QueryBuilder(input.cache, input.query, input.maxRows);
  const target = `${ident(table.schema)}.${ident(table.name)}`;
  const write = `delete from ${target} as t0${writeConditions(input, b, table)} ${returning(input)}`;
  return { sql: `with pgrst_source as (${write})\n${writeResult(input, b, table, false)}`, params: b.params.values, readOnly: false, offset: 0 };
}

const JSON_TYPES = new Set(['json', 'jsonb']);

/** Chooses the overload PostgREST would call for these argument names. */
/** Types a single unnamed parameter may have for PostgREST to expose the function. */
const UNNAMED_TYPES = new Set(['bytea', 'json', 'jsonb', 'text', 'xml']);

/**
 * PostgREST's schema cache leaves out functions it cannot call: those with more
 * than one unnamed parameter, or one whose first parameter is not
 * bytea/json/jsonb/text/xml (e.g. a computed column's `f(tbl)`).
 */
function callable(r: RoutineInfo): boolean {
  const unnamed = r.args.filter((a) => a.name === '').length;
  return unnamed === 0 || (unnamed === 1 && UNNAMED_TYPES.has(r.args[0].typeName));
}

/** PostgREST's order of overloads: fewer parameters first, then by the parameters' names and types. */
function compareOverloads(x: RoutineInfo, y: RoutineInfo): number {
  if (x.args.length !== y.args.length) return x.args.length - y.args.length;
  for (let i = 0; i < x.args.length; i++) {
    const a = x.args[i];
    const b = y.args[i];
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.type !== b.type) return a.type < b.type ? -1 : 1;
    // ppReq: an optional parameter (False) sorts before a required one.
    if (a.hasDefault !== b.hasDefault) return a.hasDefault ? -1 : 1;
  }
  return 0;
}

function ambiguous(candidates: RoutineInfo[]): ApiError {
  return new ApiError(300, 'PGRST203', `Could not choose the best candidate function between: ${candidates.map((r) => `${r.schema}.${r.name}(${r.args.map((a) => `${a.name} => ${a.type}`).join(', ')})`).join(', ')}`,
    null, 'Try renaming the parameters or the function itself in the database so function overloading can be resolved');
}

/** PostgREST's matchesParams: required parameters all given, nothing given that is not a parameter. */
function matchesParams(r: RoutineInfo, keys: Set<string>): boolean {
  if (r.args.length === 0) return keys.size === 0;
  const required = new Set(r.args.filter((a) => !a.hasDefault).map((a) => a.name));
  const optional = new Set(r.args.filter((a) => a.hasDefault).map((a) => a.name));
  for (const k of keys) if (!required.has(k) && !optional.has(k)) return false;
  for (const k of required) if (!keys.has(k)) return false;
  return true;
}

/** Chooses the overload PostgREST would call for these argument names. */
export function findRoutine(cache: SchemaCache, schema: string, name: string, argNames: string[], opts: { post: boolean; singleObject: boolean; isGet: boolean }): { routine: RoutineInfo; singleJson: boolean } {
  const overloads = (cache.routines.get(qualified(schema, name)) ?? []).filter(callable).sort(compareOverloads);
  // A function of one unnamed parameter is called positionally with the whole body (PostgREST's OnePosParam).
  const chosen = (routine: RoutineInfo) => ({ routine, singleJson: routine.args.length === 1 && routine.args[0].name === '' });
  if (opts.singleObject) {
    const one = overloads.filter((r) => r.args.length === 1 && JSON_TYPES.has(r.args[0].typeName));
    if (one.length === 1) return { routine: one[0], singleJson: true };
  }
  if (opts.isGet) {
    const fits = overloads.filter((r) => {
      const required = r.args.filter((a) => !a.hasDefault).map((a) => a.name);
      return r.args.every((a) => a.name !== '') && required.every((n) => argNames.includes(n));
    });
    if (fits.length === 1) return chosen(fits[0]);
    if (fits.length > 1) {
      // For GET the leftover parameters are filters: the overload using most of them wins.
      const score = (r: RoutineInfo) => r.args.filter((a) => argNames.includes(a.name)).length;
      const best = Math.max(...fits.map(score));
      const top = fits.filter((r) => score(r) === best);
      if (top.length === 1) return chosen(top[0]);
      throw ambiguous(top);
    }
  } else {
    // PostgREST's findProc: overloads whose parameters the keys fit, else the single
    // unnamed json/jsonb parameter functions as the fallback.
    const keys = new Set(argNames);
    const fits = overloads.filter((r) => matchesParams(r, keys));
    const fallback = overloads.filter((r) => !matchesParams(r, keys) && r.args.length === 1 && r.args[0].name === '' && JSON_TYPES.has(r.args[0].typeName));
    if (fits.length === 1) return chosen(fits[0]);
    if (fits.length > 1) throw ambiguous(fits);
    if (fallback.length === 1) return { routine: fallback[0], singleJson: true };
    if (fallback.length > 1) throw ambiguous(fallback);
  }
  const fn = `${schema}.${name}`;
  const sorted = [...argNames].sort();
  const prms = sorted.length ? `(${sorted.join(', ')})` : ' without parameters';
  const det = sorted.length ? ` with parameter${sorted.length > 1 ? 's' : ''} ${sorted.join(', ')}` : ' without parameters';
  // The hint: a similarly named function, or (when the name exists) the closest parameter list.
  const paramList = (names: string[]) => `(${[...names].sort().join(', ')})`;
  const hintTarget = overloads.length === 0
    ? closest([...cache.routines.values()].flat().filter((r) => r.schema === schema && callable(r)).map((r) => r.name), name, 0.75)
    : ((near) => (near ? `${name}${near}` : undefined))(closest(overloads.map((r) => paramList(r.args.map((a) => a.name))), paramList(argNames), 0.33));
  throw new ApiError(404, 'PGRST202', `Could not find the function ${fn}${prms} in the schema cache`,
    `Searched for the function ${fn}${det}${opts.post ? ' or with a single unnamed json/jsonb parameter' : ''}, but no matches were found in the schema cache.`,
    hintTarget ? `Perhaps you meant to call the function ${schema}.${hintTarget}` : null);
}

/** Encodes a call's arguments as the statement's first parameter (the JSON the SQL unpacks). */
function encodeArgs(routine: RoutineInfo, args: unknown, singleJson: boolean): string | null {
  if (singleJson) return JSON.stringify(args ?? {});
  const obj = (args ?? {}) as JsonObject;
  const given = routine.args.filter((a) => Object.hasOwn(obj, a.name));
  return given.length ? JSON.stringify(Object.fromEntries(given.map((a) => [a.name, obj[a.name]]))) : null;
}

export function planRpc(input: PlanInput, routine: RoutineInfo, args: unknown, singleJson: boolean, readOnly: boolean): Statement {
  const statement = planRpcStatement(input, routine, args, singleJson, readOnly);
  if (encodeArgs(routine, args, singleJson) !== null) {
    // The same call shape with other argument values: only the first parameter changes.
    statement.rebind = (next) => [encodeArgs(routine, next, singleJson), ...statement.params.slice(1)];
  }
  return statement;
}

function planRpcStatement(input: PlanInput, routine: RoutineInfo, args: unknown, singleJson: boolean, readOnly: boolean): Statement {
  applyRange(input);
  const b = new QueryBuilder(input.cache, input.query, input.maxRows);
  const fn = `${ident(routine.schema)}.${ident(routine.name)}`;
  let from: string;
  if (singleJson) {
    from = `${fn}(${b.params.add(encodeArgs(routine, args, true))}::${routine.args[0].typeName})`;
  } else {
    const obj = (args ?? {}) as JsonObject;
    const given = routine.args.filter((a) => Object.hasOwn(obj, a.name));
    if (given.length === 0) {
      from = `${fn}()`;
    } else {
      const json = b.params.add(encodeArgs(routine, args, false));
      const record = given.map((a) => `${ident(a.name)} ${a.type}`).join(', ');
      from = `json_to_record(${json}::json) as _args(${record}), lateral ${fn}(${given.map((a) => `${a.variadic ? 'variadic ' : ''}${ident(a.name)} := _args.${ident(a.name)}`).join(', ')})`;
    }
  }
  if (routine.isVoid) {
    return { sql: `select null::int8 as total, count(*) as page, null::text as body, null::text as location, ${RESPONSE_GUCS} from ${from} as t0`, params: b.params.values, readOnly, isVoid: true, offset: 0 };
  }
  if (!routine.returnColumns) {
    // Scalar results: the value itself (or an array of them for set-returning functions).
    const body = routine.returnsSet ? `coalesce(json_agg(_s.t0), '[]'::json)::text` : `coalesce(to_json((array_agg(_s.t0))[1]), 'null'::json)::text`;
    let inner = `select t0 from ${from} as t0`;
    const limit = input.query.limit.get('');
    if (limit !== undefined) inner += ` limit ${limit}`;
    const sql = `with pgrst_source as (${inner})
select ${input.prefs.count === 'exact' ? '(select count(*) from pgrst_source)' : 'null::int8'} as total, (select count(*) from pgrst_source) as page,
(select ${body} from pgrst_source as _s) as body, null::text as location, ${RESPONSE_GUCS}`;
    return { sql, params: b.params.values, readOnly, scalarBody: !routine.returnsSet, offset: 0 };
  }
  const source: Source = {
    name: routine.name,
    columns: new Map(routine.returnColumns.map((c) => [c.name, c])),
    table: routine.returnTable ? input.cache.tables.get(qualified(routine.returnTable.schema, routine.returnTable.name)) ?? null : null,
  };
  const root = b.level(source, '', input.query.select, 't0');
  b.assertPathsEmbedded();
  const countSql = b.countSql(root, from);
  const shape: BodyShape = routine.returnsSet || input.shape === 'csv' ? input.shape : 'object';
  const sql = `with pgrst_source as (${b.levelSql(root, from, undefined, { rootLimit: routine.returnsSet })})
select ${totalExpr(input.prefs, countSql, input.maxRows)} as total, (select count(*) from pgrst_source) as page,
${bodyExpr('select * from pgrst_source', shape, input.stripNulls)} as body, null::text as location, ${RESPONSE_GUCS}`;
  const statement: Statement = { sql, params: b.params.values, readOnly, scalarBody: !routine.returnsSet, offset: input.query.offset.get('') ?? 0 };
  if (input.prefs.count === 'planned' || input.prefs.count === 'estimated') statement.explain = explainFor(countSql, b.params.values);
  return statement;
}
