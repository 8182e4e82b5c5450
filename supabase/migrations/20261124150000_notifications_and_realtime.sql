-- In-app notifications, preferences and device tokens; order changes publish
-- to the private broadcast topics of the contract in the same transaction;
-- RLS on realtime.messages decides who may read each topic.

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  type text not null check (type in ('order_update', 'new_order', 'announcement', 'account')),
  title text not null check (char_length(title) between 1 and 200),
  body text not null check (char_length(body) <= 2000),
  data jsonb not null default '{}',
  order_id uuid references public.orders (id) on delete cascade,
  read_at timestamptz,
  delivery_status text not null default 'pending' check (delivery_status in ('pending', 'sent', 'failed', 'skipped')),
  delivery_attempts integer not null default 0,
  created_at timestamptz not null default now()
);
comment on table public.notifications is 'In-app inbox. Rows are created by order events and admin broadcasts; the notify function delivers pending ones by push/SMS/email.';
comment on column public.notifications.id is 'Notification id.';
comment on column public.notifications.user_id is 'Recipient.';
comment on column public.notifications.type is 'order_update (customer), new_order (vendor), announcement or account.';
comment on column public.notifications.title is 'Short title.';
comment on column public.notifications.body is 'Message text.';
comment on column public.notifications.data is 'Structured data for the app (order id, number, status...).';
comment on column public.notifications.order_id is 'The order it is about, if any.';
comment on column public.notifications.read_at is 'When the user read it (null = unread).';
comment on column public.notifications.delivery_status is 'Out-of-app delivery: pending, sent, failed or skipped (per preferences).';
comment on column public.notifications.delivery_attempts is 'Delivery attempts so far.';
comment on column public.notifications.created_at is 'When it was created.';
create index notifications_user_id_created_at_idx on public.notifications (user_id, created_at desc);
create index notifications_order_id_idx on public.notifications (order_id);
create index notifications_pending_idx on public.notifications (created_at) where delivery_status = 'pending';

create table public.notification_preferences (
  user_id uuid primary key default auth.uid() references public.profiles (id) on delete cascade,
  push_enabled boolean not null default true,
  sms_enabled boolean not null default false,
  email_enabled boolean not null default false,
  order_updates boolean not null default true,
  announcements boolean not null default true,
  updated_at timestamptz not null default now()
);
comment on table public.notification_preferences is 'How a user wants to be reached outside the app; no row means the defaults.';
comment on column public.notification_preferences.user_id is 'The user (defaults to the caller).';
comment on column public.notification_preferences.push_enabled is 'Send push notifications.';
comment on column public.notification_preferences.sms_enabled is 'Send SMS.';
comment on column public.notification_preferences.email_enabled is 'Send email.';
comment on column public.notification_preferences.order_updates is 'Deliver order updates outside the app.';
comment on column public.notification_preferences.announcements is 'Deliver announcements outside the app.';
comment on column public.notification_preferences.updated_at is 'When the preferences last changed.';

create table public.device_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  token text not null check (char_length(token) between 10 and 4096),
  platform text not null check (platform in ('ios', 'android', 'web')),
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (user_id, token)
);
comment on table public.device_tokens is 'Push (FCM) registration tokens of a user''s devices.';
comment on column public.device_tokens.id is 'Row id.';
comment on column public.device_tokens.user_id is 'The user (defaults to the caller).';
comment on column public.device_tokens.token is 'FCM registration token.';
comment on column public.device_tokens.platform is 'ios, android or web.';
comment on column public.device_tokens.created_at is 'When the device registered.';
comment on column public.device_tokens.last_seen_at is 'When the app last refreshed the token.';

alter table public.notifications enable row level security;
create policy "Users read their notifications" on public.notifications
  for select to authenticated using (user_id = (select auth.uid()));
-- Users change read_at only (column grant); mark_notifications_read is the usual way.
create policy "Users mark their notifications read" on public.notifications
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
revoke insert, update, delete, truncate on public.notifications from anon, authenticated;
revoke select on public.notifications from anon;
grant update (read_at) on public.notifications to authenticated;

alter table public.notification_preferences enable row level security;
create policy "Users read their preferences" on public.notification_preferences
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users create their preferences" on public.notification_preferences
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users change their preferences" on public.notification_preferences
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users delete their preferences" on public.notification_preferences
  for delete to authenticated using (user_id = (select auth.uid()));
