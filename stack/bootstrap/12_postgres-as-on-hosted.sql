-- Platform bootstrap 12: `postgres` as hosted Supabase has it. The cluster's
-- superuser is supabase_admin; `postgres` (made a superuser before bootstrap 1,
-- as Supabase's image does) is demoted here as supabase/postgres's
-- demote-postgres migration does, with the grants hosted has added since, so a
-- product migration (applied as `postgres`) that hosted refuses fails here too.

alter role postgres nosuperuser createdb createrole login replication bypassrls;
grant all on database postgres to postgres;
grant anon, authenticated, service_role to postgres;
-- supautils lets postgres change the settings of these reserved roles (their
-- `*` in reserved_roles): `alter role authenticated set statement_timeout`,
-- `alter role authenticator set pgrst.…`. Postgres 16+ asks for ADMIN OPTION for
-- that, which also allows more than hosted does (see stack/README.md).
grant anon, authenticated, service_role to postgres with admin option;
grant authenticator to postgres with admin option, inherit false, set false;
grant pg_read_all_data, pg_signal_backend, pg_monitor to postgres;

-- supautils' privileged_role_allowed_configs: settings postgres may set (and set
-- on roles) although only superusers could. `pgrst.*` is a wildcard there; here
-- each of PostgREST's in-database settings is named.
grant set on parameter
  auto_explain.log_min_duration, auto_explain.log_nested_statements, log_lock_waits, log_min_messages,
  pg_net.batch_size, pg_net.ttl, pgaudit.log, pgaudit.log_catalog, pgaudit.log_client, pgaudit.log_level,
  pgaudit.log_relation, pgaudit.log_rows, pgaudit.log_statement, pgaudit.log_statement_once, pgaudit.role,
  plan_filter.statement_cost_limit, plan_filter.limit_select_only, safeupdate.enabled, session_replication_role,
  track_io_timing,
  pgrst.db_aggregates_enabled, pgrst.db_anon_role, pgrst.db_extra_search_path, pgrst.db_hoisted_tx_settings,
  pgrst.db_max_rows, pgrst.db_plan_enabled, pgrst.db_pre_config, pgrst.db_pre_request, pgrst.db_prepared_statements,
  pgrst.db_root_spec, pgrst.db_schemas, pgrst.db_tx_end, pgrst.jwt_aud, pgrst.jwt_cache_max_lifetime,
  pgrst.jwt_role_claim_key, pgrst.jwt_secret, pgrst.jwt_secret_is_base64, pgrst.openapi_mode,
  pgrst.openapi_security_active, pgrst.openapi_server_proxy_uri, pgrst.server_cors_allowed_origins,
  pgrst.server_timing_enabled, pgrst.server_trace_header
  to postgres;

grant all on schema extensions to postgres;
grant all privileges on all tables in schema extensions to postgres with grant option;
grant all privileges on all routines in schema extensions to postgres with grant option;
grant all privileges on all sequences in schema extensions to postgres with grant option;

-- auth and realtime: every privilege on their tables (so triggers on auth.users
-- and foreign keys to it), but not CREATE on the schemas: since April 2025
-- hosted refuses new tables, functions and indexes there.
grant usage on schema auth, realtime to postgres;
grant all on all tables in schema auth to postgres;
grant all on all sequences in schema auth to postgres;
grant all on all routines in schema auth to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on tables to postgres, dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth grant all on sequences to postgres, dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth grant all on routines to postgres, dashboard_user;
grant all on all tables in schema realtime to postgres, dashboard_user;
grant all on all sequences in schema realtime to postgres, dashboard_user;
grant all on all routines in schema realtime to postgres, dashboard_user;
alter default privileges for role supabase_admin in schema realtime grant all on tables to postgres, dashboard_user;
alter default privileges for role supabase_admin in schema realtime grant all on sequences to postgres, dashboard_user;
alter default privileges for role supabase_admin in schema realtime grant all on routines to postgres, dashboard_user;

-- A hosted project's dump shows the publication owned by postgres, so migrations
-- may `alter publication supabase_realtime add table ...`.
alter publication supabase_realtime owner to postgres;

