-- The platform's scheduled jobs (pg_cron), each a SQL function:
--   expire-unpaid-orders      every minute   public.expire_unpaid_orders()
--   cancel-unaccepted-orders  every minute   public.cancel_unaccepted_orders()
--   reconcile-payments        every 2 min    private.request_payment_reconcile(): when card payments
--                                            are overdue, calls the `reconcile` edge function through pg_net
-- The function URL and service key come from Supabase Vault (secrets
-- `project_url` and `service_role_key`, created once at deploy; the local stack
-- writes them at start). See README, "Deploy".

-- ============================================================================
-- Orders a vendor does not accept in time
-- ============================================================================

alter table public.vendors
  add column accept_within_minutes integer not null default 10 check (accept_within_minutes between 3 and 60);
comment on column public.vendors.accept_within_minutes is 'Minutes a new order may wait for the vendor to accept it (3 to 60, set by the owner); then the system cancels it with a full refund. The vendor is reminded at half the time.';

alter table public.orders add column accept_reminder_sent_at timestamptz;
comment on column public.orders.accept_reminder_sent_at is 'When the vendor was reminded to accept this new order (at most once).';

-- The job scans new orders only.
create index orders_new_idx on public.orders (vendor_id) where status = 'new';

-- When an order became `new`: its latest transition to new in the history
-- (placement for wallet orders, payment for card orders).
create function private.order_new_since(p_order_id uuid) returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
  select max(e.created_at) from public.order_events e where e.order_id = p_order_id and e.to_status = 'new'
$$;
revoke execute on function private.order_new_since(uuid) from public, anon, authenticated, service_role;

create function public.cancel_unaccepted_orders() returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  o public.orders;
  reminded integer := 0;
  cancelled integer := 0;
begin
  for r in
    select ord.id, ven.owner_id, ven.accept_within_minutes as window_minutes, now() - private.order_new_since(ord.id) as waited
    from public.orders ord join public.vendors ven on ven.id = ord.vendor_id
    where ord.status = 'new'
      and now() - private.order_new_since(ord.id) >= make_interval(secs => ven.accept_within_minutes * 30)
    order by ord.created_at
    for update of ord
  loop
    -- Locked after the scan: the vendor may have accepted it meanwhile.
    select * into o from public.orders where id = r.id;
    if o.status <> 'new' then
      continue;
    end if;
    if r.waited >= make_interval(mins => r.window_minutes) then
      -- The system actor, as for unpaid orders: the lifecycle refunds a paid
      -- order in full and the order triggers notify the customer and the vendor.
      perform private.apply_order_transition(o, 'cancelled', 'not_accepted', null, 'system');
      cancelled := cancelled + 1;
    elsif o.accept_reminder_sent_at is null then
      update public.orders set accept_reminder_sent_at = now() where id = o.id;
      insert into public.notifications (user_id, type, title, body, data, order_id)
      values (r.owner_id, 'new_order', format('Order %s is waiting', o.number),
              format('Accept order %s within %s minutes of its arrival, or it will be cancelled and refunded.', o.number, r.window_minutes),
              jsonb_build_object('order_id', o.id, 'number', o.number, 'status', o.status, 'reminder', true), o.id);
      reminded := reminded + 1;
    end if;
  end loop;
  return jsonb_build_object('reminded', reminded, 'cancelled', cancelled);
end
$$;
comment on function public.cancel_unaccepted_orders() is 'service_role only (the cancel-unaccepted-orders job): reminds the vendor once about orders new for half its accept_within_minutes, and cancels those new for longer than the whole (reason not_accepted, actor system, paid orders refunded in full). Returns {reminded, cancelled}.';
revoke execute on function public.cancel_unaccepted_orders() from public, anon, authenticated;
grant execute on function public.cancel_unaccepted_orders() to service_role;

-- ============================================================================
-- Card payments whose webhook never came
-- ============================================================================

-- Pending card payments started more than 5 minutes ago, for the reconcile
-- function to verify with the provider. Paystack verifies by our reference;
-- Stripe needs the PaymentIntent id (set when it was created). Payments older
-- than 30 minutes are due to fail when the provider has not taken the money.
create function public.payments_to_reconcile(p_limit integer default 100)
returns table (payment_id uuid, provider text, reference text, provider_payment_id text, amount bigint, currency text, abandoned boolean)
language sql
stable
security definer
set search_path = ''
as $$
  select p.id, p.provider, p.reference, p.provider_payment_id, p.amount, p.currency::text,
         p.created_at < now() - interval '30 minutes'
  from public.payments p
  where p.status = 'pending'
    and p.created_at < now() - interval '5 minutes'
  order by p.created_at
  limit least(greatest(coalesce(p_limit, 100), 1), 500)
$$;
comment on function public.payments_to_reconcile(integer) is 'Contract (service_role only, for the reconcile function): pending card payments started more than 5 minutes ago, oldest first (at most p_limit, 1..500); abandoned = started more than 30 minutes ago.';
revoke execute on function public.payments_to_reconcile(integer) from public, anon, authenticated;
grant execute on function public.payments_to_reconcile(integer) to service_role;

create index payments_pending_created_at_idx on public.payments (created_at) where status = 'pending';

-- The reconcile-payments job: one call to the `reconcile` edge function when
-- there is something to verify, sent by pg_net after this job's transaction
-- commits. Returns the pg_net request id, or null when nothing is overdue.
create function private.request_payment_reconcile() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  base text;
  service_key text;
begin
  if not exists (select from public.payments where status = 'pending' and created_at < now() - interval '5 minutes') then
    return null;
  end if;
  select decrypted_secret into base from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'service_role_key';
  if base is null or service_key is null then
    raise exception 'reconcile_not_configured'
      using detail = 'Create the Vault secrets project_url and service_role_key (README, "Deploy").';
  end if;
  return net.http_post(
    url => rtrim(base, '/') || '/functions/v1/reconcile',
    body => '{}'::jsonb,
    headers => jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
    timeout_milliseconds => 60000
  );
end
$$;
revoke execute on function private.request_payment_reconcile() from public, anon, authenticated, service_role;

-- ============================================================================
-- The schedules (UTC). Jobs run as the role that scheduled them: postgres.
-- ============================================================================

select cron.schedule('expire-unpaid-orders', '* * * * *', 'select public.expire_unpaid_orders()');
select cron.schedule('cancel-unaccepted-orders', '* * * * *', 'select public.cancel_unaccepted_orders()');
select cron.schedule('reconcile-payments', '*/2 * * * *', 'select private.request_payment_reconcile()');
