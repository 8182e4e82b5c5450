-- Out-of-app delivery of notifications (push, SMS, email) through an outbox:
-- every notification gets its delivery rows in the same transaction, chosen by
-- the recipient's preferences per type and channel; the `notify` edge function
-- claims due rows (for update skip locked, through the functions below, as
-- service_role), sends them and records the outcome with retries and backoff.
-- Devices register their FCM tokens with register_device / unregister_device.

-- ============================================================================
-- Types and preferences
-- ============================================================================

-- The critical types of the seed (SMS on by default) and the weekly report join the inbox types.
alter table public.notifications drop constraint notifications_type_check;
alter table public.notifications add constraint notifications_type_check check (type in (
  'order_update', 'new_order', 'announcement', 'account',
  'payment_failed', 'security_alert', 'account_suspended', 'vendor_report'));
comment on column public.notifications.type is 'order_update (customer), new_order (vendor), announcement, account, vendor_report (weekly), or a critical type: payment_failed, security_alert, account_suspended (SMS by default).';
comment on column public.notifications.delivery_status is 'Summary of the out-of-app deliveries (notification_deliveries): pending while any is queued or retrying, sent when one was sent, failed when all are dead, skipped when none was wanted.';
comment on column public.notifications.delivery_attempts is 'Delivery attempts so far, over all channels.';

-- The seed's defaults: push and email on, SMS off (except critical types).
alter table public.notification_preferences alter column email_enabled set default true;
comment on column public.notification_preferences.email_enabled is 'Send email (default on; needs an email address on the account).';
comment on column public.notification_preferences.sms_enabled is 'Send SMS for every type (default off; critical types are texted anyway unless turned off per type).';
comment on column public.notification_preferences.push_enabled is 'Send push notifications (default on).';

create table public.notification_type_preferences (
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  type text not null check (type in (
    'order_update', 'new_order', 'announcement', 'account',
    'payment_failed', 'security_alert', 'account_suspended', 'vendor_report')),
  channel text not null check (channel in ('push', 'sms', 'email')),
  enabled boolean not null,
  updated_at timestamptz not null default now(),
  primary key (user_id, type, channel)
);
comment on table public.notification_type_preferences is 'Per type and channel choices that override notification_preferences (e.g. no SMS for security_alert, email for order_update only).';
comment on column public.notification_type_preferences.user_id is 'The user (defaults to the caller).';
comment on column public.notification_type_preferences.type is 'Notification type the choice applies to.';
comment on column public.notification_type_preferences.channel is 'push, sms or email.';
comment on column public.notification_type_preferences.enabled is 'Deliver this type on this channel.';
comment on column public.notification_type_preferences.updated_at is 'When the choice last changed.';

create trigger notification_type_preferences_touch
  before update on public.notification_type_preferences
  for each row execute function private.touch_updated_at();

alter table public.notification_type_preferences enable row level security;
create policy "Users read their type preferences" on public.notification_type_preferences
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users create their type preferences" on public.notification_type_preferences
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users change their type preferences" on public.notification_type_preferences
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users delete their type preferences" on public.notification_type_preferences
  for delete to authenticated using (user_id = (select auth.uid()));
revoke all on public.notification_type_preferences from anon;

-- ============================================================================
-- Devices
-- ============================================================================

-- A token belongs to one device, so to one user at a time: register_device moves it.
alter table public.device_tokens drop constraint device_tokens_user_id_token_key;
alter table public.device_tokens add constraint device_tokens_token_key unique (token);
alter table public.device_tokens add column active boolean not null default true;
alter table public.device_tokens add column deactivated_at timestamptz;
alter table public.device_tokens add column deactivated_reason text check (char_length(deactivated_reason) <= 200);
comment on column public.device_tokens.active is 'False once FCM answered that the token is unregistered or invalid; register_device turns it on again.';
comment on column public.device_tokens.deactivated_at is 'When the token was deactivated.';
comment on column public.device_tokens.deactivated_reason is 'FCM''s error code that deactivated it (e.g. messaging/registration-token-not-registered).';
create index device_tokens_user_id_idx on public.device_tokens (user_id) where active;

