// postgres_changes: matches each committed change against the subscriptions
// (filters evaluated by Postgres, as walrus does), checks row visibility as each
// subscriber by primary key (RLS, many subscribers and rows per query), and
// hands each channel one message per column selection with the ids of its
// matching subscriptions. Deletes are not RLS-checked (the row is gone), as on
// Supabase; their old record then carries only the primary key.
import type postgres from 'postgres';
import { filterSql, filtersToLog, toJsonValue, type Filter } from './filters.ts';
import type { Change, Relation, Transaction } from './replication.ts';

export interface Subscriber {
  /** Role and claims the visibility check runs as; they change on token refresh. */
  role(): string;
  claims(): Record<string, unknown>;
  deliver(ids: number[], data: ChangeData): void;
}

export interface Subscription {
  id: number;
  event: string;
  schema: string;
  table: string | null;
  /** ANDed, as Realtime applies comma-joined filters. */
  filters: Filter[];
  /** Columns the record is limited to (the primary key is always kept); null for all. */
  select: string[] | null;
  subscriber: Subscriber;
}

/** What walrus needs to know of a table beyond the replication relation. */
interface TableMeta {
  primaryKey: string[];
  rls: boolean;
}

export interface ChangeData {
  schema: string;
  table: string;
  commit_timestamp: string;
  type: Change['type'];
  columns: Array<{ name: string; type: string }>;
  record?: Record<string, unknown>;
  old_record?: Record<string, unknown>;
  errors: string[] | null;
}

interface Pending {
  change: Change;
  commitTime: Date;
  subs: Subscription[];
}

export interface ChangeDispatcherOptions {
  sql: postgres.Sql;
  /** Upper bound for one visibility call; a subscriber slower than this is checked on its own. */
  checkTimeoutMs: number;
  log: (line: string) => void;
}

