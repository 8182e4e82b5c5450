-- Every order event notifies the customer again, including the placement
-- itself (20261124170000 had dropped that one): the contract says order events
-- notify customer and vendor, and clients show it as the order's receipt.

create or replace function private.orders_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
  vendor_name text;
  payload jsonb;
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status then
    return null;
  end if;
  select v.owner_id, v.name into owner, vendor_name from public.vendors v where v.id = new.vendor_id;
  if tg_op = 'INSERT' then
    payload := jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status,
                                  'total', new.total, 'currency', new.currency, 'fulfillment', new.fulfillment, 'at', new.created_at);
    perform realtime.send(payload, 'created', 'order:' || new.id, true);
    perform realtime.send(payload, 'order_created', 'vendor:' || new.vendor_id || ':orders', true);
  else
    payload := jsonb_build_object('order_id', new.id, 'number', new.number, 'old_status', old.status,
                                  'new_status', new.status, 'at', new.updated_at);
    perform realtime.send(payload, 'status_changed', 'order:' || new.id, true);
    perform realtime.send(payload, 'status_changed', 'vendor:' || new.vendor_id || ':orders', true);
  end if;

  -- The customer's confirmation on placement (the app's receipt), then every change.
  insert into public.notifications (user_id, type, title, body, data, order_id)
  values (new.customer_id, 'order_update', format('Order %s', new.number),
          format('Your order from %s %s.', vendor_name, private.order_status_text(new.status, new.fulfillment)),
          jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status), new.id);

  -- The vendor hears about orders it must act on: a paid new order, and cancels.
  if new.status = 'new' or (new.status = 'cancelled' and tg_op = 'UPDATE' and old.status <> 'awaiting_payment'
                             and new.cancelled_by_role is distinct from 'vendor') then
    insert into public.notifications (user_id, type, title, body, data, order_id)
    values (owner, 'new_order',
            case when new.status = 'new' then format('New order %s', new.number) else format('Order %s cancelled', new.number) end,
            case when new.status = 'new' then format('%s order, total %s kobo.', initcap(new.fulfillment), new.total)
                 else coalesce('Reason: ' || new.cancel_reason, 'The order was cancelled.') end,
            jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status), new.id);
  end if;
  return null;
end
$$;
revoke execute on function private.orders_publish() from public, anon, authenticated;
