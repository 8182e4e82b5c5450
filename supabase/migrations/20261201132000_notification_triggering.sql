-- What starts notify: net.http_post right after a delivery is queued (pg_net
-- sends only once the transaction commits, and nothing if it rolls back), and
-- the notify-sweep job every minute for retries; plus the schedules of the
-- other notification jobs. The functions URL and the service_role key come
-- from Vault (`project_url`, `service_role_key`), as Supabase's guide to
-- scheduling edge functions stores them and as the other jobs read them.

create function private.request_notify(p_body jsonb) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  base text;
  key text;
begin
  select decrypted_secret into base from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into key from vault.decrypted_secrets where name = 'service_role_key';
  if base is null or key is null then
    raise warning 'notify not started: the Vault secrets project_url and service_role_key are not set';
    return null;
  end if;
  return net.http_post(
    url := rtrim(base, '/') || '/functions/v1/notify',
    body := p_body,
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || key),
    timeout_milliseconds := 30000);
exception when others then
  -- Starting the sender must never fail the order or broadcast that made the
  -- notification; the sweep sends what this call would have.
  raise warning 'notify not started: %', sqlerrm;
  return null;
end
$$;
comment on function private.request_notify(jsonb) is 'Starts the notify edge function after commit (pg_net) with the given body, using the Vault secrets project_url and service_role_key; returns the pg_net request id, or null when it could not.';
revoke execute on function private.request_notify(jsonb) from public, anon, authenticated, service_role;

-- One call per statement (500 deliveries per call at most), naming the new
-- rows, so the call sends exactly what this transaction queued.
create function private.notification_deliveries_start() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
begin
  for ids in
    select array_agg(id) from (select id, (row_number() over () - 1) / 500 as chunk from new_rows) c group by chunk
  loop
    perform private.request_notify(jsonb_build_object('delivery_ids', to_jsonb(ids)));
  end loop;
  return null;
end
$$;
revoke execute on function private.notification_deliveries_start() from public, anon, authenticated, service_role;

create trigger notification_deliveries_start
  after insert on public.notification_deliveries
  referencing new table as new_rows
  for each statement execute function private.notification_deliveries_start();

-- Retries (and anything the after-commit call missed): only when something is due.
select cron.schedule('notify-sweep', '* * * * *', $$
  select private.request_notify('{}'::jsonb)
  where exists (select 1 from public.notification_deliveries where status in ('queued', 'failed') and next_attempt_at <= now())
$$);
select cron.schedule('cleanup-notifications', '30 2 * * *', $$select private.cleanup_notifications()$$);
-- 08:00 UTC is 09:00 in Lagos (no daylight saving time).
select cron.schedule('weekly-vendor-report', '0 8 * * 1', $$select private.weekly_vendor_report()$$);