-- supautils' policy_grants and drop_trigger_grants: `postgres` may create, alter
-- and drop policies, and drop triggers, on these tables it does not own. Hosted's
-- lists name every auth table but schema_migrations, realtime.messages and
-- realtime.subscription (and storage's, which this stack does not have).
create or replace function local_stack.privileged_role_grants_cover(rel oid) returns boolean
language sql stable set search_path = ''
as $$
  select exists (
    select from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.oid = rel
      and ((n.nspname = 'auth' and c.relname <> 'schema_migrations')
        or (n.nspname = 'realtime' and c.relname in ('messages', 'subscription'))))
$$;

-- Whether the command runs for the privileged role itself (not after `set role`
-- to another one), as supautils decides. In a definer function current_user is
-- the definer, so the session's identity is read instead.
create or replace function local_stack.acting_as_privileged_role() returns boolean
language sql stable set search_path = ''
as $$
  select session_user = 'postgres' and pg_catalog.current_setting('role') in ('none', 'postgres')
$$;

-- Where supautils switches to the superuser for the command, this lends
-- `postgres` the owners' rights for that one command (membership, granted here
-- and revoked when the command ends, or rolled back with it), and
-- privileged_role_grants_check refuses it if it touched a table outside the lists.
create or replace function local_stack.privileged_role_grants_start() returns event_trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if local_stack.acting_as_privileged_role() then
    grant supabase_auth_admin, supabase_realtime_admin to postgres;
  end if;
end
$$;

-- At sql_drop (DROP POLICY, DROP TRIGGER) the dropped objects' tables are
-- checked; at ddl_command_end the created or altered policies' tables, and the
-- lent memberships are taken back.
create or replace function local_stack.privileged_role_grants_check() returns event_trigger
language plpgsql security definer set search_path = ''
as $$
declare
  target oid;
begin
  if not local_stack.acting_as_privileged_role() then
    return;
  end if;
  -- Each function answers only in its own event, so each event has its own query.
  if tg_event = 'sql_drop' then
    for target in
      select pg_catalog.to_regclass(pg_catalog.format('%I.%I', o.address_names[1], o.address_names[2]))
      from pg_catalog.pg_event_trigger_dropped_objects() o
      where o.object_type in ('policy', 'trigger') and o.original
    loop
      perform local_stack.privileged_role_grants_refuse(target);
    end loop;
    return;
  end if;
  for target in
    select p.polrelid from pg_catalog.pg_event_trigger_ddl_commands() c join pg_catalog.pg_policy p on p.oid = c.objid
    where c.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
  loop
    perform local_stack.privileged_role_grants_refuse(target);
  end loop;
  revoke supabase_auth_admin, supabase_realtime_admin from postgres;
end
$$;

-- The error Postgres gives for a table postgres does not own, when the lent
-- ownership reached one the lists do not cover.
create or replace function local_stack.privileged_role_grants_refuse(rel regclass) returns void
language plpgsql set search_path = ''
as $$
begin
  if rel is not null
     and (select c.relowner in ('supabase_auth_admin'::pg_catalog.regrole, 'supabase_realtime_admin'::pg_catalog.regrole) from pg_catalog.pg_class c where c.oid = rel)
     and not local_stack.privileged_role_grants_cover(rel) then
    raise exception 'must be owner of table %', (select c.relname from pg_catalog.pg_class c where c.oid = rel)
      using errcode = '42501';
  end if;
end
$$;

revoke all on function local_stack.privileged_role_grants_cover(oid), local_stack.acting_as_privileged_role(),
  local_stack.privileged_role_grants_refuse(regclass) from public;

drop event trigger if exists local_stack_privileged_role_grants_start;
create event trigger local_stack_privileged_role_grants_start on ddl_command_start
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'DROP TRIGGER')
  execute function local_stack.privileged_role_grants_start();
drop event trigger if exists local_stack_privileged_role_grants_check_drop;
create event trigger local_stack_privileged_role_grants_check_drop on sql_drop
  when tag in ('DROP POLICY', 'DROP TRIGGER')
  execute function local_stack.privileged_role_grants_check();
drop event trigger if exists local_stack_privileged_role_grants_end;
create event trigger local_stack_privileged_role_grants_end on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'DROP TRIGGER')
  execute function local_stack.privileged_role_grants_check();