create function public.register_device(p_token text, p_platform text) returns public.device_tokens
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  row public.device_tokens;
begin
  if p_token is null or char_length(p_token) not between 10 and 4096 or p_token !~ '^[A-Za-z0-9_:.\-]+$' then
    perform private.fail('invalid_token', 'p_token must be an FCM registration token: 10 to 4096 letters, digits or _ : . -');
  end if;
  if p_platform is null or p_platform not in ('android', 'ios', 'web') then
    perform private.fail('invalid_platform', 'p_platform must be android, ios or web.');
  end if;
  -- The unique token makes a concurrent registration of the same token by two
  -- users serialize here; the last one owns the device.
  insert into public.device_tokens as d (user_id, token, platform)
  values (uid, p_token, p_platform)
  on conflict (token) do update
    set user_id = excluded.user_id, platform = excluded.platform, last_seen_at = now(),
        active = true, deactivated_at = null, deactivated_reason = null,
        created_at = case when d.user_id = excluded.user_id then d.created_at else now() end
  returning * into row;
  return row;
end
$$;
comment on function public.register_device(text, text) is 'Registers (or refreshes) the caller''s device FCM token for push; a token that another user had moves to the caller, a deactivated one is active again. Returns the device_tokens row.';
revoke execute on function public.register_device(text, text) from public, anon;
grant execute on function public.register_device(text, text) to authenticated;

