-- Card payments (Paystack, Stripe): the payment rows that edge functions create
-- and the webhook effects, all in SQL functions callable by service_role only.
-- Edge functions call them over SUPABASE_DB_URL; provider I/O stays in Deno.

create table public.payments (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('paystack', 'stripe')),
  reference text not null unique default 'rb_' || replace(gen_random_uuid()::text, '-', ''),
  purpose text not null check (purpose in ('order', 'wallet_topup')),
  order_id uuid references public.orders (id) on delete restrict,
  user_id uuid not null references public.profiles (id) on delete restrict,
  amount bigint not null check (amount > 0),
  currency char(3) not null,
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed', 'refunded', 'flagged')),
  provider_payment_id text,
  provider_data jsonb not null default '{}',
  refunded_amount bigint not null default 0 check (refunded_amount between 0 and amount),
  failure_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  check ((purpose = 'order') = (order_id is not null))
);
comment on table public.payments is 'Card payments through Paystack or Stripe, for an order or a wallet top-up. Written only by service_role functions (edge functions).';
comment on column public.payments.id is 'Payment id.';
comment on column public.payments.provider is 'paystack or stripe.';
comment on column public.payments.reference is 'Our unique reference, sent to the provider (Paystack reference, Stripe metadata).';
comment on column public.payments.purpose is 'order or wallet_topup.';
comment on column public.payments.order_id is 'The order paid for (purpose order).';
comment on column public.payments.user_id is 'The paying user.';
comment on column public.payments.amount is 'Amount to collect, minor units, always from the database.';
comment on column public.payments.currency is 'ISO 4217 currency of the amount.';
comment on column public.payments.status is 'pending, succeeded, failed, refunded, or flagged (amount or currency mismatch: needs an admin).';
comment on column public.payments.provider_payment_id is 'The provider''s id (Stripe PaymentIntent id, Paystack transaction id).';
comment on column public.payments.provider_data is 'What the client needs to pay (authorization_url, access_code, client_secret), kept so a retry returns the same payment.';
comment on column public.payments.refunded_amount is 'Refunded by the provider so far, minor units.';
comment on column public.payments.failure_reason is 'Why it failed or was flagged.';
comment on column public.payments.created_at is 'When the payment was started.';
comment on column public.payments.updated_at is 'When it last changed.';
comment on column public.payments.paid_at is 'When the provider confirmed it.';

create index payments_order_id_idx on public.payments (order_id);
create index payments_user_id_created_at_idx on public.payments (user_id, created_at desc);
-- One live payment per order: a second request returns it.
create unique index payments_one_pending_per_order on public.payments (order_id) where status = 'pending';

create table public.payment_events (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('paystack', 'stripe')),
  provider_event_id text not null,
  event_type text not null,
  payment_id uuid references public.payments (id) on delete restrict,
  outcome text not null,
  payload jsonb,
  created_at timestamptz not null default now(),
  unique (provider, provider_event_id)
);
comment on table public.payment_events is 'Every provider webhook event applied, keyed by the provider''s event id: a replayed event is a no-op.';
comment on column public.payment_events.id is 'Row id.';
comment on column public.payment_events.provider is 'paystack or stripe.';
comment on column public.payment_events.provider_event_id is 'The provider''s event id (unique per provider).';
comment on column public.payment_events.event_type is 'succeeded, failed or refunded (our classification of the provider event).';
comment on column public.payment_events.payment_id is 'The payment it applied to (null for an unknown reference).';
comment on column public.payment_events.outcome is 'What it did: confirmed, credited, flagged, refunded_to_wallet, failed, refunded, ignored, unknown_reference...';
comment on column public.payment_events.payload is 'The provider event, for audits.';
comment on column public.payment_events.created_at is 'When it was received.';
create index payment_events_payment_id_idx on public.payment_events (payment_id);

create trigger payments_touch_updated_at
  before update on public.payments
  for each row execute function private.touch_updated_at();

alter table public.payments enable row level security;
alter table public.payment_events enable row level security;
create policy "Users read their payments, admins read all" on public.payments
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
create policy "Admins read payment events" on public.payment_events
  for select to authenticated using ((select private.is_admin()));

revoke insert, update, delete, truncate on public.payments, public.payment_events from anon, authenticated, service_role;
revoke select on public.payments, public.payment_events from anon;

-- Wallet top-up bounds, minor units: NGN 100 to NGN 500,000.
create function private.topup_limits(out min_amount bigint, out max_amount bigint)
language sql
immutable
set search_path = ''
as $$ select 10000::bigint, 50000000::bigint $$;
revoke execute on function private.topup_limits() from public, anon, authenticated, service_role;

