-- Card refunds leave right after the commit that issued them: a trigger asks
-- pg_net to call the `refunds` edge function for that refund (pg_net sends only
-- once the transaction commits, so a rolled-back cancel sends nothing), and the
-- `refunds-sweep` job retries the ones the provider could not take yet.
-- Where the functions are and the key to call them with come from Vault
-- (project_url, service_role_key), as for the reconcile job.

-- One way for the database to call an edge function as the platform: after
-- commit, through pg_net. Null (and a warning) when Vault lacks the settings,
-- so the caller's change still commits and the sweep picks it up later.
create function private.invoke_edge_function(p_name text, p_body jsonb) returns bigint
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
    timeout_milliseconds => 60000
  );
end
$$;
revoke execute on function private.invoke_edge_function(text, jsonb) from public, anon, authenticated, service_role;

create function private.refunds_send_after_commit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.invoke_edge_function('refunds', jsonb_build_object('refund_id', new.id));
  return null;
end
$$;
revoke execute on function private.refunds_send_after_commit() from public, anon, authenticated, service_role;

create trigger refunds_send_after_commit
  after insert on public.refunds
  for each row when (new.destination = 'card' and new.status = 'pending' and new.provider_refund_id is null)
  execute function private.refunds_send_after_commit();

-- The sweep: one call when some card refund is due for a retry.
create function private.request_refund_sweep() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select from public.refunds
                 where status = 'pending' and destination = 'card' and provider_refund_id is null and next_attempt_at <= now()) then
    return null;
  end if;
  return private.invoke_edge_function('refunds', '{}'::jsonb);
end
$$;
revoke execute on function private.request_refund_sweep() from public, anon, authenticated, service_role;

select cron.schedule('refunds-sweep', '* * * * *', 'select private.request_refund_sweep()');
