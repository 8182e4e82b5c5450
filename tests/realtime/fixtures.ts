// Tables and policies of the Realtime tests, in their own schema (the product
// owns `public`), created idempotently under an advisory lock because test
// files run in parallel. Private fixture topics start with `rtfx:`.
import { serviceSql } from '../helpers/db.ts';

const FIXTURE_SQL = `
create schema if not exists rt_fixture;
grant usage on schema rt_fixture to anon, authenticated, service_role;

-- Who may read (and write) which private fixture topic.
create table if not exists rt_fixture.topic_members (
  topic text not null,
  user_id uuid not null,
  can_write boolean not null default false,
  primary key (topic, user_id)
);
alter table rt_fixture.topic_members enable row level security;
-- Policies ask through this helper: users cannot read the membership table itself.
create or replace function rt_fixture.is_member(topic text, writing boolean) returns boolean
language sql stable security definer set search_path = ''
as $fn$
  select exists (select 1 from rt_fixture.topic_members m
                 where m.topic = is_member.topic and m.user_id = (select auth.uid()) and (m.can_write or not writing))
$fn$;
revoke all on function rt_fixture.is_member(text, boolean) from public;
grant execute on function rt_fixture.is_member(text, boolean) to authenticated;

create table if not exists rt_fixture.orders (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null,
  status text not null default 'pending',
  total_kobo bigint not null default 0,
  tags text[] not null default '{}',
  paid boolean not null default false,
  updated_at timestamptz not null default now()
);
create index if not exists orders_customer_id_idx on rt_fixture.orders (customer_id);
alter table rt_fixture.orders enable row level security;
grant select on rt_fixture.orders to authenticated;

-- Rows whose visibility check misbehaves for chosen users (raises or is slow).
create table if not exists rt_fixture.flaky_users (user_id uuid primary key, behaviour text not null);
create table if not exists rt_fixture.notes (
  id bigint generated always as identity primary key,
  body text not null
);
alter table rt_fixture.notes enable row level security;
grant select on rt_fixture.notes to authenticated;
create or replace function rt_fixture.check_note_reader() returns boolean
language plpgsql stable security definer set search_path = ''
as $fn$
declare b text;
begin
  select behaviour into b from rt_fixture.flaky_users where user_id = (select auth.uid());
  if b = 'raise' then raise exception 'policy failure for this reader'; end if;
  if b = 'slow' then perform pg_sleep(30); end if;
  return true;
end
$fn$;

-- A trigger that broadcasts each delivery to its user's private topic.
create table if not exists rt_fixture.deliveries (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  note text not null
);
alter table rt_fixture.deliveries enable row level security;
create or replace function rt_fixture.broadcast_delivery() returns trigger
language plpgsql
as $fn$
begin
  perform realtime.send(jsonb_build_object('delivery_id', new.id, 'note', new.note), 'delivery', 'rtfx:user:' || new.user_id, true);
  return null;
end
$fn$;

do $do$
begin
  if not exists (select from pg_trigger where tgname = 'deliveries_broadcast') then
    create trigger deliveries_broadcast after insert on rt_fixture.deliveries for each row execute function rt_fixture.broadcast_delivery();
  end if;
  if not exists (select from pg_policies where schemaname = 'rt_fixture' and policyname = 'customers read their orders') then
    create policy "customers read their orders" on rt_fixture.orders for select to authenticated using (customer_id = (select auth.uid()));
  end if;
  if not exists (select from pg_policies where schemaname = 'rt_fixture' and policyname = 'readers read notes') then
    create policy "readers read notes" on rt_fixture.notes for select to authenticated using (rt_fixture.check_note_reader());
  end if;
  if not exists (select from pg_policies where schemaname = 'realtime' and policyname = 'rtfx members read') then
    create policy "rtfx members read" on realtime.messages for select to authenticated using (
      (select realtime.topic()) like 'rtfx:%' and (
        (select realtime.topic()) = 'rtfx:user:' || (select auth.uid())::text
        or (select rt_fixture.is_member(realtime.topic(), false))));
  end if;
  if not exists (select from pg_policies where schemaname = 'realtime' and policyname = 'rtfx writers write') then
    create policy "rtfx writers write" on realtime.messages for insert to authenticated with check (
      (select realtime.topic()) like 'rtfx:%'
      and (select rt_fixture.is_member(realtime.topic(), true)));
  end if;
  if not exists (select from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'rt_fixture' and tablename = 'orders') then
    alter publication supabase_realtime add table rt_fixture.orders, rt_fixture.notes;
  end if;
end
$do$;
`;

let ready: Promise<void> | undefined;

export function realtimeFixtures(): Promise<void> {
  ready ??= serviceSql().begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('rt_fixture'))`;
    await tx.unsafe(FIXTURE_SQL);
  }).then(() => undefined);
  return ready;
}