/** Claim groups and changes per visibility call. */
const GROUPS_PER_CALL = 100;
const CHANGES_PER_CALL = 1000;
/** Filter expressions per evaluation query. */
const FILTERS_PER_CALL = 1000;

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class ChangeDispatcher {
  private byTable = new Map<string, Set<Subscription>>();
  private typeNames = new Map<number, string>();
  /** Type oid → the name to cast to in SQL (format_type: schema-qualified when needed). */
  private typeSql = new Map<number, string>();
  /** Per replication relation (a new one arrives after DDL): primary key and RLS flag. */
  private tableMeta = new WeakMap<Relation, TableMeta>();
  /** Per relation and role, the columns the role may select (as of the batch being dispatched). */
  private selectable = new WeakMap<Relation, Map<string, Set<string>>>();
  /** Claim groups whose check failed or timed out: checked apart so they only delay themselves. */
  private isolated = new Map<string, Promise<void>>();

  constructor(private opts: ChangeDispatcherOptions) {}

  get size(): number {
    let n = 0;
    for (const set of this.byTable.values()) n += set.size;
    return n;
  }

  async loadTypes(): Promise<void> {
    const rows = await this.opts.sql`select oid::int as oid, typname, format_type(oid, null) as sqlname from pg_type`;
    for (const r of rows) {
      this.typeNames.set(r.oid, r.typname);
      this.typeSql.set(r.oid, r.sqlname);
    }
  }

  /**
   * Checks a binding as Realtime's subscription insert does: the tables it
   * names must be in the `supabase_realtime` publication, and its filters and
   * `select` columns must fit each table for the subscriber's role (columns it
   * may select, values of the column's type, operators the type has). Throws
   * Realtime's message otherwise.
   */
  async validate(sub: Omit<Subscription, 'id' | 'subscriber'>, role: string): Promise<void> {
    const table = sub.table ?? '*';
    const params = `event: ${sub.event}, schema: ${sub.schema}, table: ${table}, filters: ${filtersToLog(sub.filters)}, select: ${sub.select ? `[${sub.select.map((c) => JSON.stringify(c)).join(', ')}]` : 'nil'}`;
    const entities = await this.opts.sql`
      select format('%I.%I', schemaname, tablename) as entity from pg_publication_tables
      where pubname = 'supabase_realtime'
        and schemaname like (case ${sub.schema}::text when '*' then '%' else ${sub.schema}::text end) escape ''
        and tablename like (case ${table}::text when '*' then '%' else ${table}::text end) escape ''`;
    if (!entities.length) throw new Error(`Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [${params}]`);
    const filters = sub.filters.map((f) => ({ column_name: f.column, op: f.op, value: f.value }));
    try {
      for (const { entity } of entities) {
        await this.opts.sql`select realtime.local_stack_check_subscription(${entity}::regclass, ${role}, ${this.opts.sql.json(filters)}, ${sub.select})`;
      }
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (!e.code) throw err;
      throw new Error(`Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [${params}]. Exception: ERROR ${e.code} (${conditionName(e.code)}) ${e.message}`);
    }
  }

  add(sub: Subscription): void {
    const key = `${sub.schema}.${sub.table ?? '*'}`;
    let set = this.byTable.get(key);
    if (!set) this.byTable.set(key, (set = new Set()));
    set.add(sub);
  }

  remove(sub: Subscription): void {
    const key = `${sub.schema}.${sub.table ?? '*'}`;
    const set = this.byTable.get(key);
    set?.delete(sub);
    if (set?.size === 0) this.byTable.delete(key);
  }

  private typeName(oid: number): string {
    return this.typeNames.get(oid) ?? 'text';
  }

  /** Subscriptions whose table and event fit the change (filters not yet applied). */
  private listening(change: Change): Subscription[] {
    const { schema, table } = change.relation;
    const out: Subscription[] = [];
    for (const key of [`${schema}.${table}`, `${schema}.*`]) {
      for (const sub of this.byTable.get(key) ?? []) if (sub.event === '*' || sub.event === change.type) out.push(sub);
    }
    return out;
  }

  async dispatch(txs: Transaction[]): Promise<void> {
    if (this.byTable.size === 0) return;
    const listening: Array<{ change: Change; commitTime: Date; subs: Subscription[] }> = [];
    for (const tx of txs) {
      for (const change of tx.changes) {
        const subs = this.listening(change);
        if (subs.length) listening.push({ change, commitTime: tx.commitTime, subs });
      }
    }
    if (!listening.length) return;
    // Types created after start (a new enum, say) are named once they appear.
    if (listening.some((p) => p.change.relation.columns.some((c) => !this.typeNames.has(c.typeOid)))) await this.loadTypes();
    const passes = await this.evaluateFilters(listening);
    const pending: Pending[] = [];
    for (const p of listening) {
      const subs = p.subs.filter((s) => passes(p.change, s));
      if (subs.length) pending.push({ ...p, subs });
    }
    if (!pending.length) return;
    await this.loadTableMeta(pending.map((p) => p.change.relation));
    await this.loadPrivileges(pending);
    const verdicts = await this.checkVisibility(pending);
    for (const [i, p] of pending.entries()) {
      // One message per subscriber and column selection, as walrus groups them.
      const deliveries = new Deliveries();
      for (const sub of p.subs) {
        const group = groupKey(sub.subscriber);
        // Isolated groups get everything through their own chain, to keep their order.
        if (this.isolated.has(group)) continue;
        const verdict = p.change.type === 'DELETE' ? true : verdicts.get(group)?.(i) ?? false;
        if (verdict === false) continue;
        deliveries.add(sub, typeof verdict === 'string' ? verdict : null);
      }
      const payloads = new Map<string, ChangeData>();
      deliveries.send((select, role) => {
        const key = `${role}\u0000${select?.join(',') ?? ''}`;
        let data = payloads.get(key);
        if (!data) payloads.set(key, (data = this.payload(p, select, role)));
        return data;
      });
    }
    this.checkIsolated(pending);
  }

  /**
   * Evaluates every filter of the listening subscriptions on the changed rows
   * in one query per batch, with Postgres's types and operators (collations,
   * numerics, timestamps, enums, regular expressions behave as in walrus). A
   * filter on a column the row does not carry, or whose result is NULL, fails.
   */
  private async evaluateFilters(listening: Array<{ change: Change; subs: Subscription[] }>): Promise<(change: Change, sub: Subscription) => boolean> {
    const exprs: Array<{ sql: string; params: Array<string | null> }> = [];
    const index = new Map<string, number>();
    const slot = (change: Change, f: Filter): number | false => {
      // walrus filters inserts and updates on the new row, deletes on the old one.
      const row = change.type === 'DELETE' ? change.old : change.record;
      const column = change.relation.columns.find((c) => c.name === f.column);
      if (!row || !column || !(f.column in row)) return false;
      const value = row[f.column];
      const key = JSON.stringify([column.typeOid, f.op, f.negate, f.value, value]);
      let i = index.get(key);
      if (i === undefined) {
        const type = this.typeSql.get(column.typeOid) ?? 'text';
        const params: Array<string | null> = f.op === 'is' ? [value] : [value, f.value];
        index.set(key, (i = exprs.length));
        exprs.push({ sql: filterSql(f, type, '$V', '$F'), params });
      }
      return i;
    };
    const needs = new Map<Change, Map<Subscription, Array<number | false>>>();
    for (const { change, subs } of listening) {
      for (const sub of subs) {
        if (!sub.filters.length) continue;
        let m = needs.get(change);
        if (!m) needs.set(change, (m = new Map()));
        m.set(sub, sub.filters.map((f) => slot(change, f)));
      }
    }
    const results: boolean[] = new Array(exprs.length).fill(false);
    for (let c = 0; c < exprs.length; c += FILTERS_PER_CALL) {
      const part = exprs.slice(c, c + FILTERS_PER_CALL);
      for (const [k, ok] of (await this.evaluate(part)).entries()) results[c + k] = ok;
    }
    return (change, sub) => {
      if (!sub.filters.length) return true;
      return needs.get(change)?.get(sub)?.every((i) => i !== false && results[i]) ?? false;
    };
  }

  private async evaluate(exprs: Array<{ sql: string; params: Array<string | null> }>): Promise<boolean[]> {
    if (!exprs.length) return [];
    const build = (list: typeof exprs) => {
      const params: Array<string | null> = [];
      const sqls = list.map((e) => {
        let j = 0;
        return e.sql.replace(/\$[VF]/g, () => {
          params.push(e.params[j++]);
          return `$${params.length}`;
        });
      });
      return { text: `select array[${sqls.map((x) => `coalesce(${x}, false)`).join(', ')}]::bool[] as r`, params };
    };
    // Bounded like a visibility check: a pathological pattern must not stall the feed.
    const run = (list: typeof exprs) =>
      this.opts.sql.begin(async (tx) => {
        const { text, params } = build(list);
        await tx`select set_config('statement_timeout', ${String(this.opts.checkTimeoutMs)}, true)`;
        const [row] = await tx.unsafe(text, params);
        return row.r as boolean[];
      }) as Promise<boolean[]>;
    try {
      return await run(exprs);
    } catch {
      // One bad value or slow pattern fails only its own filter.
      return Promise.all(exprs.map((e) => run([e]).then(([ok]) => ok, () => false)));
    }
  }

  /** Primary key and RLS flag of each relation not seen yet (walrus reads them from the catalog too). */
  private async loadTableMeta(relations: Relation[]): Promise<void> {
    const missing = [...new Set(relations.filter((r) => !this.tableMeta.has(r)))];
    if (!missing.length) return;
    const rows = await this.opts.sql`
      select c.oid::int as oid, c.relrowsecurity as rls,
             coalesce((select array_agg(a.attname::text order by k.n)
                       from pg_index i, unnest(i.indkey) with ordinality k(attnum, n), pg_attribute a
                       where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum), '{}') as pk
      from pg_class c where c.oid = any(${missing.map((r) => r.id)}::oid[])`;
    const byOid = new Map(rows.map((r) => [r.oid as number, { primaryKey: r.pk as string[], rls: r.rls as boolean }]));
    for (const r of missing) this.tableMeta.set(r, byOid.get(r.id) ?? { primaryKey: [], rls: false });
  }

  /** The columns each subscribing role may select, read once per batch (walrus checks them per change). */
  private async loadPrivileges(pending: Pending[]): Promise<void> {
    const roles = new Map<Relation, Set<string>>();
    for (const p of pending) {
      let set = roles.get(p.change.relation);
      if (!set) roles.set(p.change.relation, (set = new Set()));
      for (const s of p.subs) set.add(s.subscriber.role());
    }
    for (const [relation, set] of roles) {
      const rows = await this.opts.sql`
        select r.role, coalesce(array_agg(a.attname::text) filter (where a.attname is not null), '{}') as columns
        from unnest(${[...set]}::text[]) r(role)
        left join pg_roles pr on pr.rolname = r.role
        left join pg_attribute a on a.attrelid = ${relation.id} and a.attnum > 0 and not a.attisdropped
          and case when pr.oid is null then false else has_column_privilege(pr.oid, a.attrelid, a.attnum, 'SELECT') end
        group by r.role`;
      this.selectable.set(relation, new Map(rows.map((r) => [r.role as string, new Set(r.columns as string[])])));
    }
  }

  private payload(p: Pending, select: string[] | null, role: string): ChangeData {
    const { relation, type, record, old } = p.change;
    const meta = this.tableMeta.get(relation) ?? { primaryKey: [], rls: false };
    // Only columns the role may select, as walrus sends them; then the binding's selection.
    const selectable = this.selectable.get(relation)?.get(role) ?? new Set<string>();
    const keep = (name: string) => selectable.has(name) && (!select || select.includes(name) || meta.primaryKey.includes(name));
    const columns = relation.columns.filter((c) => keep(c.name)).map((c) => ({ name: c.name, type: this.typeName(c.typeOid) }));
    const toJson = (tuple: Record<string, string | null>, only: (name: string) => boolean = keep) => {
      const out: Record<string, unknown> = {};
      for (const c of relation.columns) if (c.name in tuple && only(c.name)) out[c.name] = toJsonValue(this.typeName(c.typeOid), tuple[c.name]);
      return out;
    };
    const data: ChangeData = { schema: relation.schema, table: relation.table, commit_timestamp: p.commitTime.toISOString(), type, columns, errors: null };
    if (record) data.record = toJson(record);
    if (type === 'UPDATE') data.old_record = old ? toJson(old) : record ? toJson(keyOnly(relation, record)) : {};
    // A delete cannot be checked against RLS (the row is gone): walrus then sends only the key.
    if (type === 'DELETE') data.old_record = old ? toJson(old, meta.rls ? (name) => keep(name) && meta.primaryKey.includes(name) : keep) : {};
    return data;
  }

  /**
   * Visibility of each pending INSERT/UPDATE for each claim group: a function
   * from the pending index to true (visible), false, or an error message.
   */
  private async checkVisibility(pending: Pending[]): Promise<Map<string, (i: number) => boolean | string>> {
    const result = new Map<string, (i: number) => boolean | string>();
    const byRelation = new Map<number, { relation: Relation; items: number[]; groups: Map<string, Subscriber> }>();
    for (const [i, p] of pending.entries()) {
      if (p.change.type === 'DELETE') continue;
      let entry = byRelation.get(p.change.relation.id);
      if (!entry) byRelation.set(p.change.relation.id, (entry = { relation: p.change.relation, items: [], groups: new Map() }));
      entry.items.push(i);
      for (const sub of p.subs) {
        const key = groupKey(sub.subscriber);
        if (!this.isolated.has(key)) entry.groups.set(key, sub.subscriber);
      }
    }
    const perGroup = new Map<string, Map<number, boolean | string>>();
    for (const { relation, items, groups } of byRelation.values()) {
      if (!groups.size) continue;
      const verdicts = await this.checkRelation(relation, items.map((i) => pending[i].change), [...groups.entries()]);
      for (const [key, v] of verdicts) {
        let m = perGroup.get(key);
        if (!m) perGroup.set(key, (m = new Map()));
        for (const [k, i] of items.entries()) m.set(i, v === true ? true : v === false ? false : typeof v === 'string' ? v : v.has(k));
      }
    }
    for (const [key, m] of perGroup) result.set(key, (i) => m.get(i) ?? false);
    return result;
  }

  /** Per group: a set of visible item positions, or an error message. */
  private async checkRelation(relation: Relation, changes: Change[], groups: Array<[string, Subscriber]>): Promise<Map<string, Set<number> | string | boolean>> {
    const out = new Map<string, Set<number> | string | boolean>();
    // Small calls: a timeout then only sends a few groups down the slow path.
    for (let c = 0; c < changes.length; c += CHANGES_PER_CALL) {
      const part = changes.slice(c, c + CHANGES_PER_CALL);
      for (let g = 0; g < groups.length; g += GROUPS_PER_CALL) {
        for (const [key, v] of await this.checkChunk(relation, part, groups.slice(g, g + GROUPS_PER_CALL), true)) {
          const before = out.get(key);
          if (typeof before === 'string') continue;
          if (typeof v === 'string' || typeof v === 'boolean') out.set(key, v);
          else out.set(key, new Set([...(before instanceof Set ? before : []), ...[...v].map((i) => i + c)]));
        }
      }
    }
    return out;
  }

  private async checkChunk(relation: Relation, changes: Change[], groups: Array<[string, Subscriber]>, fallback: boolean): Promise<Map<string, Set<number> | string | boolean>> {
    const out = new Map<string, Set<number> | string | boolean>();
    // By primary key, as walrus does: with replica identity full every column is
    // a key column, and a NULL in any of them would never compare equal.
    const primaryKey = this.tableMeta.get(relation)?.primaryKey ?? [];
    const keyCols = primaryKey.map((name) => relation.columns.find((c) => c.name === name)).filter((c): c is Relation['columns'][number] => !!c);
    if (!primaryKey.length || keyCols.length !== primaryKey.length) {
      for (const [key] of groups) out.set(key, 'Error 400: Bad Request, no primary key');
      return out;
    }
    // A role that may not select the key is told so; without RLS every row is visible
    // to the others, with no query (walrus checks RLS tables only).
    const privileges = this.selectable.get(relation);
    const permitted: Array<[string, Subscriber]> = [];
    for (const g of groups) {
      if (primaryKey.every((c) => privileges?.get(g[1].role())?.has(c))) permitted.push(g);
      else out.set(g[0], 'Error 401: Unauthorized');
    }
    if (!this.tableMeta.get(relation)?.rls) {
      for (const [key] of permitted) out.set(key, true);
      return out;
    }
    groups = permitted;
    if (!groups.length) return out;
    // Distinct key tuples; the query returns the ones the role can see, which map back to changes.
    const positions = new Map<string, number[]>();
    for (const [i, c] of changes.entries()) {
      const id = JSON.stringify(keyCols.map((k) => c.record?.[k.name] ?? null));
      positions.set(id, [...(positions.get(id) ?? []), i]);
    }
    const keys = [...positions.keys()].map((id) => JSON.parse(id));
    // A semi-join lets the planner start from the policy's own index (e.g. the
    // owner column) instead of probing every key for every subscriber.
    const tuple = (prefix: string) => keyCols.map((k) => `${prefix}${quoteIdent(k.name)}`).join(', ');
    const casts = keyCols.map((k, j) => `(k->>${j})::${this.typeSql.get(k.typeOid) ?? 'text'}`).join(', ');
    const query = `select coalesce(jsonb_agg(jsonb_build_array(${keyCols.map((k) => `t.${quoteIdent(k.name)}::text`).join(', ')})), '[]') from ${quoteIdent(relation.schema)}.${quoteIdent(relation.table)} t where (${tuple('t.')}) in (select ${casts} from jsonb_array_elements($1) k)`;
    const subscribers = groups.map(([, s], i) => ({ i, role: s.role(), claims: s.claims() }));
    let rows: Array<{ subscriber: number; visible: Array<Array<string | null>> | null; error: string | null }>;
    try {
      rows = await this.visibleCall(query, keys, subscribers);
    } catch (err) {
      if (!fallback) {
        for (const [key] of groups) out.set(key, `Error 500: ${(err as Error).message}`);
        return out;
      }
      // The whole call failed or timed out: check each group alone, isolate the failing ones.
      this.opts.log(`realtime: visibility check for ${relation.schema}.${relation.table} failed (${(err as Error).message}); checking subscribers one by one`);
      rows = await Promise.all(
        subscribers.map(async (s) => {
          try {
            const [row] = await this.visibleCall(query, keys, [{ ...s, i: 0 }]);
            return { ...row, subscriber: s.i };
          } catch (e) {
            return { subscriber: s.i, visible: null, error: (e as Error).message };
          }
        }),
      );
      for (const r of rows) if (r.error) this.isolate(groups[r.subscriber][0]);
    }
    for (const r of rows) {
      out.set(groups[r.subscriber][0], r.error ? errorEntry(r.error) : new Set((r.visible ?? []).flatMap((key) => positions.get(JSON.stringify(key)) ?? [])));
    }
    return out;
  }

  private async visibleCall(query: string, keys: unknown, subscribers: unknown[]) {
    return this.opts.sql.begin(async (tx) => {
      await tx`select set_config('statement_timeout', ${String(this.opts.checkTimeoutMs)}, true)`;
      return tx`select subscriber, visible, error from realtime.local_stack_visible(${query}, ${tx.json(keys as postgres.JSONValue)}, ${tx.json(subscribers as postgres.JSONValue)})`;
    }) as unknown as Promise<Array<{ subscriber: number; visible: Array<Array<string | null>> | null; error: string | null }>>;
  }

  private isolate(group: string): void {
    if (!this.isolated.has(group)) this.isolated.set(group, Promise.resolve());
  }

  /** Isolated groups: checked alone, in order, without holding up anyone else. */
  private checkIsolated(pending: Pending[]): void {
    for (const [group, chain] of this.isolated) {
      const mine = pending
        .map((p, i) => ({ p, i, subs: p.subs.filter((s) => groupKey(s.subscriber) === group) }))
        .filter((x) => x.subs.length);
      if (!mine.length) continue;
      const next = chain.then(async () => {
        let healthy = true;
        for (const { p, subs } of mine) {
          if (p.change.type === 'DELETE') {
            deliverGrouped(subs, (select, role) => this.payload(p, select, role));
            continue;
          }
          const verdicts = await this.checkChunk(p.change.relation, [p.change], [[group, subs[0].subscriber]], false).catch((e: Error) => new Map([[group, `Error 500: ${e.message}`]]));
          const v = verdicts.get(group);
          if (typeof v === 'string') {
            healthy = false;
            deliverGrouped(subs, (select, role) => errorPayload(this.payload(p, select, role), v));
          } else if (v === true || (v instanceof Set && v.has(0))) deliverGrouped(subs, (select, role) => this.payload(p, select, role));
        }
        if (healthy && this.isolated.get(group) === next) this.isolated.delete(group);
      });
      this.isolated.set(group, next);
    }
  }
}

