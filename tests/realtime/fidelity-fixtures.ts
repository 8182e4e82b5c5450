// A table for the postgres_changes fidelity tests, in its own schema: REPLICA
// IDENTITY FULL with nullable columns of several types, RLS by owner, in the
// supabase_realtime publication; and one outside the publication. Created
// idempotently under an advisory lock (test files run in parallel); tests that
// change the publication take it too (`withPublicationLock`).
import { serviceSql } from '../helpers/db.ts';

const FIXTURE_SQL = `
create schema if not exists rt_fidelity;
grant usage on schema rt_fidelity to anon, authenticated, service_role;

create table if not exists rt_fidelity.items (
  id bigint generated always as identity primary key,
  owner uuid not null,
  label text not null,
  qty integer not null default 0,
  note text,
  flag boolean
);
alter table rt_fidelity.items replica identity full;
alter table rt_fidelity.items enable row level security;
grant select on rt_fidelity.items to authenticated;

create table if not exists rt_fidelity.unpublished (id bigint primary key);
grant select on rt_fidelity.unpublished to authenticated;

-- No RLS, and a column subscribers may not select.
create table if not exists rt_fidelity.board (id bigint primary key, title text not null, secret text);
grant select (id, title) on rt_fidelity.board to authenticated;

-- A table whose visibility check reads gate_keys: a test can hold a lock on
-- gate_keys to stall the change feed at a known change.
create table if not exists rt_fidelity.gate (id bigint generated always as identity primary key);
create table if not exists rt_fidelity.gate_keys (id int);
alter table rt_fidelity.gate enable row level security;
grant select on rt_fidelity.gate, rt_fidelity.gate_keys to authenticated;

do $do$
begin
  if not exists (select from pg_policies where schemaname = 'rt_fidelity' and policyname = 'readers pass the gate') then
    create policy "readers pass the gate" on rt_fidelity.gate for select to authenticated using ((select count(*) from rt_fidelity.gate_keys) >= 0);
  end if;
  if not exists (select from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'rt_fidelity' and tablename = 'board') then
    alter publication supabase_realtime add table rt_fidelity.board;
  end if;
  if not exists (select from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'rt_fidelity' and tablename = 'gate') then
    alter publication supabase_realtime add table rt_fidelity.gate;
  end if;
  if not exists (select from pg_policies where schemaname = 'rt_fidelity' and policyname = 'owners read their items') then
    create policy "owners read their items" on rt_fidelity.items for select to authenticated using (owner = (select auth.uid()));
  end if;
  if not exists (select from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'rt_fidelity' and tablename = 'items') then
    alter publication supabase_realtime add table rt_fidelity.items;
  end if;
end
$do$;
`;

let ready: Promise<void> | undefined;

export function fidelityFixtures(): Promise<void> {
  ready ??= serviceSql().begin(async (tx) => {
    // The lock of the other Realtime fixtures: concurrent ALTER PUBLICATIONs deadlock.
    await tx`select pg_advisory_xact_lock(hashtext('rt_fixture'))`;
    await tx.unsafe(FIXTURE_SQL);
  }).then(() => undefined);
  return ready;
}

/** Runs DDL on the publication under the fixtures' lock, so it cannot deadlock with another file's fixtures. */
export function withPublicationLock(ddl: string): Promise<void> {
  return serviceSql().begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('rt_fixture'))`;
    await tx.unsafe(ddl);
  }).then(() => undefined);
}
