-- Platform bootstrap 5: what Supabase does when a project enables pg_cron or
-- pg_net (its event triggers grant_pg_cron_access and grant_pg_net_access), so
-- `create extension pg_cron` / `pg_net` in a product migration leaves the same
-- privileges here as on hosted Supabase. The extensions themselves are the
-- stand-ins in stack/extensions, installed into Postgres at start.

create or replace function extensions.grant_pg_cron_access() returns event_trigger
language plpgsql
as $$
begin
  if exists (
    select from pg_event_trigger_ddl_commands() as ev
    join pg_namespace as n on ev.objid = n.oid
    where n.nspname = 'cron'
  ) then
    grant usage on schema cron to postgres with grant option;
    alter default privileges in schema cron grant all on tables to postgres with grant option;
    alter default privileges in schema cron grant all on functions to postgres with grant option;
    alter default privileges in schema cron grant all on sequences to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all on sequences to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all on tables to postgres with grant option;
    alter default privileges for user supabase_admin in schema cron grant all on functions to postgres with grant option;
    grant all privileges on all tables in schema cron to postgres with grant option;
  end if;
end
$$;
comment on function extensions.grant_pg_cron_access() is 'Grants access to pg_cron';
drop event trigger if exists issue_pg_cron_access;
create event trigger issue_pg_cron_access on ddl_command_end when tag in ('CREATE SCHEMA')
  execute function extensions.grant_pg_cron_access();

do $$
begin
  if not exists (select from pg_roles where rolname = 'supabase_functions_admin') then
    create role supabase_functions_admin noinherit createrole login noreplication password 'postgres';
  end if;
end
$$;

create or replace function extensions.grant_pg_net_access() returns event_trigger
language plpgsql
as $$
begin
  if exists (
    select from pg_event_trigger_ddl_commands() as ev
    join pg_extension as ext on ev.objid = ext.oid
    where ext.extname = 'pg_net'
  ) then
    grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;
  end if;
end
$$;
comment on function extensions.grant_pg_net_access() is 'Grants access to pg_net';
drop event trigger if exists issue_pg_net_access;
create event trigger issue_pg_net_access on ddl_command_end when tag in ('CREATE EXTENSION')
  execute function extensions.grant_pg_net_access();