/** walrus's wording for a role without SELECT on the table; other failures as 500s. */
function errorEntry(error: string): string {
  return error.startsWith('42501:') ? 'Error 401: Unauthorized' : `Error 500: ${error}`;
}

function deliverGrouped(subs: Subscription[], data: (select: string[] | null, role: string) => ChangeData): void {
  const deliveries = new Deliveries();
  for (const s of subs) deliveries.add(s, null);
  deliveries.send(data);
}

/** One message per subscriber and column selection, with the ids of its subscriptions. */
class Deliveries {
  private bySubscriber = new Map<Subscriber, Map<string, { select: string[] | null; ids: number[]; error: string | null }>>();

  add(sub: Subscription, error: string | null): void {
    let m = this.bySubscriber.get(sub.subscriber);
    if (!m) this.bySubscriber.set(sub.subscriber, (m = new Map()));
    const key = sub.select?.join(',') ?? '';
    let entry = m.get(key);
    if (!entry) m.set(key, (entry = { select: sub.select, ids: [], error: null }));
    entry.ids.push(sub.id);
    if (error) entry.error = error;
  }

  send(data: (select: string[] | null, role: string) => ChangeData): void {
    for (const [subscriber, m] of this.bySubscriber) {
      for (const { select, ids, error } of m.values()) {
        const d = data(select, subscriber.role());
        subscriber.deliver(ids, error ? errorPayload(d, error) : d);
      }
    }
  }
}

