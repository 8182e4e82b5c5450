// What PostgREST keeps in its schema cache: the tables, views and functions of the
// exposed schemas, their columns, keys and foreign keys, and the API roles' settings.
// Loaded at start and reloaded on `NOTIFY pgrst, 'reload schema'`.
import type postgres from 'postgres';
import { withViewKeys } from './view-keys.ts';

export interface Column {
  name: string;
  type: string;
  typeName: string;
  nullable: boolean;
  default: string | null;
}

export interface Table {
  schema: string;
  name: string;
  kind: 'table' | 'view';
  insertable: boolean;
  columns: Column[];
  columnMap: Map<string, Column>;
  pk: string[];
  /** Column sets that are unique (primary key and unique constraints). */
  uniques: string[][];
}

export interface ForeignKey {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

export interface FunctionArg {
  name: string;
  type: string;
  typeName: string;
  hasDefault: boolean;
  variadic: boolean;
}

export interface RoutineInfo {
  schema: string;
  name: string;
  args: FunctionArg[];
  volatility: 'i' | 's' | 'v';
  returnsSet: boolean;
  returnType: string;
  /** Columns of a composite result (table, composite type, OUT/TABLE parameters); null for scalars. */
  returnColumns: Column[] | null;
  /** When the result rows are rows of an exposed table, that table (for embedding). */
  returnTable: { schema: string; name: string } | null;
  isVoid: boolean;
  /** `returns setof … rows 1`: PostgREST treats such a computed relationship as to-one. */
  singleRow: boolean;
}

export interface SchemaCache {
  schemas: string[];
  tables: Map<string, Table>;
  fks: ForeignKey[];
  routines: Map<string, RoutineInfo[]>;
  /** Computed columns: per table (`schema.name`), functions of one row of it returning one value, by name. */
  computed: Map<string, Map<string, RoutineInfo>>;
  /** Computed relationships: per table, functions of one row of it returning rows of a table, by name. */
  computedRelationships: Map<string, Map<string, RoutineInfo>>;
  /** Per role: `[setting, value]` from `alter role … set`, applied per request as PostgREST does. */
  roleSettings: Map<string, Array<[string, string]>>;
  /** Names accepted by `Prefer: timezone=`. */
  timezones: Set<string>;
  /** PostgREST's in-database configuration: the `pgrst.*` settings of the role it logs in as. */
  config: DbConfig;
  loadedAt: number;
}

export type TxEnd = 'commit' | 'commit-allow-override' | 'rollback' | 'rollback-allow-override';

export interface DbConfig {
  /** `pgrst.db_aggregates_enabled` (default false): `count()`, `col.sum()` … in `select`. */
  aggregatesEnabled: boolean;
  /** `pgrst.db_plan_enabled` (default false): `Accept: application/vnd.pgrst.plan`. */
  planEnabled: boolean;
  /** `pgrst.db_tx_end` (default commit): how transactions end and whether `Prefer: tx` may change it. */
  txEnd: TxEnd;
  /** `pgrst.db_max_rows`, overriding `[api] max_rows` when set. */
  maxRows?: number;
}

const TX_ENDS: TxEnd[] = ['commit', 'commit-allow-override', 'rollback', 'rollback-allow-override'];

/** PostgREST's reading of the login role's settings (role-and-database ones win over role-wide ones); bad values keep the default. */
export function dbConfig(settings: Array<[string, string]>): DbConfig {
  const get = (name: string) => settings.filter(([k]) => k === `pgrst.${name}`).at(-1)?.[1];
  const bool = (name: string) => ['true', 'on', 'yes', '1'].includes((get(name) ?? '').trim().toLowerCase());
  const txEnd = get('db_tx_end')?.trim() as TxEnd | undefined;
  const maxRows = Number(get('db_max_rows'));
  return {
    aggregatesEnabled: bool('db_aggregates_enabled'),
    planEnabled: bool('db_plan_enabled'),
    txEnd: txEnd && TX_ENDS.includes(txEnd) ? txEnd : 'commit',
    ...(Number.isInteger(maxRows) && maxRows > 0 ? { maxRows } : {}),
  };
}

export const qualified = (schema: string, name: string) => `${schema}.${name}`;

interface TableRow {
  schema: string;
  name: string;
  relkind: string;
  insertable: boolean;
  columns: Array<{ name: string; type: string; typeName: string; nullable: boolean; default: string | null }>;
  pk: string[] | null;
  uniques: string[][] | null;
}

interface FunctionRow {
  schema: string;
  name: string;
  volatility: 'i' | 's' | 'v';
  retset: boolean;
  rettype: string;
  rettypname: string;
  rettyptype: string;
  retrel: { schema: string; name: string } | null;
  retcols: Array<{ name: string; type: string; typeName: string }> | null;
  argnames: string[] | null;
  argmodes: string[] | null;
  argtypes: string[];
  argtypnames: string[];
  ndefaults: number;
  /** For a one-argument function taking a table's row: that table. */
  argrel: { schema: string; name: string } | null;
  rows: number;
}

export async function loadSchemaCache(sql: postgres.Sql, schemas: string[]): Promise<SchemaCache> {
  const [tables, allFks, functions, roles, basePkRows, timezones, [{ login }]] = await Promise.all([
    sql<TableRow[]>`
      select n.nspname as schema, c.relname as name, c.relkind as relkind,
             (c.relkind in ('r', 'p', 'f') or pg_relation_is_updatable(c.oid, true) & 8 = 8) as insertable,
             coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typeName', t.typname,
                                                         'nullable', not a.attnotnull,
                                                         -- PostgREST's column default: a domain's default, nextval of a
                                                         -- "generated by default as identity" column's sequence, else the column's own.
                                                         'default', case when t.typbasetype <> 0 and d.adbin is null then pg_get_expr(t.typdefaultbin, 0)
                                                                         when a.attidentity = 'd' then format('nextval(%L)', seq.objid::regclass)
                                                                         when a.attgenerated = 's' then null
                                                                         else pg_get_expr(d.adbin, d.adrelid) end) order by a.attnum)
                       from pg_attribute a join pg_type t on t.oid = a.atttypid
                       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                       left join pg_depend seq on seq.refobjid = a.attrelid and seq.refobjsubid = a.attnum and seq.deptype = 'i' and seq.classid = 'pg_class'::regclass
                       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]') as columns,
             (select array_agg(a.attname order by k.ord) from pg_constraint con join lateral unnest(con.conkey) with ordinality k(num, ord) on true
                join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num
              where con.conrelid = c.oid and con.contype = 'p') as pk,
             (select json_agg(u.cols) from (select array_agg(a.attname order by k.ord) as cols
                from pg_index i join lateral unnest(i.indkey::int2[]) with ordinality k(num, ord) on true
                join pg_attribute a on a.attnum = k.num
                where i.indrelid = c.oid and a.attrelid = c.oid and i.indisunique and i.indpred is null group by i.indexrelid) u) as uniques
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any(${schemas}) and c.relkind in ('r', 'v', 'm', 'f', 'p') and not c.relispartition`,
    sql<ForeignKey[]>`
      select con.conname as name, n1.nspname as schema, c1.relname as table,
             (select array_agg(a.attname order by k.ord) from unnest(con.conkey) with ordinality k(num, ord)
                join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num) as columns,
             n2.nspname as "refSchema", c2.relname as "refTable",
             (select array_agg(a.attname order by k.ord) from unnest(con.confkey) with ordinality k(num, ord)
                join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num) as "refColumns"
      from pg_constraint con
      join pg_class c1 on c1.oid = con.conrelid join pg_namespace n1 on n1.oid = c1.relnamespace
      join pg_class c2 on c2.oid = con.confrelid join pg_namespace n2 on n2.oid = c2.relnamespace
      where con.contype = 'f' and con.conparentid = 0 and n1.nspname not in ('pg_catalog', 'information_schema') and n2.nspname not in ('pg_catalog', 'information_schema')
      order by con.conrelid, con.conname`,
    sql<FunctionRow[]>`
      select n.nspname as schema, p.proname as name, p.provolatile as volatility, p.proretset as retset,
             format_type(p.prorettype, null) as rettype, rt.typname as rettypname, rt.typtype as rettyptype,
             (select json_build_object('schema', rn.nspname, 'name', rc.relname) from pg_class rc join pg_namespace rn on rn.oid = rc.relnamespace
              where rc.oid = rt.typrelid) as retrel,
             (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typeName', at.typname) order by a.attnum)
              from pg_attribute a join pg_type at on at.oid = a.atttypid
              where a.attrelid = rt.typrelid and a.attnum > 0 and not a.attisdropped) as retcols,
             p.proargnames as argnames, p.proargmodes::text[] as argmodes,
             array(select format_type(u.t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(t, o) order by u.o) as argtypes,
             array(select ty.typname::text from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(t, o) join pg_type ty on ty.oid = u.t order by u.o) as argtypnames,
             p.pronargdefaults as ndefaults, p.prorows::float8 as rows,
             (select json_build_object('schema', an.nspname, 'name', ac.relname) from pg_type at join pg_class ac on ac.oid = at.typrelid
                join pg_namespace an on an.oid = ac.relnamespace where p.pronargs = 1 and at.oid = p.proargtypes[0]) as argrel
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_type rt on rt.oid = p.prorettype
      where n.nspname = any(${schemas}) and p.prokind = 'f'`,
    sql<Array<{ role: string; config: string[] }>>`
      select r.rolname as role, s.setconfig as config from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
      where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
      order by s.setdatabase`,
    // Primary keys of every user table, so views over tables of private schemas get keys too.
    sql<Array<{ schema: string; table: string; pk: string[] }>>`
      select n.nspname as schema, c.relname as table,
             (select array_agg(a.attname order by k.ord) from unnest(con.conkey) with ordinality k(num, ord)
                join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num) as pk
      from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      where con.contype = 'p' and n.nspname not in ('pg_catalog', 'information_schema')`,
    sql<Array<{ name: string }>>`select name from pg_timezone_names`,
    sql<Array<{ login: string }>>`select current_user as login`,
  ]);

  const tableMap = new Map<string, Table>();
  for (const row of tables) {
    const columns: Column[] = row.columns.map((c) => ({ name: c.name, type: c.type, typeName: c.typeName, nullable: c.nullable, default: c.default }));
    tableMap.set(qualified(row.schema, row.name), {
      schema: row.schema,
      name: row.name,
      kind: row.relkind === 'v' || row.relkind === 'm' ? 'view' : 'table',
      insertable: row.insertable,
      columns,
      columnMap: new Map(columns.map((c) => [c.name, c])),
      pk: row.pk ?? [],
      uniques: row.uniques ?? [],
    });
  }

  const routines = new Map<string, RoutineInfo[]>();
  const computed = new Map<string, Map<string, RoutineInfo>>();
  const computedRelationships = new Map<string, Map<string, RoutineInfo>>();
  for (const f of functions) {
    const routine = toRoutine(f);
    if (!routine) continue;
    if (f.argrel && !routine.returnsSet && !routine.returnColumns && !routine.isVoid) {
      const key = qualified(f.argrel.schema, f.argrel.name);
      if (!computed.has(key)) computed.set(key, new Map());
      computed.get(key)!.set(f.name, routine);
    }
    if (f.argrel && routine.returnTable) {
      const key = qualified(f.argrel.schema, f.argrel.name);
      if (!computedRelationships.has(key)) computedRelationships.set(key, new Map());
      computedRelationships.get(key)!.set(f.name, routine);
    }
    const key = qualified(f.schema, f.name);
    routines.set(key, [...(routines.get(key) ?? []), routine]);
  }

  const roleSettings = new Map<string, Array<[string, string]>>();
  for (const { role, config } of roles) {
    const entries = roleSettings.get(role) ?? [];
    for (const item of config ?? []) {
      const eq = item.indexOf('=');
      if (eq > 0) entries.push([item.slice(0, eq), item.slice(eq + 1)]);
    }
    roleSettings.set(role, entries);
  }

  const exposedTables = new Set([...tableMap.values()].filter((t) => t.kind === 'table').map((t) => qualified(t.schema, t.name)));
  const viewKeys = await withViewKeys(sql, schemas, allFks.filter((fk) => fk.columns && fk.refColumns), exposedTables, new Map(basePkRows.map((r) => [qualified(r.schema, r.table), r.pk])));
  for (const [name, pk] of viewKeys.pks) {
    const view = tableMap.get(name);
    if (view && view.kind === 'view' && view.pk.length === 0) view.pk = pk;
  }
  return { schemas, tables: tableMap, fks: viewKeys.fks.filter((fk) => tableMap.has(qualified(fk.schema, fk.table)) && tableMap.has(qualified(fk.refSchema, fk.refTable))), routines, computed, computedRelationships, roleSettings, timezones: new Set(timezones.map((t) => t.name)), config: dbConfig(roleSettings.get(login) ?? []), loadedAt: Date.now() };
}

function toRoutine(f: FunctionRow): RoutineInfo | null {
  const modes = f.argmodes ?? f.argtypes.map(() => 'i');
  const names = f.argnames ?? [];
  const inputs: FunctionArg[] = [];
  const outputs: Column[] = [];
  modes.forEach((mode, i) => {
    const arg = { name: names[i] ?? '', type: f.argtypes[i], typeName: f.argtypnames[i] };
    if (mode === 'i' || mode === 'b' || mode === 'v') inputs.push({ ...arg, hasDefault: false, variadic: mode === 'v' });
    if (mode === 'o' || mode === 'b' || mode === 't') outputs.push({ name: arg.name, type: arg.type, typeName: arg.typeName, nullable: true, default: null });
  });
  for (let i = inputs.length - f.ndefaults; i < inputs.length; i++) if (i >= 0) inputs[i].hasDefault = true;
  const isVoid = f.rettype === 'void';
  let returnColumns: Column[] | null = null;
  let returnTable: RoutineInfo['returnTable'] = null;
  if (f.rettyptype === 'c' && f.retcols) {
    returnColumns = f.retcols.map((c) => ({ ...c, nullable: true, default: null }));
    returnTable = f.retrel;
  } else if (f.rettypname === 'record') {
    // An anonymous record has no columns to select from; PostgREST leaves such functions out too.
    if (outputs.length === 0) return null;
    returnColumns = outputs;
  } else if (f.rettyptype === 'p' && !isVoid) {
    return null;
  }
  return {
    schema: f.schema,
    name: f.name,
    args: inputs,
    volatility: f.volatility,
    returnsSet: f.retset,
    returnType: f.rettype,
    returnColumns,
    returnTable,
    isVoid,
    singleRow: !f.retset || Number(f.rows) === 1,
  };
}

/** Keeps the cache fresh: loads it now and again on each `NOTIFY pgrst` ('reload schema', 'reload config' or empty). */
export class SchemaCacheHolder {
  private current: SchemaCache | null = null;
  private loading: Promise<SchemaCache> | null = null;
  private again = false;

  constructor(private readonly sql: postgres.Sql, private readonly schemas: string[], private readonly log: (line: string) => void) {}

  async start(): Promise<void> {
    await this.reload();
    let listening = false;
    const reload = () => void this.reload().catch((err: Error) => this.log(`rest: schema cache reload failed: ${err.message}`));
    await this.sql.listen(
      'pgrst',
      (payload) => {
        // 'reload config' re-reads the in-database configuration, which lives in the cache.
        if (payload === '' || payload === 'reload schema' || payload === 'reload config') reload();
      },
      // The client re-listens after a lost connection (e.g. `db:reset` dropped the database):
      // notifications may have been missed meanwhile, so reload then too, as PostgREST does.
      () => {
        if (listening) reload();
        listening = true;
      },
    );
  }

  get(): SchemaCache | null {
    return this.current;
  }

  /** Reloads; a reload requested while one runs triggers one more afterwards, so no change is missed. */
  reload(): Promise<SchemaCache> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        let cache: SchemaCache;
        do {
          this.again = false;
          cache = await loadSchemaCache(this.sql, this.schemas);
          this.current = cache;
        } while (this.again);
        return cache;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
