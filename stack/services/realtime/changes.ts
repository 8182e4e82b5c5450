// postgres_changes: matches each committed change against the subscriptions,
// checks row visibility as each subscriber (RLS, many subscribers and rows per
// query), and hands each channel one message with the ids of its matching
// subscriptions. Deletes are not RLS-checked (the row is gone), as on Supabase.
import type postgres from 'postgres';
import { matches, toJsonValue, type Filter } from './filters.ts';
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
  filter: Filter | null;
  subscriber: Subscriber;
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

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class ChangeDispatcher {
  private byTable = new Map<string, Set<Subscription>>();
  private typeNames = new Map<number, string>();
  /** Claim groups whose check failed or timed out: checked apart so they only delay themselves. */
  private isolated = new Map<string, Promise<void>>();

  constructor(private opts: ChangeDispatcherOptions) {}

  get size(): number {
    let n = 0;
    for (const set of this.byTable.values()) n += set.size;
    return n;
  }

  async loadTypes(): Promise<void> {
    const rows = await this.opts.sql`select oid::int as oid, typname from pg_type`;
    for (const r of rows) this.typeNames.set(r.oid, r.typname);
  }

  /** Throws Realtime's message when the table or filter column does not exist. */
  async validate(schema: string, table: string | null, filter: Filter | null): Promise<void> {
    const target = table ?? null;
    const [row] = await this.opts.sql`
      select (${target}::text is null or to_regclass(format('%I.%I', ${schema}::text, ${target}::text)) is not null) as table_ok,
             (${filter?.column ?? null}::text is null or exists (
                select 1 from pg_attribute a
                where a.attrelid = to_regclass(format('%I.%I', ${schema}::text, ${target}::text)) and a.attname = ${filter?.column ?? null} and not a.attisdropped)) as column_ok`;
    if (!row.table_ok || !row.column_ok) {
      throw new Error(`Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [schema: ${schema}, table: ${table ?? '*'}, filters: [${filter ? `{${filter.column}, ${filter.op}, ${filter.values.join(',')}}` : ''}]]`);
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

  private candidates(change: Change): Subscription[] {
    const { schema, table } = change.relation;
    const out: Subscription[] = [];
    for (const key of [`${schema}.${table}`, `${schema}.*`]) {
      for (const sub of this.byTable.get(key) ?? []) {
        if (sub.event !== '*' && sub.event !== change.type) continue;
        if (sub.filter) {
          const row = change.type === 'DELETE' ? change.old : change.record;
          const column = change.relation.columns.find((c) => c.name === sub.filter!.column);
          // Deletes without the filter column (identity not full) cannot be filtered.
          if (change.type === 'DELETE' && (!row || !(sub.filter.column in row))) {
            out.push(sub);
            continue;
          }
          if (!column || !matches(sub.filter, this.typeName(column.typeOid), row?.[sub.filter.column])) continue;
        }
        out.push(sub);
      }
    }
    return out;
  }

  async dispatch(txs: Transaction[]): Promise<void> {
    if (this.byTable.size === 0) return;
    const pending: Pending[] = [];
    for (const tx of txs) {
      for (const change of tx.changes) {
        const subs = this.candidates(change);
        if (subs.length) pending.push({ change, commitTime: tx.commitTime, subs });
      }
    }
    if (!pending.length) return;
    // Types created after start (a new enum, say) are named once they appear.
    if (pending.some((p) => p.change.relation.columns.some((c) => !this.typeNames.has(c.typeOid)))) await this.loadTypes();
    const verdicts = await this.checkVisibility(pending);
    for (const [i, p] of pending.entries()) {
      const data = this.payload(p);
      const perSubscriber = new Map<Subscriber, { ids: number[]; error: string | null }>();
      for (const sub of p.subs) {
        const group = groupKey(sub.subscriber);
        // Isolated groups get everything through their own chain, to keep their order.
        if (this.isolated.has(group)) continue;
        const verdict = p.change.type === 'DELETE' ? true : verdicts.get(group)?.(i) ?? false;
        if (verdict === false) continue;
        const entry = perSubscriber.get(sub.subscriber) ?? { ids: [], error: null };
        entry.ids.push(sub.id);
        if (typeof verdict === 'string') entry.error = verdict;
        perSubscriber.set(sub.subscriber, entry);
      }
      for (const [subscriber, { ids, error }] of perSubscriber) subscriber.deliver(ids, error ? errorPayload(data, error) : data);
    }
    this.checkIsolated(pending);
  }

  private payload(p: Pending): ChangeData {
    const { relation, type, record, old } = p.change;
    const columns = relation.columns.map((c) => ({ name: c.name, type: this.typeName(c.typeOid) }));
    const toJson = (tuple: Record<string, string | null>) => {
      const out: Record<string, unknown> = {};
      for (const c of relation.columns) if (c.name in tuple) out[c.name] = toJsonValue(this.typeName(c.typeOid), tuple[c.name]);
      return out;
    };
    const data: ChangeData = { schema: relation.schema, table: relation.table, commit_timestamp: p.commitTime.toISOString(), type, columns, errors: null };
    if (record) data.record = toJson(record);
    if (type !== 'INSERT') data.old_record = old ? toJson(old) : record ? toJson(keyOnly(relation, record)) : {};
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
    const keyCols = relation.columns.filter((c) => c.key);
    if (!keyCols.length) {
      for (const [key] of groups) out.set(key, 'Error 400: Bad Request, no primary key');
      return out;
    }
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
    const casts = keyCols.map((k, j) => `(k->>${j})::${quoteIdent(this.typeName(k.typeOid))}`).join(', ');
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
            deliverGrouped(subs, this.payload(p));
            continue;
          }
          const verdicts = await this.checkChunk(p.change.relation, [p.change], [[group, subs[0].subscriber]], false).catch((e: Error) => new Map([[group, `Error 500: ${e.message}`]]));
          const v = verdicts.get(group);
          const data = this.payload(p);
          if (typeof v === 'string') {
            healthy = false;
            deliverGrouped(subs, errorPayload(data, v));
          } else if (v instanceof Set && v.has(0)) deliverGrouped(subs, data);
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

function deliverGrouped(subs: Subscription[], data: ChangeData): void {
  const per = new Map<Subscriber, number[]>();
  for (const s of subs) per.set(s.subscriber, [...(per.get(s.subscriber) ?? []), s.id]);
  for (const [subscriber, ids] of per) subscriber.deliver(ids, data);
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
