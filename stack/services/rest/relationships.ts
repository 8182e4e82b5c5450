// How one relation embeds another, found from foreign keys as PostgREST does:
// many-to-one, one-to-many (one-to-one when the referencing columns are unique)
// and many-to-many through a junction table; `!hint` picks among several.
import { ApiError } from './errors.ts';
import { qualified, type ForeignKey, type SchemaCache, type Table } from './schema-cache.ts';

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

/** Every relationship from `source` to the relation (or foreign-key column) called `name`. */
function candidates(cache: SchemaCache, source: Table, name: string): Relationship[] {
  const out: Relationship[] = [];
  const key = qualified(source.schema, name);
  const target = cache.tables.get(key);
  const tableOf = (schema: string, table: string) => cache.tables.get(qualified(schema, table));
  for (const fk of cache.fks) {
    const from = tableOf(fk.schema, fk.table);
    const to = tableOf(fk.refSchema, fk.refTable);
    if (!from || !to) continue;
    // many-to-one: source holds the key; the target is named by table or by the key column.
    if (from === source && (to === target || (fk.columns.length === 1 && fk.columns[0] === name))) {
      out.push({ cardinality: 'many-to-one', constraint: fk.name, target: to, sourceColumns: fk.columns, targetColumns: fk.refColumns, toOne: true });
    }
    if (to === source && from === target) {
      const oneToOne = isUnique(from, fk.columns);
      out.push({ cardinality: oneToOne ? 'one-to-one' : 'one-to-many', constraint: fk.name, target: from, sourceColumns: fk.refColumns, targetColumns: fk.columns, toOne: oneToOne });
    }
  }
  if (target) {
    for (const sourceFk of cache.fks) {
      if (tableOf(sourceFk.refSchema, sourceFk.refTable) !== source) continue;
      const junction = tableOf(sourceFk.schema, sourceFk.table);
      if (!junction || junction === source || junction === target) continue;
      for (const targetFk of cache.fks) {
        if (targetFk === sourceFk || tableOf(targetFk.schema, targetFk.table) !== junction || tableOf(targetFk.refSchema, targetFk.refTable) !== target) continue;
        // PostgREST's junction rule: both foreign keys' columns are part of the junction's primary key.
        if (![...sourceFk.columns, ...targetFk.columns].every((c) => junction.pk.includes(c))) continue;
        out.push({ cardinality: 'many-to-many', constraint: junction.name, target, sourceColumns: sourceFk.refColumns, targetColumns: targetFk.refColumns, junction: { table: junction, sourceFk, targetFk }, toOne: false });
      }
    }
  }
  return out;
}

function matchesHint(rel: Relationship, hint: string): boolean {
  if (rel.junction) return rel.junction.table.name === hint || rel.junction.sourceFk.name === hint || rel.junction.targetFk.name === hint;
  if (rel.constraint === hint) return true;
  // A column hint names a column of the foreign key, on the side that holds it.
  const fkColumns = rel.cardinality === 'many-to-one' ? rel.sourceColumns : rel.targetColumns;
  return fkColumns.length === 1 && fkColumns[0] === hint;
}

// Candidates depend only on the schema cache, so they are computed once per cache.
const memo = new WeakMap<SchemaCache, Map<string, Relationship[]>>();

function cachedCandidates(cache: SchemaCache, source: Table, name: string): Relationship[] {
  let byKey = memo.get(cache);
  if (!byKey) memo.set(cache, (byKey = new Map()));
  const key = `${source.schema}\0${source.name}\0${name}`;
  let found = byKey.get(key);
  if (!found) byKey.set(key, (found = candidates(cache, source, name)));
  return found;
}

export function findRelationship(cache: SchemaCache, source: Table, name: string, hint: string | undefined): Relationship {
  let found = cachedCandidates(cache, source, name);
  if (hint !== undefined) found = found.filter((r) => matchesHint(r, hint));
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new ApiError(400, 'PGRST200', `Could not find a relationship between '${source.name}' and '${name}' in the schema cache`,
      `Searched for a foreign key relationship between '${source.name}' and '${name}'${hint !== undefined ? ` using the hint '${hint}'` : ''} in the schema '${source.schema}', but no matches were found.`);
  }
  const hints = found.map((r) => `'${name}!${r.junction ? r.junction.table.name : r.constraint}'`).join(', ');
  throw new ApiError(300, 'PGRST201', `Could not embed because more than one relationship was found for '${source.name}' and '${name}'`,
    JSON.stringify(found.map((r) => describe(source, r))),
    `Try changing '${name}' to one of the following: ${hints}. Find the desired relationship in the 'details' key.`);
}