create function public.begin_payment(p_user_id uuid, p_provider text, p_order_id uuid default null, p_topup_amount bigint default null)
returns public.payments
language plpgsql
security definer
set search_path = ''
as $$
declare
  o public.orders;
  p public.payments;
  lim record := private.topup_limits();
  st text;
begin
  if p_provider is null or p_provider not in ('paystack', 'stripe') then
    perform private.fail('invalid_provider', 'The provider must be paystack or stripe.');
  end if;
  if (p_order_id is null) = (p_topup_amount is null) then
    perform private.fail('invalid_payment_request', 'Give either an order id or a top-up amount.');
  end if;
  select status into st from public.profiles where id = p_user_id;
  if st is null then
    perform private.fail('not_authenticated', 'This account does not exist.', '42501');
  elsif st <> 'active' then
    perform private.fail('account_suspended', 'This account is suspended.', '42501');
  end if;

  if p_order_id is not null then
    select * into o from public.orders where id = p_order_id and customer_id = p_user_id for update;
    if not found then
      perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
    end if;
    if o.status <> 'awaiting_payment' then
      perform private.fail('order_not_awaiting_payment', format('Order %s is %s, not awaiting payment.', o.number, o.status));
    end if;
    if o.payment_method <> p_provider then
      perform private.fail('payment_method_mismatch', format('Order %s is to be paid with %s.', o.number, o.payment_method));
    end if;
    select * into p from public.payments where order_id = o.id and status = 'pending';
    if found then
      return p;
    end if;
    insert into public.payments (provider, purpose, order_id, user_id, amount, currency)
    values (p_provider, 'order', o.id, p_user_id, o.total, o.currency)
    returning * into p;
    if o.payment_status = 'failed' then
      update public.orders set payment_status = 'pending', updated_at = now() where id = o.id;
    end if;
    return p;
  end if;

  if p_topup_amount not between lim.min_amount and lim.max_amount then
    perform private.fail('invalid_amount', format('A top-up must be from %s to %s kobo.', lim.min_amount, lim.max_amount));
  end if;
  insert into public.payments (provider, purpose, user_id, amount, currency)
  values (p_provider, 'wallet_topup', p_user_id, p_topup_amount, 'NGN')
  returning * into p;
  return p;
end
$$;
comment on function public.begin_payment(uuid, text, uuid, bigint) is 'Contract (service_role only, for the payments edge function): starts the payment for order p_order_id owned by p_user_id in awaiting_payment with provider = its payment_method, or returns the live (pending) one; or creates a wallet top-up of p_topup_amount (10000..50000000 kobo). Amount and currency come from the database. Errors: invalid_provider, invalid_payment_request, order_not_found (P0002), order_not_awaiting_payment, payment_method_mismatch, invalid_amount, account_suspended (42501).';
revoke execute on function public.begin_payment(uuid, text, uuid, bigint) from public, anon, authenticated;
grant execute on function public.begin_payment(uuid, text, uuid, bigint) to service_role;

create function public.set_payment_provider_data(p_payment_id uuid, p_provider_payment_id text, p_provider_data jsonb default '{}')
returns public.payments
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
begin
  update public.payments
  set provider_payment_id = coalesce(p_provider_payment_id, provider_payment_id),
      provider_data = provider_data || coalesce(p_provider_data, '{}')
  where id = p_payment_id
  returning * into p;
  if not found then
    perform private.fail('payment_not_found', 'This payment does not exist.', 'P0002');
  end if;
  return p;