create function public.unregister_device(p_token text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
begin
  if p_token is null or char_length(p_token) > 4096 then
    perform private.fail('invalid_token', 'p_token must be a token of at most 4096 characters.');
  end if;
  delete from public.device_tokens where token = p_token and user_id = uid;
  return found;
end
$$;
comment on function public.unregister_device(text) is 'Removes the caller''s device token (sign-out on that device). Returns false when the caller had no such token; other users'' tokens are never touched.';
revoke execute on function public.unregister_device(text) from public, anon;
grant execute on function public.unregister_device(text) to authenticated;

-- ============================================================================
-- The outbox
-- ============================================================================

create table public.notification_deliveries (
  id uuid primary key default gen_random_uuid(),
  notification_id uuid not null references public.notifications (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  channel text not null check (channel in ('push', 'sms', 'email')),
  status text not null default 'queued' check (status in ('queued', 'sent', 'failed', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text check (char_length(last_error) <= 500),
  provider_message_id text check (char_length(provider_message_id) <= 500),
  claim_id uuid,
  claimed_until timestamptz,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (notification_id, channel)
);
comment on table public.notification_deliveries is 'Outbox of out-of-app deliveries: one row per notification and channel the recipient wants, written with the notification; the notify function sends due rows and retries failures (1 min, 5 min, 30 min, 2 h, 12 h), then marks them dead.';
comment on column public.notification_deliveries.id is 'Delivery id.';
comment on column public.notification_deliveries.notification_id is 'The notification delivered.';
comment on column public.notification_deliveries.user_id is 'Recipient (the notification''s user).';
comment on column public.notification_deliveries.channel is 'push (FCM to every active device), sms (the profile''s phone) or email (the account''s confirmed email).';
comment on column public.notification_deliveries.status is 'queued (never tried), sent, failed (last attempt failed; retried at next_attempt_at) or dead (gave up).';
comment on column public.notification_deliveries.attempts is 'Attempts made so far.';
comment on column public.notification_deliveries.next_attempt_at is 'When the row is next due (also the end of a running attempt''s lease).';
comment on column public.notification_deliveries.last_error is 'Why the last attempt failed (e.g. push_not_configured, no_active_devices, provider error).';
comment on column public.notification_deliveries.provider_message_id is 'The provider''s id of the sent message (FCM message name, SMS or email id).';
comment on column public.notification_deliveries.claim_id is 'The attempt that holds the row; only that attempt may record its outcome.';
comment on column public.notification_deliveries.claimed_until is 'Lease end of the running attempt; after it the row is due again (the sender died).';
comment on column public.notification_deliveries.sent_at is 'When it was sent.';
comment on column public.notification_deliveries.created_at is 'When it was queued.';
comment on column public.notification_deliveries.updated_at is 'When the row last changed.';
create index notification_deliveries_due_idx on public.notification_deliveries (next_attempt_at) where status in ('queued', 'failed');
create index notification_deliveries_user_id_idx on public.notification_deliveries (user_id, created_at desc);
create index notification_deliveries_finished_idx on public.notification_deliveries (updated_at) where status in ('sent', 'dead');

create trigger notification_deliveries_touch
  before update on public.notification_deliveries
  for each row execute function private.touch_updated_at();

alter table public.notification_deliveries enable row level security;
create policy "Users read their deliveries, admins read all" on public.notification_deliveries
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
-- Written only by the definer functions below, not even by service_role directly.
revoke insert, update, delete, truncate on public.notification_deliveries from anon, authenticated, service_role;
revoke select on public.notification_deliveries from anon;

-- Whether a user wants a type on a channel: a per-type choice wins; else the
-- channel switch and the category switch (order_updates, announcements);
-- critical types are texted even with SMS off, as the seed does.
create function private.wants_delivery(p_prefs public.notification_preferences, p_choice boolean, p_type text, p_channel text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(p_choice,
    case
      when p_channel = 'sms' and p_type in ('payment_failed', 'security_alert', 'account_suspended') then true
      when not (case when p_type in ('order_update', 'new_order') then coalesce(p_prefs.order_updates, true)
                     when p_type = 'announcement' then coalesce(p_prefs.announcements, true)
                     else true end) then false
      when p_channel = 'push' then coalesce(p_prefs.push_enabled, true)
      when p_channel = 'email' then coalesce(p_prefs.email_enabled, true)
      else coalesce(p_prefs.sms_enabled, false)
    end)
$$;
revoke execute on function private.wants_delivery(public.notification_preferences, boolean, text, text) from public, anon, authenticated, service_role;

-- One statement's notifications (an admin broadcast inserts thousands) queue
-- their deliveries in one insert. A channel without a destination (no active
-- device, no phone, no email) gets no row.
create function private.notifications_enqueue() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.notification_deliveries (notification_id, user_id, channel)
  select n.id, n.user_id, c.channel
  from new_rows n
  cross join (values ('push'), ('sms'), ('email')) as c (channel)
  left join public.notification_preferences p on p.user_id = n.user_id
  left join public.notification_type_preferences t on t.user_id = n.user_id and t.type = n.type and t.channel = c.channel
  where private.wants_delivery(p, t.enabled, n.type, c.channel)
    and case c.channel
      when 'push' then exists (select 1 from public.device_tokens d where d.user_id = n.user_id and d.active)
      when 'sms' then exists (select 1 from public.profiles pr where pr.id = n.user_id and pr.phone is not null)
      -- Only a confirmed address: an unconfirmed one may belong to someone else.
      else exists (select 1 from auth.users u where u.id = n.user_id and u.email <> '' and u.email_confirmed_at is not null)
    end;

  update public.notifications n set delivery_status = 'skipped'
  from new_rows r
  where n.id = r.id and not exists (select 1 from public.notification_deliveries d where d.notification_id = r.id);
  return null;
end
$$;
revoke execute on function private.notifications_enqueue() from public, anon, authenticated, service_role;

create trigger notifications_enqueue
  after insert on public.notifications
  referencing new table as new_rows
  for each statement execute function private.notifications_enqueue();

-- ============================================================================
-- The sender's side (service_role: the notify function)
-- ============================================================================

-- Claims up to p_limit due deliveries (or only those in p_ids) for one attempt:
-- skip locked, so concurrent senders take disjoint rows; the claim commits with
-- a lease (p_lease_seconds) so the send happens outside any transaction, and a
-- sender that dies leaves the row due again when the lease ends.
create function public.claim_notification_deliveries(p_limit integer default 50, p_ids uuid[] default null, p_lease_seconds integer default 120)
returns table (
  id uuid, claim_id uuid, channel text, attempts integer, notification_id uuid, user_id uuid,
  type text, title text, body text, data jsonb, phone text, email text, tokens text[]
)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  claim uuid := gen_random_uuid();
begin
  if p_limit is null or p_limit not between 1 and 500 then
    perform private.fail('invalid_limit', 'p_limit must be between 1 and 500.');
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 10 and 3600 then
    perform private.fail('invalid_lease', 'p_lease_seconds must be between 10 and 3600.');
  end if;
  if cardinality(p_ids) > 500 then
    perform private.fail('invalid_ids', 'p_ids may name at most 500 deliveries.');
  end if;
  return query
  with due as (
    select d.id from public.notification_deliveries d
    where d.status in ('queued', 'failed') and d.next_attempt_at <= now()
      and (p_ids is null or d.id = any (p_ids))
    order by d.next_attempt_at
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.notification_deliveries d
    set attempts = d.attempts + 1, claim_id = claim, claimed_until = now() + make_interval(secs => p_lease_seconds),
        next_attempt_at = now() + make_interval(secs => p_lease_seconds)
    from due where d.id = due.id
    returning d.*
  )
  select c.id, c.claim_id, c.channel, c.attempts, n.id, n.user_id, n.type, n.title, n.body, n.data,
         pr.phone, case when u.email_confirmed_at is not null then u.email::text end,
         array(select t.token from public.device_tokens t where t.user_id = c.user_id and t.active order by t.last_seen_at desc limit 20)
  from claimed c
  join public.notifications n on n.id = c.notification_id
  join public.profiles pr on pr.id = c.user_id
  left join auth.users u on u.id = c.user_id;
end
$$;
comment on function public.claim_notification_deliveries(integer, uuid[], integer) is 'Contract (service_role only, for the notify function): claims due deliveries for one attempt each (for update skip locked, so concurrent senders never share a row) and returns what sending needs: the message, the phone, the email and the active FCM tokens.';
revoke execute on function public.claim_notification_deliveries(integer, uuid[], integer) from public, anon, authenticated;
grant execute on function public.claim_notification_deliveries(integer, uuid[], integer) to service_role;

-- The retry delays after attempts 1..5; a sixth failure is final.
create function private.delivery_backoff(p_attempts integer) returns interval
language sql
immutable
set search_path = ''
as $$
  select (array[interval '1 minute', interval '5 minutes', interval '30 minutes', interval '2 hours', interval '12 hours'])[p_attempts]
$$;
revoke execute on function private.delivery_backoff(integer) from public, anon, authenticated, service_role;

-- Records an attempt's outcome: sent, retry (backoff, dead after the last
-- delay) or dead (nothing to retry: no device, a refused number). Only the
-- claim that holds the row may record it, so a sender whose lease ran out and
-- whose row was claimed again cannot overwrite the newer attempt.
create function public.complete_notification_delivery(
  p_id uuid, p_claim_id uuid, p_outcome text, p_error text default null, p_provider_message_id text default null
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  d public.notification_deliveries;
  next_status text;
begin
  if p_outcome is null or p_outcome not in ('sent', 'retry', 'dead') then
    perform private.fail('invalid_outcome', 'p_outcome must be sent, retry or dead.');
  end if;
  -- The notification first: completions of its channels then take turns, so
  -- each one's summary below sees the others' committed outcomes.
  perform 1 from public.notifications n
  where n.id = (select x.notification_id from public.notification_deliveries x where x.id = p_id) for update;
  select * into d from public.notification_deliveries where id = p_id for update;
  if not found or d.claim_id is distinct from p_claim_id or p_claim_id is null then
    perform private.fail('claim_lost', 'This attempt no longer holds the delivery (unknown id, or the lease ended and it was claimed again).', 'P0002');
  end if;
  next_status := case
    when p_outcome = 'sent' then 'sent'
    when p_outcome = 'dead' or private.delivery_backoff(d.attempts) is null then 'dead'
    else 'failed' end;
  update public.notification_deliveries
  set status = next_status,
      claim_id = null, claimed_until = null,
      last_error = case when next_status = 'sent' then null else left(coalesce(p_error, 'failed'), 500) end,
      provider_message_id = left(p_provider_message_id, 500),
      sent_at = case when next_status = 'sent' then now() end,
      next_attempt_at = case when next_status = 'failed' then now() + private.delivery_backoff(d.attempts) else next_attempt_at end
  where id = p_id;

  update public.notifications n
  set delivery_attempts = s.attempts,
      delivery_status = case when s.open > 0 then 'pending' when s.sent > 0 then 'sent' else 'failed' end
  from (
    select sum(x.attempts)::integer as attempts,
           count(*) filter (where x.status in ('queued', 'failed')) as open,
           count(*) filter (where x.status = 'sent') as sent
    from public.notification_deliveries x where x.notification_id = d.notification_id
  ) s
  where n.id = d.notification_id;
  return next_status;
end
$$;
comment on function public.complete_notification_delivery(uuid, uuid, text, text, text) is 'Contract (service_role only, for the notify function): records the outcome of a claimed attempt (sent, retry or dead) and returns the new status: failed with the next backoff, or dead after the fifth retry.';
revoke execute on function public.complete_notification_delivery(uuid, uuid, text, text, text) from public, anon, authenticated;
grant execute on function public.complete_notification_delivery(uuid, uuid, text, text, text) to service_role;

create function public.deactivate_device_tokens(p_tokens text[], p_reason text) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  n integer;
begin
  if cardinality(p_tokens) > 500 then
    perform private.fail('invalid_tokens', 'p_tokens may name at most 500 tokens.');
  end if;
  update public.device_tokens
  set active = false, deactivated_at = now(), deactivated_reason = left(coalesce(p_reason, 'invalid'), 200)
  where token = any (p_tokens) and active;
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function public.deactivate_device_tokens(text[], text) is 'Contract (service_role only, for the notify function): deactivates the tokens FCM answered as unregistered or invalid. Returns how many changed.';
revoke execute on function public.deactivate_device_tokens(text[], text) from public, anon, authenticated;
grant execute on function public.deactivate_device_tokens(text[], text) to service_role;

