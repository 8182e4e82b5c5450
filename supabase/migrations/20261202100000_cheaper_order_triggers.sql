-- Cheaper placement, same rules (see place-order-profile):
-- - SQL functions with `set search_path` are never inlined, and Postgres 17
--   plans a SQL function's body afresh in every statement (and every
--   transaction, when a plpgsql expression calls it). wants_delivery (one plan
--   per notifications insert), delivery_fee and vendor_closed_at (one each per
--   priced order) are therefore plpgsql, whose plans live for the session.
-- - orders_publish inserts its notifications in one statement, so the
--   statement-level notifications_enqueue runs once per order event, not twice.

create or replace function private.wants_delivery(p_prefs public.notification_preferences, p_choice boolean, p_type text, p_channel text) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return coalesce(p_choice,
    case
      when p_channel = 'sms' and p_type in ('payment_failed', 'security_alert', 'account_suspended') then true
      when not (case when p_type in ('order_update', 'new_order') then coalesce(p_prefs.order_updates, true)
                     when p_type = 'announcement' then coalesce(p_prefs.announcements, true)
                     else true end) then false
      when p_channel = 'push' then coalesce(p_prefs.push_enabled, true)
      when p_channel = 'email' then coalesce(p_prefs.email_enabled, true)
      else coalesce(p_prefs.sms_enabled, false)
    end);
end
$$;

-- The delivery fee for a distance: every started km beyond the base counts.
create or replace function private.delivery_fee(p_base_fee bigint, p_base_km numeric, p_per_km bigint, p_km double precision) returns bigint
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  return p_base_fee + case when p_km > p_base_km then p_per_km * ceil(p_km - p_base_km::double precision)::bigint else 0 end;
end
$$;

-- Whether a closure covers a moment.
create or replace function private.vendor_closed_at(p_vendor_id uuid, p_at timestamptz) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from public.vendor_closures c where c.vendor_id = p_vendor_id and c.ends_at > p_at and c.starts_at <= p_at);
end
$$;

create or replace function private.orders_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
  vendor_name text;
  payload jsonb;
  lagos_time text := to_char(new.scheduled_for at time zone 'Africa/Lagos', 'Dy DD Mon HH24:MI');
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status then
    return null;
  end if;
  select v.owner_id, v.name into owner, vendor_name from public.vendors v where v.id = new.vendor_id;
  if tg_op = 'INSERT' then
    payload := jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status,
                                  'subtotal', new.subtotal, 'discount', new.discount, 'delivery_fee', new.delivery_fee,
                                  'service_fee', new.service_fee, 'small_order_fee', new.small_order_fee, 'vat', new.vat,
                                  'tip', new.tip, 'total', new.total, 'currency', new.currency, 'fulfillment', new.fulfillment,
                                  'scheduled_for', new.scheduled_for, 'at', new.created_at);
    perform realtime.send(payload, 'created', 'order:' || new.id, true);
    perform realtime.send(payload, 'order_created', 'vendor:' || new.vendor_id || ':orders', true);
  else
    payload := jsonb_build_object('order_id', new.id, 'number', new.number, 'old_status', old.status,
                                  'new_status', new.status, 'scheduled_for', new.scheduled_for, 'at', new.updated_at);
    perform realtime.send(payload, 'status_changed', 'order:' || new.id, true);
    perform realtime.send(payload, 'status_changed', 'vendor:' || new.vendor_id || ':orders', true);
  end if;

  -- The customer's confirmation on placement (the app's receipt), then every
  -- change; the vendor hears about orders it must act on: a paid new order (a
  -- scheduled one when it is released), and cancels. One statement, customer first.
  insert into public.notifications (user_id, type, title, body, data, order_id)
  select n.user_id, n.type, n.title, n.body, n.data, new.id
  from (values
    (true, new.customer_id, 'order_update', format('Order %s', new.number),
     case when new.status = 'scheduled'
          then format('Your order from %s is scheduled for %s (Lagos time).', vendor_name, lagos_time)
          else format('Your order from %s %s.', vendor_name, private.order_status_text(new.status, new.fulfillment)) end,
     jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status, 'total', new.total,
                        'scheduled_for', new.scheduled_for)),
    (new.status = 'new' or (new.status = 'cancelled' and tg_op = 'UPDATE' and old.status <> 'awaiting_payment'
                             and new.cancelled_by_role is distinct from 'vendor'),
     owner, 'new_order',
     case when new.status = 'new' then format('New order %s', new.number) else format('Order %s cancelled', new.number) end,
     case when new.status = 'new' and new.scheduled_for is not null
            then format('Scheduled %s order for %s (Lagos time), total %s kobo%s.', new.fulfillment, lagos_time, new.total,
                        case when new.tip > 0 then format(', tip %s kobo', new.tip) else '' end)
          when new.status = 'new'
            then format('%s order, total %s kobo%s.', initcap(new.fulfillment), new.total,
                        case when new.tip > 0 then format(', tip %s kobo', new.tip) else '' end)
          else coalesce('Reason: ' || new.cancel_reason, 'The order was cancelled.') end,
     jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status, 'total', new.total,
                        'tip', new.tip, 'scheduled_for', new.scheduled_for))
  ) as n (wanted, user_id, type, title, body, data)
  where n.wanted;
  return null;
end
$$;