end
$$;
comment on function public.set_payment_provider_data(uuid, text, jsonb) is 'Contract (service_role only): stores the provider''s id and client data (authorization_url, access_code or client_secret) after initializing with the provider, so begin_payment''s retry can return the same values. Error: payment_not_found (P0002).';
revoke execute on function public.set_payment_provider_data(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function public.set_payment_provider_data(uuid, text, jsonb) to service_role;

-- Records a provider event once. Returns false when it was seen before.
create function private.record_payment_event(p_provider text, p_event_id text, p_type text, p_payload jsonb) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_provider is null or p_provider not in ('paystack', 'stripe') then
    perform private.fail('invalid_provider', 'The provider must be paystack or stripe.');
  end if;
  if nullif(trim(p_event_id), '') is null then
    perform private.fail('invalid_event_id', 'The provider event id is required.');
  end if;
  insert into public.payment_events (provider, provider_event_id, event_type, outcome, payload)
  values (p_provider, p_event_id, p_type, 'received', p_payload)
  on conflict (provider, provider_event_id) do nothing;
  return found;
end
$$;
revoke execute on function private.record_payment_event(text, text, text, jsonb) from public, anon, authenticated, service_role;

create function private.finish_payment_event(p_provider text, p_event_id text, p_payment_id uuid, p_outcome text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
begin
  update public.payment_events set payment_id = p_payment_id, outcome = p_outcome
  where provider = p_provider and provider_event_id = p_event_id;
  select * into p from public.payments where id = p_payment_id;
  return jsonb_build_object('outcome', p_outcome, 'duplicate', false, 'payment_id', p_payment_id,
                            'order_id', p.order_id, 'payment_status', p.status);
end
$$;
revoke execute on function private.finish_payment_event(text, text, uuid, text) from public, anon, authenticated, service_role;

create function private.replayed_payment_event(p_provider text, p_event_id text) returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object('outcome', e.outcome, 'duplicate', true, 'payment_id', e.payment_id,
                            'order_id', p.order_id, 'payment_status', p.status)
  from public.payment_events e left join public.payments p on p.id = e.payment_id
  where e.provider = p_provider and e.provider_event_id = p_event_id
$$;
revoke execute on function private.replayed_payment_event(text, text) from public, anon, authenticated, service_role;

create function public.confirm_payment(
  p_provider text,
  p_provider_event_id text,
  p_reference text,
  p_amount bigint,
  p_currency text,
  p_provider_payment_id text default null,
  p_payload jsonb default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
  o public.orders;
  outcome text;
begin
  if not private.record_payment_event(p_provider, p_provider_event_id, 'succeeded', p_payload) then
    return private.replayed_payment_event(p_provider, p_provider_event_id);
  end if;
  select * into p from public.payments where reference = p_reference for update;
  if not found then
    return private.finish_payment_event(p_provider, p_provider_event_id, null, 'unknown_reference');
  end if;
  if p.status <> 'pending' and p.status <> 'failed' then
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'ignored');
  end if;
  if p.provider <> p_provider or p_amount is distinct from p.amount or upper(p_currency) is distinct from p.currency then
    update public.payments
    set status = 'flagged', provider_payment_id = coalesce(p_provider_payment_id, provider_payment_id),
        failure_reason = format('%s reported %s %s; expected %s %s %s.', p_provider, p_amount, upper(p_currency), p.provider, p.amount, p.currency)
    where id = p.id;
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'flagged');
  end if;

  update public.payments
  set status = 'succeeded', paid_at = now(), failure_reason = null,
      provider_payment_id = coalesce(p_provider_payment_id, provider_payment_id)
  where id = p.id;

  if p.purpose = 'wallet_topup' then
    perform private.post_wallet_entry(p.user_id, p.amount, 'topup', p.reference, 'payment:' || p.id, null, p.id);
    outcome := 'credited';
  else
    select * into o from public.orders where id = p.order_id for update;
    if o.status = 'awaiting_payment' then
      perform private.apply_order_transition(o, 'new', null, null, 'system');
      outcome := 'confirmed';
    else
      -- Paid after the order expired or was cancelled: the money goes to the
      -- customer's wallet rather than being lost.
      perform private.post_wallet_entry(p.user_id, p.amount, 'order_refund', o.number, 'payment:' || p.id || ':late', o.id, p.id);
      update public.orders set payment_status = 'refunded', paid_at = coalesce(paid_at, now()), updated_at = now() where id = o.id;
      outcome := 'refunded_to_wallet';
    end if;
  end if;
  return private.finish_payment_event(p_provider, p_provider_event_id, p.id, outcome);
end
$$;
comment on function public.confirm_payment(text, text, text, bigint, text, text, jsonb) is 'Contract (service_role only, for payment webhooks): applies a successful charge once per (p_provider, p_provider_event_id). Looks the payment up by p_reference; amount and currency must match exactly, else the payment is flagged and the order stays unpaid. Order: awaiting_payment -> new, payment_status paid (if the order was already cancelled, the amount is credited to the wallet). Top-up: credits the wallet through the ledger. Returns {outcome: confirmed|credited|flagged|refunded_to_wallet|ignored|unknown_reference, duplicate, payment_id, order_id, payment_status}; a replayed event returns the first outcome with duplicate=true.';
revoke execute on function public.confirm_payment(text, text, text, bigint, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.confirm_payment(text, text, text, bigint, text, text, jsonb) to service_role;

create function public.record_payment_failure(
  p_provider text,
  p_provider_event_id text,
  p_reference text,
  p_reason text default null,
  p_payload jsonb default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
begin
  if not private.record_payment_event(p_provider, p_provider_event_id, 'failed', p_payload) then
    return private.replayed_payment_event(p_provider, p_provider_event_id);
  end if;
  select * into p from public.payments where reference = p_reference for update;
  if not found then
    return private.finish_payment_event(p_provider, p_provider_event_id, null, 'unknown_reference');
  end if;
  if p.status <> 'pending' then
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'ignored');
  end if;
  update public.payments set status = 'failed', failure_reason = left(coalesce(p_reason, 'failed'), 500) where id = p.id;
  if p.order_id is not null then
    update public.orders set payment_status = 'failed', updated_at = now()
    where id = p.order_id and status = 'awaiting_payment' and payment_status = 'pending';
  end if;
  return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'failed');
end
$$;
comment on function public.record_payment_failure(text, text, text, text, jsonb) is 'Contract (service_role only, for payment webhooks): marks a pending payment failed once per provider event id; the order stays awaiting_payment with payment_status failed so the customer can retry (begin_payment) until it expires. Returns {outcome: failed|ignored|unknown_reference, duplicate, payment_id, order_id, payment_status}.';
revoke execute on function public.record_payment_failure(text, text, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.record_payment_failure(text, text, text, text, jsonb) to service_role;

create function public.record_refund(
  p_provider text,
  p_provider_event_id text,
  p_reference text,
  p_amount bigint,
  p_currency text,
  p_payload jsonb default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
  o public.orders;
  w public.wallets;
  outcome text := 'refunded';
begin
  if not private.record_payment_event(p_provider, p_provider_event_id, 'refunded', p_payload) then
    return private.replayed_payment_event(p_provider, p_provider_event_id);
  end if;
  select * into p from public.payments where reference = p_reference for update;
  if not found then
    return private.finish_payment_event(p_provider, p_provider_event_id, null, 'unknown_reference');
  end if;
  if p.status not in ('succeeded', 'refunded') or upper(p_currency) is distinct from p.currency
     or p_amount is null or p_amount <= 0 or p.refunded_amount + p_amount > p.amount then
    update public.payments set status = 'flagged', failure_reason = format('refund of %s %s does not fit this payment', p_amount, upper(p_currency))
    where id = p.id;
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'flagged');
  end if;
  update public.payments
  set refunded_amount = refunded_amount + p_amount,
      status = case when refunded_amount + p_amount = amount then 'refunded' else status end
  where id = p.id;

  if p.purpose = 'wallet_topup' then
    -- The card got the money back: take it out of the wallet, or flag if spent.
    select * into w from public.wallets where user_id = p.user_id for update;
    if w.balance >= p_amount then
      perform private.post_wallet_entry(p.user_id, -p_amount, 'topup_reversal', p.reference, 'refund:' || p_provider || ':' || p_provider_event_id, null, p.id);
    else
      update public.payments set status = 'flagged', failure_reason = 'top-up refunded after the money was spent' where id = p.id;
      outcome := 'flagged';
    end if;
  else
    select * into o from public.orders where id = p.order_id for update;
    if o.status in ('new', 'preparing', 'ready', 'out_for_delivery') and o.payment_status = 'paid' and p.refunded_amount + p_amount = p.amount then
      perform private.apply_order_transition(o, 'cancelled', 'refunded_by_provider', null, 'system', false);
    elsif o.status = 'completed' then
      update public.payments set status = 'flagged', failure_reason = 'refunded after the order was completed' where id = p.id;
      outcome := 'flagged';
    end if;
  end if;
  return private.finish_payment_event(p_provider, p_provider_event_id, p.id, outcome);
end
$$;
comment on function public.record_refund(text, text, text, bigint, text, jsonb) is 'Contract (service_role only, for payment webhooks): records a refund made at the provider, once per provider event id. A full refund of an order still in progress cancels it (reason refunded_by_provider, no wallet credit: the card got the money); a refunded top-up is taken back out of the wallet. A refund that does not fit (currency, more than paid, completed order, top-up already spent) flags the payment for an admin. Returns {outcome: refunded|flagged|unknown_reference, duplicate, payment_id, order_id, payment_status}.';
revoke execute on function public.record_refund(text, text, text, bigint, text, jsonb) from public, anon, authenticated;
grant execute on function public.record_refund(text, text, text, bigint, text, jsonb) to service_role;

alter table public.wallet_transactions
  add constraint wallet_transactions_payment_id_fkey foreign key (payment_id) references public.payments (id) on delete restrict;
