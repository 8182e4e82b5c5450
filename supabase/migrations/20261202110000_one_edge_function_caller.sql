-- One way for the database to call an edge function: private.invoke_edge_function
-- (Vault's project_url and service_role_key, pg_net after commit). The notify
-- trigger and the reconcile job each read Vault and built the request themselves;
-- they now go through it, with their own timeouts.

drop function private.invoke_edge_function(text, jsonb);
create function private.invoke_edge_function(p_name text, p_body jsonb, p_timeout_ms integer default 60000) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  base text;
  service_key text;
begin
  select decrypted_secret into base from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'service_role_key';
  if base is null or service_key is null then
    raise warning 'edge_functions_not_configured'
      using detail = format('Cannot call %s: create the Vault secrets project_url and service_role_key (README, "Deploy").', p_name);
    return null;
  end if;
  return net.http_post(
    url => rtrim(base, '/') || '/functions/v1/' || p_name,
    body => coalesce(p_body, '{}'::jsonb),
    headers => jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
    timeout_milliseconds => p_timeout_ms
  );
end
$$;
comment on function private.invoke_edge_function(text, jsonb, integer) is 'Calls the edge function p_name as the platform once this transaction commits (pg_net); returns the pg_net request id, or null (with a warning) when the Vault secrets project_url and service_role_key are not set.';
revoke execute on function private.invoke_edge_function(text, jsonb, integer) from public, anon, authenticated, service_role;

create or replace function private.request_notify(p_body jsonb) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
begin
  return private.invoke_edge_function('notify', p_body, 30000);
exception when others then
  -- Starting the sender must never fail the order or broadcast that made the
  -- notification; the sweep sends what this call would have.
  raise warning 'notify not started: %', sqlerrm;
  return null;
end
$$;

create or replace function private.request_payment_reconcile() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  request_id bigint;
begin
  if not exists (select from public.payments where status = 'pending' and created_at < now() - interval '5 minutes') then
    return null;
  end if;
  request_id := private.invoke_edge_function('reconcile', '{}'::jsonb, 120000);
  -- A job run that could not start its call fails, so cron.job_run_details shows it.
  if request_id is null then
    raise exception 'reconcile_not_configured'
      using detail = 'Create the Vault secrets project_url and service_role_key (README, "Deploy").';
  end if;
  return request_id;
end
$$;