/** Postgrex names the condition of an error code in its messages; the ones a subscription check raises. */
function conditionName(code: string): string {
  const names: Record<string, string> = {
    P0001: 'raise_exception',
    '22P02': 'invalid_text_representation',
    '22007': 'invalid_datetime_format',
    '22008': 'datetime_field_overflow',
    '22003': 'numeric_value_out_of_range',
    '2201B': 'invalid_regular_expression',
    '42704': 'undefined_object',
    '42883': 'undefined_function',
  };
  return names[code] ?? code;
}

function errorPayload(data: ChangeData, error: string): ChangeData {
  // A failed check must not leak the row: only its keys' shape and the error.
  return { ...data, record: {}, old_record: data.type === 'INSERT' ? undefined : {}, errors: [error] };
}

function keyOnly(relation: Relation, tuple: Record<string, string | null>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of relation.columns) if (c.key && c.name in tuple) out[c.name] = tuple[c.name];
  return out;
}

const groupKeys = new WeakMap<Subscriber, { claims: unknown; key: string }>();
function groupKey(s: Subscriber): string {
  const claims = s.claims();
  const cached = groupKeys.get(s);
  if (cached && cached.claims === claims) return cached.key;
  const key = `${s.role()}\u0000${JSON.stringify(claims)}`;
  groupKeys.set(s, { claims, key });
  return key;
}
