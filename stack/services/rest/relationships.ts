// How one relation embeds another, found from foreign keys as PostgREST does:
// many-to-one, one-to-many (one-to-one when the referencing columns are unique)
// and many-to-many through a junction table; `!hint` picks among several.
import { ApiError } from './errors.ts';
import { fuzzyMatches } from './fuzzy.ts';
import { qualified, type ForeignKey, type RoutineInfo, type SchemaCache, type Table } from './schema-cache.ts';

export interface Relationship {
  cardinality: 'many-to-one' | 'one-to-many' | 'one-to-one' | 'many-to-many';
  constraint: string;
  target: Table;
  /** Columns on the embedding side and the matching columns on the target (direct relationships). */
  sourceColumns: string[];
  targetColumns: string[];
  junction?: {
    table: Table;
    /** Junction columns referencing the source, and the source columns they reference. */
    sourceFk: ForeignKey;
    targetFk: ForeignKey;
  };
  toOne: boolean;
  /** A computed relationship: a function of the parent row returning rows of the target. */
  fn?: RoutineInfo;
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

function isUnique(table: Table, columns: string[]): boolean {
  return (table.pk.length > 0 && same(table.pk, columns)) || table.uniques.some((u) => same(u, columns));
}

function describe(source: Table, rel: Relationship): Record<string, string> {
  const fmt = (cols: string[]) => `(${cols.join(', ')})`;
  if (rel.junction) {
    const j = rel.junction;
    return {
      cardinality: rel.cardinality,
      embedding: `${source.name} with ${rel.target.name}`,
      relationship: `${j.table.name} using ${j.sourceFk.name}${fmt(j.sourceFk.columns)} and ${j.targetFk.name}${fmt(j.targetFk.columns)}`,
    };
  }
  return {
    cardinality: rel.cardinality,
    embedding: `${source.name} with ${rel.target.name}`,
    relationship: `${rel.constraint} using ${source.name}${fmt(rel.sourceColumns)} and ${rel.target.name}${fmt(rel.targetColumns)}`,
  };
}

/** Every relationship of `source`: by its foreign keys, by foreign keys pointing at it, and through junctions. */
function relationshipsOf(cache: SchemaCache, source: Table): Relationship[] {
  const out: Relationship[] = [];
  const tableOf = (schema: string, table: string) => cache.tables.get(qualified(schema, table));
  for (const fk of cache.fks) {
    const from = tableOf(fk.schema, fk.table);
    const to = tableOf(fk.refSchema, fk.refTable);
    if (!from || !to) continue;
    if (from === source) {
      out.push({ cardinality: isUnique(from, fk.columns) ? 'one-to-one' : 'many-to-one', constraint: fk.name, target: to, sourceColumns: fk.columns, targetColumns: fk.refColumns, toOne: true });
    }
    if (to === source) {
      const oneToOne = isUnique(from, fk.columns);
      out.push({ cardinality: oneToOne ? 'one-to-one' : 'one-to-many', constraint: fk.name, target: from, sourceColumns: fk.refColumns, targetColumns: fk.columns, toOne: oneToOne });
    }
  }
  for (const sourceFk of cache.fks) {
    if (tableOf(sourceFk.refSchema, sourceFk.refTable) !== source) continue;
    const junction = tableOf(sourceFk.schema, sourceFk.table);
    if (!junction) continue;
    for (const targetFk of cache.fks) {
      if (targetFk === sourceFk || tableOf(targetFk.schema, targetFk.table) !== junction) continue;
      const target = tableOf(targetFk.refSchema, targetFk.refTable);
      if (!target || target === junction) continue;
      // PostgREST's junction rule: both foreign keys' columns are part of the junction's primary key.
      if (![...sourceFk.columns, ...targetFk.columns].every((c) => junction.pk.includes(c))) continue;
      out.push({ cardinality: 'many-to-many', constraint: junction.name, target, sourceColumns: sourceFk.refColumns, targetColumns: targetFk.refColumns, junction: { table: junction, sourceFk, targetFk }, toOne: false });
    }
  }
  for (const fn of cache.computedRelationships.get(qualified(source.schema, source.name))?.values() ?? []) {
    const target = fn.returnTable ? tableOf(fn.returnTable.schema, fn.returnTable.name) : undefined;
    if (!target) continue;
    out.push({ cardinality: fn.singleRow ? 'many-to-one' : 'one-to-many', constraint: fn.name, target, sourceColumns: [], targetColumns: [], toOne: fn.singleRow, fn });
  }
  return out;
}

const singleColumn = (cols: string[]) => (cols.length === 1 ? cols[0] : undefined);

/**
 * PostgREST's choice among the relationships: the target names the related table (or, without a
 * hint, a constraint or a foreign-key column); a hint names a constraint, a column on either side
 * or a junction. In a self-relationship the table name means one-to-many (children) and the
 * foreign-key column means many-to-one (parent); a hint there names the children's key column.
 */
function matches(rel: Relationship, source: Table, target: string, hint: string | undefined): boolean {
  // A computed relationship is named by its function.
  if (rel.fn) return rel.fn.name === target;
  const direct = !rel.junction;
  const fkCol = direct ? singleColumn(rel.sourceColumns) : undefined;
  const refCol = direct ? singleColumn(rel.targetColumns) : undefined;
  const isTarget = rel.target.name === target && rel.target.schema === source.schema;
  if (rel.target === source) {
    if (hint === undefined) return (isTarget && rel.cardinality === 'one-to-many') || (fkCol === target && rel.cardinality === 'many-to-one');
    return isTarget && rel.cardinality === 'one-to-many' && refCol === hint;
  }
  if (hint === undefined) {
    const viaKey = rel.target.kind === 'table' && direct && (rel.constraint === target || fkCol === target);
    return isTarget || viaKey;
  }
  return isTarget && ((direct && (rel.constraint === hint || fkCol === hint || refCol === hint)) || (!direct && rel.junction!.table.name === hint));
}

// Relationships depend only on the schema cache, so they are computed once per cache and table.
const memo = new WeakMap<SchemaCache, Map<Table, Relationship[]>>();

function cachedRelationships(cache: SchemaCache, source: Table): Relationship[] {
  let byTable = memo.get(cache);
  if (!byTable) memo.set(cache, (byTable = new Map()));
  let rels = byTable.get(source);
  if (!rels) byTable.set(source, (rels = relationshipsOf(cache, source)));
  return rels;
}

export function findRelationship(cache: SchemaCache, source: Table, name: string, hint: string | undefined): Relationship {
  const found = cachedRelationships(cache, source).filter((r) => matches(r, source, name, hint));
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    // PostgREST suggests a related table close to the name, unless the name is one of them (then the hint was wrong).
    const [best] = fuzzyMatches(cachedRelationships(cache, source).map((r) => r.target.name), name);
    // Data.FuzzySet's getOne: a score of at least 0.33.
    const suggestion = best && best[0] < 1 && best[0] >= 0.33 ? `Perhaps you meant '${best[1]}' instead of '${name}'.` : null;
    throw new ApiError(400, 'PGRST200', `Could not find a relationship between '${source.name}' and '${name}' in the schema cache`,
      `Searched for a foreign key relationship between '${source.name}' and '${name}'${hint !== undefined ? ` using the hint '${hint}'` : ''} in the schema '${source.schema}', but no matches were found.`,
      suggestion);
  }
  const hints = found.map((r) => `'${name}!${r.junction ? r.junction.table.name : r.constraint}'`).join(', ');
  throw new ApiError(300, 'PGRST201', `Could not embed because more than one relationship was found for '${source.name}' and '${name}'`,
    found.map((r) => describe(source, r)),
    `Try changing '${name}' to one of the following: ${hints}. Find the desired relationship in the 'details' key.`);
}
