-- The work of the notification jobs, as plain functions so a job's command is
-- one call (the schedules are in the migration that uses pg_cron):
-- cleanup-notifications (daily) and weekly-vendor-report (Mondays 08:00 UTC).

create index orders_completed_at_idx on public.orders (completed_at) where status = 'completed';

-- Read notifications older than 90 days go (their deliveries with them), and
-- finished deliveries (sent or dead) older than 30 days: the outbox stays small.
create function private.cleanup_notifications() returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  notes integer;
  deliveries integer;
begin
  delete from public.notification_deliveries
  where status in ('sent', 'dead') and updated_at < now() - interval '30 days';
  get diagnostics deliveries = row_count;
  delete from public.notifications
  where read_at is not null and created_at < now() - interval '90 days';
  get diagnostics notes = row_count;
  return jsonb_build_object('notifications', notes, 'deliveries', deliveries);
end
$$;
comment on function private.cleanup_notifications() is 'Job cleanup-notifications: deletes read notifications older than 90 days and sent or dead deliveries older than 30 days. Returns the counts.';
revoke execute on function private.cleanup_notifications() from public, anon, authenticated, service_role;

-- Each active vendor's owner gets last week's figures (Monday to Monday in
-- Africa/Lagos, where the vendors are) as a notification of type
-- vendor_report, which the outbox also emails when the owner's preferences
-- allow. Once per vendor and week: a re-run of the job sends nothing new.
create function private.weekly_vendor_report(p_week_start date default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  week_start date := coalesce(p_week_start, (date_trunc('week', now() at time zone 'Africa/Lagos') - interval '7 days')::date);
  from_ts timestamptz := week_start::timestamp at time zone 'Africa/Lagos';
  to_ts timestamptz := (week_start + 7)::timestamp at time zone 'Africa/Lagos';
  made integer;
begin
  if extract(isodow from week_start) <> 1 then
    perform private.fail('invalid_week', 'p_week_start must be a Monday.');
  end if;
  with figures as (
    select v.id as vendor_id, v.owner_id, v.name,
           count(o.id)::integer as orders,
           coalesce(sum(o.subtotal), 0)::bigint as sales,
           coalesce(sum(o.commission), 0)::bigint as commission,
           coalesce(sum(o.subtotal + o.delivery_fee - o.commission), 0)::bigint as earnings,
           max(o.currency) as currency
    from public.vendors v
    left join public.orders o on o.vendor_id = v.id and o.status = 'completed' and o.completed_at >= from_ts and o.completed_at < to_ts
    where v.status = 'active'
    group by v.id
  ), top_items as (
    select f.vendor_id, coalesce(jsonb_agg(jsonb_build_object('name', t.name, 'quantity', t.quantity, 'sales', t.sales) order by t.quantity desc, t.sales desc, t.name), '[]') as items
    from figures f
    left join lateral (
      select i.name, sum(i.quantity)::integer as quantity, sum(i.line_total)::bigint as sales
      from public.orders o join public.order_items i on i.order_id = o.id
      where o.vendor_id = f.vendor_id and o.status = 'completed' and o.completed_at >= from_ts and o.completed_at < to_ts
      group by i.name
      order by 2 desc, 3 desc, 1
      limit 3
    ) t on true
    where t.name is not null
    group by f.vendor_id
  )
  insert into public.notifications (user_id, type, title, body, data)
  select f.owner_id, 'vendor_report',
         left(format('Your week at %s', f.name), 200),
         left(format('%s completed orders, sales %s kobo, commission %s kobo, earnings %s kobo.%s', f.orders, f.sales, f.commission, f.earnings,
                     coalesce(' Top items: ' || (select string_agg(format('%s (%s)', x->>'name', x->>'quantity'), ', ') from jsonb_array_elements(t.items) x) || '.', '')), 2000),
         jsonb_build_object('vendor_id', f.vendor_id, 'week_start', week_start, 'week_end', week_start + 7,
                            'orders', f.orders, 'sales', f.sales, 'commission', f.commission, 'earnings', f.earnings,
                            'currency', coalesce(f.currency, 'NGN'), 'top_items', coalesce(t.items, '[]'))
  from figures f
  left join top_items t on t.vendor_id = f.vendor_id
  where not exists (
    select 1 from public.notifications n
    where n.user_id = f.owner_id and n.type = 'vendor_report'
      and n.data ->> 'vendor_id' = f.vendor_id::text and n.data ->> 'week_start' = week_start::text
  );
  get diagnostics made = row_count;
  return made;
end
$$;
comment on function private.weekly_vendor_report(date) is 'Job weekly-vendor-report: notifies each active vendor''s owner of the week starting p_week_start (a Monday, Africa/Lagos; default last week): completed orders, sales, commission, earnings and top 3 items. Once per vendor and week. Returns how many reports were made.';
revoke execute on function private.weekly_vendor_report(date) from public, anon, authenticated, service_role;
