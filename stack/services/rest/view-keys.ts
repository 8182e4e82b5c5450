// Foreign keys and primary keys for views, as PostgREST derives them: each view
// column that is a plain reference to a table column (the `resorigtbl`/`resorigcol`
// of the view's rewrite rule) inherits that column's keys, so views embed like tables.
import type postgres from 'postgres';
import type { ForeignKey } from './schema-cache.ts';

interface ViewRow {
  schema: string;
  name: string;
  action: string;
}

interface OriginRow {
  oid: number;
  schema: string;
  table: string;
  attnum: number;
  attname: string;
}

/** Base column of each view column: view `schema.name` → view column → `schema.table` and column. */
type Origins = Map<string, Map<string, { table: string; column: string }>>;

// A target-list entry of the rule's query tree: `:resno 1 :resname id … :resorigtbl 16384 :resorigcol 1`.
const TARGET_ENTRY = /:resno (\d+) :resname ((?:\\.|[^\s\\])+) :ressortgroupref \d+ :resorigtbl (\d+) :resorigcol (\d+) :resjunk false/g;

async function viewOrigins(sql: postgres.Sql, schemas: string[]): Promise<Origins> {
  const views = await sql<ViewRow[]>`
    select n.nspname as schema, c.relname as name, r.ev_action::text as action
    from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_rewrite r on r.ev_class = c.oid and r.rulename = '_RETURN'
    where n.nspname = any(${schemas}) and c.relkind in ('v', 'm')`;
  const parsed = views.map((v) => ({ view: `${v.schema}.${v.name}`, entries: [...v.action.matchAll(TARGET_ENTRY)].map((m) => ({ name: m[2].replace(/\\(.)/g, '$1'), oid: Number(m[3]), attnum: Number(m[4]) })) }));
  const oids = [...new Set(parsed.flatMap((p) => p.entries.map((e) => e.oid)).filter((o) => o > 0))];
  const origins: Origins = new Map();
  if (oids.length === 0) return origins;
  const columns = await sql<OriginRow[]>`
    select a.attrelid::int as oid, n.nspname as schema, c.relname as table, a.attnum::int as attnum, a.attname
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where a.attrelid = any(${oids}::oid[]) and a.attnum > 0 and not a.attisdropped`;
  const byKey = new Map(columns.map((c) => [`${c.oid}:${c.attnum}`, c]));
  for (const { view, entries } of parsed) {
    const map = new Map<string, { table: string; column: string }>();
    for (const e of entries) {
      const col = byKey.get(`${e.oid}:${e.attnum}`);
      // Nested queries repeat entries; the first mapping of a view column wins.
      if (col && !map.has(e.name)) map.set(e.name, { table: `${col.schema}.${col.table}`, column: col.attname });
    }
    origins.set(view, map);
  }
  return origins;
}

/** The relations that expose all of `columns` of `table`: the table itself when exposed, and views over it. */
function exposures(origins: Origins, exposedTables: Set<string>, table: string, columns: string[]): Array<{ relation: string; columns: string[] }> {
  const out: Array<{ relation: string; columns: string[] }> = [];
  if (exposedTables.has(table)) out.push({ relation: table, columns });
  for (const [view, map] of origins) {
    const viewCols = columns.map((c) => [...map].find(([, o]) => o.table === table && o.column === c)?.[0]);
    if (viewCols.every((c): c is string => c !== undefined)) out.push({ relation: view, columns: viewCols });
  }
  return out;
}

export interface ViewKeys {
  fks: ForeignKey[];
  /** Primary keys of views whose columns expose a table's whole primary key. */
  pks: Map<string, string[]>;
}

/**
 * Foreign keys between exposed relations, views included. `allFks` covers every user schema,
 * so a view in an exposed schema over tables in a private one still embeds.
 */
export async function withViewKeys(sql: postgres.Sql, schemas: string[], allFks: ForeignKey[], exposedTables: Set<string>, basePks: Map<string, string[]>): Promise<ViewKeys> {
  const origins = await viewOrigins(sql, schemas);
  const fks: ForeignKey[] = [];
  for (const fk of allFks) {
    const sources = exposures(origins, exposedTables, `${fk.schema}.${fk.table}`, fk.columns);
    const targets = exposures(origins, exposedTables, `${fk.refSchema}.${fk.refTable}`, fk.refColumns);
    for (const s of sources) {
      for (const t of targets) {
        const [schema, table] = splitName(s.relation);
        const [refSchema, refTable] = splitName(t.relation);
        fks.push({ name: fk.name, schema, table, columns: s.columns, refSchema, refTable, refColumns: t.columns });
      }
    }
  }
  const pks = new Map<string, string[]>();
  for (const [table, pk] of basePks) {
    if (pk.length === 0) continue;
    for (const e of exposures(origins, new Set(), table, pk)) pks.set(e.relation, e.columns);
  }
  return { fks, pks };
}

function splitName(qualifiedName: string): [string, string] {
  const dot = qualifiedName.indexOf('.');
  return [qualifiedName.slice(0, dot), qualifiedName.slice(dot + 1)];
}