revoke all on public.notification_preferences from anon;

alter table public.device_tokens enable row level security;
create policy "Users read their devices" on public.device_tokens
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users register their devices" on public.device_tokens
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users refresh their devices" on public.device_tokens
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users remove their devices" on public.device_tokens
  for delete to authenticated using (user_id = (select auth.uid()));
revoke all on public.device_tokens from anon;

create function public.mark_notifications_read(p_ids uuid[] default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  n integer;
begin
  if uid is null then
    perform private.fail('not_authenticated', 'Sign in first.', '42501');
  end if;
  update public.notifications set read_at = now()
  where user_id = uid and read_at is null and (p_ids is null or id = any (p_ids));
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function public.mark_notifications_read(uuid[]) is 'Marks the caller''s unread notifications read: those in p_ids, or all when null. Returns how many changed.';
revoke execute on function public.mark_notifications_read(uuid[]) from public, anon;
grant execute on function public.mark_notifications_read(uuid[]) to authenticated;

-- ============================================================================
-- Publishing
-- ============================================================================

-- Every notification is pushed to its user's topic as it is created.
create function private.notifications_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(to_jsonb(new), 'notification', 'user:' || new.user_id, true);
  return null;
end
$$;
revoke execute on function private.notifications_publish() from public, anon, authenticated;

create trigger notifications_publish
  after insert on public.notifications
  for each row execute function private.notifications_publish();

create function private.order_status_text(p_status text, p_fulfillment text) returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case p_status
    when 'awaiting_payment' then 'is waiting for payment'
    when 'new' then 'has been sent to the restaurant'
    when 'preparing' then 'is being prepared'
    when 'ready' then case when p_fulfillment = 'pickup' then 'is ready for pickup' else 'is ready and waiting for the rider' end
    when 'out_for_delivery' then 'is on its way'
    when 'completed' then case when p_fulfillment = 'pickup' then 'has been picked up' else 'has been delivered' end
    when 'cancelled' then 'was cancelled'
  end;
end
$$;
revoke execute on function private.order_status_text(text, text) from public, anon, authenticated, service_role;

-- Order created or status changed: broadcast to order:<id> and
-- vendor:<id>:orders, and notify the customer and the vendor owner. Every order
-- event notifies the customer, including the placement itself: the contract
-- says order events notify customer and vendor, and clients show it as the
-- order's receipt.
create function private.orders_publish() returns trigger
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

create trigger orders_publish_insert
  after insert on public.orders
  for each row execute function private.orders_publish();
create trigger orders_publish_status
  after update of status on public.orders
  for each row execute function private.orders_publish();

-- ============================================================================
-- Who may read and send on which topic
-- ============================================================================

-- order:<id> (customer, vendor owner, admins), vendor:<id>:orders (owner,
-- admins), user:<id> (that user), announcements (every signed-in user).
create function private.can_read_topic(p_topic text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  uuid_re constant text := '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
  ref uuid;
begin
  if uid is null or p_topic is null then
    return false;
  end if;
  if p_topic = 'announcements' then
    return true;
  elsif p_topic ~ ('^user:' || uuid_re || '$') then
    return substr(p_topic, 6)::uuid = uid;
  elsif p_topic ~ ('^order:' || uuid_re || '$') then
    ref := substr(p_topic, 7)::uuid;
    return exists (
      select 1 from public.orders o join public.vendors v on v.id = o.vendor_id
      where o.id = ref and (o.customer_id = uid or v.owner_id = uid)
    ) or private.is_admin();
  elsif p_topic ~ ('^vendor:' || uuid_re || ':orders$') then
    ref := substr(p_topic, 8, 36)::uuid;
    return exists (select 1 from public.vendors v where v.id = ref and v.owner_id = uid) or private.is_admin();
  end if;
  return false;
end
$$;
revoke execute on function private.can_read_topic(text) from public;
grant execute on function private.can_read_topic(text) to authenticated;

create policy "Members read the product topics" on realtime.messages
  for select to authenticated
  using (extension in ('broadcast', 'presence') and private.can_read_topic(topic));

create policy "Admins send announcements" on realtime.messages
  for insert to authenticated
  with check (extension = 'broadcast' and topic = 'announcements' and (select private.is_admin()));

alter publication supabase_realtime add table public.orders, public.notifications;
