-- Platform bootstrap 8: realtime.messages as Supabase Realtime keeps it:
-- partitioned by day on inserted_at (partitions messages_YYYY_MM_DD), owned by
-- supabase_realtime_admin, with binary_payload (exclusive with payload), and
-- realtime.send_binary(). The Realtime service creates partitions from
-- yesterday to today+3 and drops old ones, as Realtime's janitor does.
--
-- A database bootstrapped before this file has the unpartitioned table, maybe
-- with the product's policies and some rows: both move to the new table.

alter table realtime.messages rename to local_stack_messages_unpartitioned;
alter index realtime.messages_pkey rename to local_stack_messages_unpartitioned_pkey;
alter index realtime.messages_inserted_at_topic_index rename to local_stack_messages_unpartitioned_index;

create table realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea
) partition by range (inserted_at);
alter table realtime.messages owner to supabase_realtime_admin;
alter table realtime.messages add constraint messages_payload_exclusive check (payload is null or binary_payload is null) not valid;
alter table realtime.messages add constraint messages_pkey primary key (id, inserted_at);
create index messages_inserted_at_topic_index on only realtime.messages (inserted_at desc, topic) where extension = 'broadcast' and private is true;
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to anon, authenticated, service_role;
grant all on realtime.messages to postgres;

comment on table realtime.messages is 'Broadcast messages (realtime.send, realtime.send_binary) and the rows Realtime probes private-channel policies with; one partition per UTC day.';

do $$
declare
  p record;
  today date := (now() at time zone 'utc')::date;
  d date;
  name text;
begin
  for d in select generate_series(today - 1, today + 3, interval '1 day')::date loop
    name := 'messages_' || to_char(d, 'YYYY_MM_DD');
    execute format('create table realtime.%I partition of realtime.messages for values from (%L) to (%L)', name, d, d + 1);
    execute format('alter table realtime.%I owner to supabase_realtime_admin', name);
  end loop;

  for p in select * from pg_policies where schemaname = 'realtime' and tablename = 'local_stack_messages_unpartitioned' loop
    execute format('create policy %I on realtime.messages as %s for %s to %s%s%s',
      p.policyname, p.permissive, p.cmd,
      (select string_agg(case r when 'public' then 'public' else quote_ident(r) end, ', ') from unnest(p.roles) r),
      case when p.qual is not null then format(' using (%s)', p.qual) else '' end,
      case when p.with_check is not null then format(' with check (%s)', p.with_check) else '' end);
  end loop;

  -- Rows older than yesterday would have been dropped by the janitor anyway.
  insert into realtime.messages (topic, extension, payload, event, private, updated_at, inserted_at, id)
  select topic, extension, payload, event, private, updated_at, inserted_at, id
  from realtime.local_stack_messages_unpartitioned
  where inserted_at >= today - 1 and inserted_at < today + 4;
end
$$;

drop table realtime.local_stack_messages_unpartitioned;

-- Realtime's current send(): the warning was renamed, nothing else changed.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
declare
  message_id uuid := gen_random_uuid();
begin
  begin
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (
      message_id,
      case when payload ? 'id' then payload else jsonb_set(payload, '{id}', to_jsonb(message_id)) end,
      event, topic, private, 'broadcast'
    );
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;

-- Writes a binary broadcast message; delivered as a binary frame (serializer
-- 2.0.0) and replayed like any other. A failure is a warning, as for send().
create function realtime.send_binary(payload bytea, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
begin
  begin
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, binary_payload, event, topic, private, extension)
    values (gen_random_uuid(), payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;
alter function realtime.send_binary(bytea, text, text, boolean) owner to supabase_realtime_admin;
grant execute on function realtime.send_binary(bytea, text, text, boolean) to postgres, anon, authenticated, service_role;
