-- Money v2: one refund model. Every refund, whatever starts it (a cancel, a
-- partial refund by the vendor or an admin, a payment that arrived after the
-- order was cancelled, a refund made at the provider), is a row in
-- public.refunds written by private.issue_refund, which locks the money's
-- source and enforces: refunded so far (not failed) + this amount <= captured.
-- Completion pays the vendor on what was kept; refunds after completion are
-- reversed through the ledgers. A provider refund of money we had already
-- returned to the wallet is clawed back from the wallet, and what the wallet
-- cannot cover becomes a receivable.
--
-- Lock order, everywhere: order, then payment, then wallets.

-- ============================================================================
-- Columns and ledger types
-- ============================================================================

alter table public.orders drop constraint orders_payment_status_check;
alter table public.orders add constraint orders_payment_status_check
  check (payment_status in ('pending', 'paid', 'failed', 'partially_refunded', 'refunded', 'cancelled'));
comment on column public.orders.payment_status is 'pending, paid, failed (retry allowed), partially_refunded, refunded (everything captured went back), or cancelled (never collected); separate from the order status.';

alter table public.orders
  add column refunded_amount bigint not null default 0 check (refunded_amount >= 0),
  add column vendor_earning bigint check (vendor_earning >= 0);
comment on column public.orders.refunded_amount is 'Refunded to the customer so far (pending and processed refunds, net of claw-backs), minor units.';
comment on column public.orders.vendor_earning is 'What the vendor owner was credited for this order (set on completion, reduced by refunds the vendor bears after it).';
comment on column public.orders.commission is 'The platform''s share: round(subtotal x commission_rate) when placed; on completion round((subtotal - refunds the vendor bears) x commission_rate).';

alter table public.wallet_transactions drop constraint wallet_transactions_type_check;
alter table public.wallet_transactions add constraint wallet_transactions_type_check
  check (type in ('topup', 'order_payment', 'order_refund', 'order_earning', 'topup_reversal', 'admin_adjustment',
                  'earning_reversal', 'refund_clawback', 'receivable_settlement'));
comment on column public.wallet_transactions.type is 'topup, order_payment, order_refund, order_earning, topup_reversal (a card top-up refunded at the provider), admin_adjustment, earning_reversal (a refund the vendor bears after completion), refund_clawback (a wallet refund the provider also paid to the card) or receivable_settlement.';

alter table public.platform_ledger drop constraint platform_ledger_type_check;
alter table public.platform_ledger add constraint platform_ledger_type_check
  check (type in ('commission', 'commission_reversal', 'refund_borne', 'receivable_written_off'));
comment on table public.platform_ledger is 'Immutable ledger of the platform''s own money: commission on completed orders, its reversal when the vendor bears a later refund, refunds the platform bears, written-off receivables. Admin read only.';
comment on column public.platform_ledger.type is 'commission (+), commission_reversal (-), refund_borne (-) or receivable_written_off (-).';
comment on column public.platform_ledger.idempotency_key is 'Unique: booking the same movement twice is impossible.';

comment on column public.payments.refunded_amount is 'Returned to the card so far and confirmed by the provider (processed card refunds), minor units.';

-- ============================================================================
-- Tables
-- ============================================================================

create table public.refunds (
  id uuid primary key default gen_random_uuid(),
  order_id uuid references public.orders (id) on delete restrict,
  payment_id uuid references public.payments (id) on delete restrict,
  user_id uuid not null references public.profiles (id) on delete restrict,
  amount bigint not null check (amount > 0),
  currency char(3) not null,
  destination text not null check (destination in ('card', 'wallet')),
  reason text not null check (char_length(reason) between 1 and 500),
  initiated_by_role text not null check (initiated_by_role in ('customer', 'vendor', 'admin', 'system', 'provider')),
  actor_id uuid references public.profiles (id) on delete set null,
  borne_by text not null check (borne_by in ('vendor', 'platform')),
  provider_refund_id text unique check (char_length(provider_refund_id) between 1 and 200),
  clawback_amount bigint not null default 0 check (clawback_amount between 0 and amount),
  replaces_refund_id uuid references public.refunds (id) on delete restrict,
  status text not null default 'pending' check (status in ('pending', 'processed', 'failed')),
  failure_reason text check (char_length(failure_reason) <= 500),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now() + interval '1 minute',
  idempotency_key text not null unique check (char_length(idempotency_key) between 1 and 300),
  created_at timestamptz not null default now(),
  processed_at timestamptz,
  check (order_id is not null or payment_id is not null),
  check (destination = 'wallet' or payment_id is not null),
  check ((status = 'pending') = (processed_at is null) or status = 'failed')
);
comment on table public.refunds is 'Every refund, whatever started it, written only by private.issue_refund: per payment (or per wallet-paid order) the refunds that did not fail, net of claw-backs, never exceed what was captured.';
comment on column public.refunds.id is 'Refund id (also sent to the provider as our reference).';
comment on column public.refunds.order_id is 'The order refunded (null for a wallet top-up).';
comment on column public.refunds.payment_id is 'The card payment refunded (null for wallet-paid orders).';
comment on column public.refunds.user_id is 'The customer who gets the money back.';
comment on column public.refunds.amount is 'Amount in minor units.';
comment on column public.refunds.currency is 'ISO 4217 currency.';
comment on column public.refunds.destination is 'card (through the provider''s Refund API, or made at the provider) or wallet (credited at once).';
comment on column public.refunds.reason is 'Why: the cancel reason, the vendor''s or admin''s reason, paid_after_cancel, refunded_by_provider...';
comment on column public.refunds.initiated_by_role is 'customer, vendor, admin, system or provider (a refund made at Paystack or Stripe: dashboard, chargeback).';
comment on column public.refunds.actor_id is 'The user who started it, if any.';
comment on column public.refunds.borne_by is 'Who pays for it at settlement: vendor (less earning and commission) or platform.';
comment on column public.refunds.provider_refund_id is 'The provider''s refund id (unique: a provider refund is applied once).';
comment on column public.refunds.clawback_amount is 'Part of a provider refund that duplicated money already returned to the wallet, taken back from the wallet (or owed as a receivable).';
comment on column public.refunds.replaces_refund_id is 'The failed card refund this wallet refund replaces.';
comment on column public.refunds.status is 'pending (card refund not confirmed yet), processed or failed (does not count against the cap).';
comment on column public.refunds.failure_reason is 'Why the provider refused it.';
comment on column public.refunds.attempts is 'Calls to the provider''s Refund API so far.';
comment on column public.refunds.next_attempt_at is 'When the refunds sweep may retry a pending card refund (the first attempt is made at once, after commit, for this refund alone).';
comment on column public.refunds.idempotency_key is 'Unique: the same refund request twice is one refund.';
comment on column public.refunds.created_at is 'When it was issued.';
comment on column public.refunds.processed_at is 'When the money reached the wallet or the provider confirmed it.';
create index refunds_order_id_idx on public.refunds (order_id);
create index refunds_payment_id_idx on public.refunds (payment_id);
create index refunds_user_id_created_at_idx on public.refunds (user_id, created_at desc);
create index refunds_actor_id_idx on public.refunds (actor_id);
create index refunds_replaces_refund_id_idx on public.refunds (replaces_refund_id);
create index refunds_card_due_idx on public.refunds (next_attempt_at) where status = 'pending' and destination = 'card' and provider_refund_id is null;

create table public.receivables (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete restrict,
  amount bigint not null check (amount > 0),
  settled_amount bigint not null default 0 check (settled_amount between 0 and amount),
  currency char(3) not null default 'NGN',
  reason text not null check (char_length(reason) between 1 and 500),
  refund_id uuid references public.refunds (id) on delete restrict,
  status text not null default 'open' check (status in ('open', 'settled', 'written_off')),
  created_at timestamptz not null default now(),
  closed_at timestamptz,
  closed_by uuid references public.profiles (id) on delete set null,
  check ((status = 'settled') = (settled_amount = amount)),
  check ((status = 'open') = (closed_at is null))
);
comment on table public.receivables is 'Money a user owes the platform: the part of a claw-back their wallet could not cover. Settled first from the user''s next wallet credits; admins may write it off.';
comment on column public.receivables.id is 'Receivable id.';
comment on column public.receivables.user_id is 'Who owes it.';
comment on column public.receivables.amount is 'Owed, minor units.';
comment on column public.receivables.settled_amount is 'Recovered so far from wallet credits.';
comment on column public.receivables.currency is 'ISO 4217 currency.';
comment on column public.receivables.reason is 'Why it is owed.';
comment on column public.receivables.refund_id is 'The refund that caused it.';
comment on column public.receivables.status is 'open, settled or written_off.';
comment on column public.receivables.created_at is 'When it was recorded.';
comment on column public.receivables.closed_at is 'When it was settled or written off.';
comment on column public.receivables.closed_by is 'The admin who wrote it off.';
create index receivables_user_id_idx on public.receivables (user_id, created_at);
create index receivables_open_idx on public.receivables (user_id) where status = 'open';
create index receivables_refund_id_idx on public.receivables (refund_id);
create index receivables_closed_by_idx on public.receivables (closed_by);

-- Accounts an admin should look at (a claw-back that left a receivable, ...).
create table admin.account_flags (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  reason text not null,
  receivable_id uuid references public.receivables (id) on delete set null,
  created_at timestamptz not null default now(),
  resolved_at timestamptz
);
comment on table admin.account_flags is 'Accounts flagged for an admin (e.g. a provider refund of money already returned to the wallet that the wallet could not cover). Not exposed through the API.';
comment on column admin.account_flags.user_id is 'The flagged user.';
comment on column admin.account_flags.reason is 'Why.';
comment on column admin.account_flags.receivable_id is 'The receivable behind the flag, if any.';
comment on column admin.account_flags.created_at is 'When it was flagged.';
comment on column admin.account_flags.resolved_at is 'When an admin resolved it.';
create index account_flags_user_id_idx on admin.account_flags (user_id);
create index account_flags_receivable_id_idx on admin.account_flags (receivable_id);

alter table public.refunds enable row level security;
alter table public.receivables enable row level security;
create policy "Customers read their refunds, vendor owners their orders' refunds, admins all" on public.refunds
  for select to authenticated using (
    user_id = (select auth.uid())
    or order_id in (select o.id from public.orders o where o.vendor_id in (select private.owned_vendor_ids()))
    or (select private.is_admin())
  );
create policy "Users read what they owe, admins read all" on public.receivables
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete, truncate on public.refunds, public.receivables from anon, authenticated, service_role;
revoke select on public.refunds, public.receivables from anon;

-- ============================================================================
-- Captured and refunded, per source of money
-- ============================================================================

-- What a card payment captured (0 until the provider confirmed it).
create function private.payment_captured(p public.payments) returns bigint
language sql
immutable
set search_path = ''
as $$ select case when p.status in ('succeeded', 'refunded') then p.amount else 0 end $$;
revoke execute on function private.payment_captured(public.payments) from public, anon, authenticated, service_role;

-- What a wallet-paid order took from the wallet.
create function private.wallet_order_captured(p_order_id uuid) returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(-sum(t.amount), 0)::bigint from public.wallet_transactions t
  where t.order_id = p_order_id and t.type = 'order_payment'
$$;
revoke execute on function private.wallet_order_captured(uuid) from public, anon, authenticated, service_role;

-- Refunded from one source so far: refunds that did not fail, net of claw-backs.
create function private.refunded_from(p_payment_id uuid, p_order_id uuid) returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(sum(r.amount - r.clawback_amount), 0)::bigint from public.refunds r
  where r.status <> 'failed'
    and case when p_payment_id is not null then r.payment_id = p_payment_id
             else r.order_id = p_order_id and r.payment_id is null end
$$;
revoke execute on function private.refunded_from(uuid, uuid) from public, anon, authenticated, service_role;

-- Card refunds of one payment that did not fail (what went, or is going, back to the card).
create function private.card_refunded(p_payment_id uuid) returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(sum(r.amount), 0)::bigint from public.refunds r
  where r.payment_id = p_payment_id and r.destination = 'card' and r.status <> 'failed'
$$;
revoke execute on function private.card_refunded(uuid) from public, anon, authenticated, service_role;

-- Everything an order captured, by card and wallet.
create function private.order_captured(p_order_id uuid) returns bigint
language sql
stable
set search_path = ''
as $$
  select private.wallet_order_captured(p_order_id)
       + coalesce((select sum(private.payment_captured(p)) from public.payments p where p.order_id = p_order_id), 0)::bigint
$$;
revoke execute on function private.order_captured(uuid) from public, anon, authenticated, service_role;

-- Everything refunded on an order (all sources).
create function private.order_refunded(p_order_id uuid) returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(sum(r.amount - r.clawback_amount), 0)::bigint from public.refunds r
  where r.order_id = p_order_id and r.status <> 'failed'
$$;
revoke execute on function private.order_refunded(uuid) from public, anon, authenticated, service_role;

-- Refunds of an order borne by one party (net).
create function private.order_refunds_borne(p_order_id uuid, p_borne_by text) returns bigint
language sql
stable
set search_path = ''
as $$
  select coalesce(sum(r.amount - r.clawback_amount), 0)::bigint from public.refunds r
  where r.order_id = p_order_id and r.status <> 'failed' and r.borne_by = p_borne_by
$$;
revoke execute on function private.order_refunds_borne(uuid, text) from public, anon, authenticated, service_role;

-- Commission on the vendor's share after the refunds it bears. Same rounding
-- as at placement: numeric round() (half away from zero) of subtotal x rate.
create function private.commission_after(p_subtotal bigint, p_vendor_refunds bigint, p_rate numeric) returns bigint
language sql
immutable
set search_path = ''
as $$ select round(greatest(p_subtotal - p_vendor_refunds, 0) * p_rate)::bigint $$;
revoke execute on function private.commission_after(bigint, bigint, numeric) from public, anon, authenticated, service_role;

-- ============================================================================
-- Receivables and claw-backs
-- ============================================================================

-- Takes p_amount from a wallet as far as its balance allows; the rest becomes
-- a receivable and the account is flagged. Never overdraws.
create function private.claw_back(p_user_id uuid, p_amount bigint, p_type text, p_reference text, p_key text, p_reason text,
                                  p_refund_id uuid, p_order_id uuid default null, p_payment_id uuid default null)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  w public.wallets;
  taken bigint;
  rec public.receivables;
begin
  if p_amount <= 0 then
    return 0;
  end if;
  select * into w from public.wallets where user_id = p_user_id for update;
  taken := least(greatest(w.balance, 0), p_amount);
  if taken > 0 then
    perform private.post_wallet_entry(p_user_id, -taken, p_type, p_reference, p_key, p_order_id, p_payment_id, p_reason);
  end if;
  if taken < p_amount then
    insert into public.receivables (user_id, amount, currency, reason, refund_id)
    values (p_user_id, p_amount - taken, coalesce(w.currency, 'NGN'), p_reason, p_refund_id)
    returning * into rec;
    insert into admin.account_flags (user_id, reason, receivable_id)
    values (p_user_id, format('Owes %s kobo: %s', rec.amount, p_reason), rec.id);
  end if;
  return taken;
end
$$;
revoke execute on function private.claw_back(uuid, bigint, text, text, text, text, uuid, uuid, uuid) from public, anon, authenticated, service_role;

-- The one way to change a balance (replaces the first version): locks the
-- wallet row, replays an already applied idempotency key, refuses to go below
-- zero, writes the ledger row. A credit first settles what the user owes.
create or replace function private.post_wallet_entry(
  p_user_id uuid,
  p_amount bigint,
  p_type text,
  p_reference text,
  p_idempotency_key text,
  p_order_id uuid default null,
  p_payment_id uuid default null,
  p_note text default null,
  p_created_by uuid default null
) returns public.wallet_transactions
language plpgsql
security definer
set search_path = ''
as $$
declare
  w public.wallets;
  tx public.wallet_transactions;
  rec public.receivables;
  take bigint;
  left_over bigint;
begin
  select * into w from public.wallets where user_id = p_user_id for update;
  if not found then
    perform private.fail('wallet_not_found', 'This user has no wallet.', 'P0002');
  end if;
  select * into tx from public.wallet_transactions where wallet_id = w.id and idempotency_key = p_idempotency_key;
  if found then
    return tx;
  end if;
  if w.balance + p_amount < 0 then
    perform private.fail('insufficient_funds', format('The wallet balance (%s kobo) does not cover %s kobo.', w.balance, -p_amount));
  end if;
  update public.wallets set balance = balance + p_amount, updated_at = now() where id = w.id;
  insert into public.wallet_transactions (wallet_id, type, amount, balance_after, reference, idempotency_key, order_id, payment_id, note, created_by)
  values (w.id, p_type, p_amount, w.balance + p_amount, p_reference, p_idempotency_key, p_order_id, p_payment_id, p_note, p_created_by)
  returning * into tx;

  if p_amount > 0 and p_type <> 'receivable_settlement' then
    left_over := w.balance + p_amount;
    for rec in
      select * from public.receivables where user_id = p_user_id and status = 'open' order by created_at, id for update
    loop
      exit when left_over <= 0;
      take := least(left_over, rec.amount - rec.settled_amount);
      perform private.post_wallet_entry(p_user_id, -take, 'receivable_settlement', p_reference,
                                        'receivable:' || rec.id || ':' || tx.id, null, null, rec.reason);
      update public.receivables
      set settled_amount = settled_amount + take,
          status = case when settled_amount + take = amount then 'settled' else 'open' end,
          closed_at = case when settled_amount + take = amount then now() end
      where id = rec.id;
      left_over := left_over - take;
    end loop;
  end if;
  return tx;
end
$$;
revoke execute on function private.post_wallet_entry(uuid, bigint, text, text, text, uuid, uuid, text, uuid) from public, anon, authenticated, service_role;

-- ============================================================================
-- Settlement: completion, and refunds that reach an order after it
-- ============================================================================

-- Books a completed order: the vendor is paid on what was kept, commission on
-- the vendor's share after the refunds it bears, the platform bears the rest.
create function private.settle_completed_order(o public.orders) returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
  v_vendor_refunds bigint := private.order_refunds_borne(o.id, 'vendor');
  v_platform_refunds bigint := private.order_refunds_borne(o.id, 'platform');
  v_commission bigint := private.commission_after(o.subtotal, v_vendor_refunds, o.commission_rate);
  v_earning bigint := o.subtotal + o.delivery_fee - v_vendor_refunds - v_commission;
begin
  select owner_id into owner from public.vendors where id = o.vendor_id;
  if v_earning > 0 then
    perform private.post_wallet_entry(owner, v_earning, 'order_earning', o.number, 'order:' || o.id || ':earning', o.id);
  end if;
  if v_commission > 0 then
    insert into public.platform_ledger (type, amount, order_id, idempotency_key)
    values ('commission', v_commission, o.id, 'order:' || o.id || ':commission');
  end if;
  if v_platform_refunds > 0 then
    insert into public.platform_ledger (type, amount, order_id, idempotency_key)
    values ('refund_borne', -v_platform_refunds, o.id, 'order:' || o.id || ':refunds_borne');
  end if;
  update public.orders set commission = v_commission, vendor_earning = greatest(v_earning, 0)
  where id = o.id returning * into o;
  return o;
end
$$;
revoke execute on function private.settle_completed_order(public.orders) from public, anon, authenticated, service_role;

-- A refund of p_fresh minor units reached an order that was already settled.
create function private.settle_refund_after_completion(o public.orders, r public.refunds, p_fresh bigint) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
  new_commission bigint;
  commission_back bigint;
  vendor_pays bigint;
begin
  if p_fresh <= 0 then
    return;
  end if;
  if r.borne_by = 'platform' then
    insert into public.platform_ledger (type, amount, order_id, idempotency_key)
    values ('refund_borne', -p_fresh, o.id, 'refund:' || r.id || ':borne');
    return;
  end if;
  -- The vendor bears it: its share shrinks by the refund, the commission on it
  -- is given back, and the difference leaves its wallet (or becomes owed).
  new_commission := private.commission_after(o.subtotal, private.order_refunds_borne(o.id, 'vendor'), o.commission_rate);
  commission_back := o.commission - new_commission;
  vendor_pays := p_fresh - commission_back;
  if commission_back > 0 then
    insert into public.platform_ledger (type, amount, order_id, idempotency_key)
    values ('commission_reversal', -commission_back, o.id, 'refund:' || r.id || ':commission');
  end if;
  select owner_id into owner from public.vendors where id = o.vendor_id;
  perform private.claw_back(owner, vendor_pays, 'earning_reversal', o.number, 'refund:' || r.id || ':earning',
                            format('Refund on order %s after completion', o.number), r.id, o.id);
  update public.orders
  set commission = new_commission, vendor_earning = greatest(coalesce(vendor_earning, 0) - vendor_pays, 0)
  where id = o.id;
end
$$;
revoke execute on function private.settle_refund_after_completion(public.orders, public.refunds, bigint) from public, anon, authenticated, service_role;

-- Keeps the order's refunded_amount and payment_status in step with its refunds.
create function private.sync_order_refunds(p_order_id uuid) returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  o public.orders;
  v_captured bigint := private.order_captured(p_order_id);
  v_refunded bigint := private.order_refunded(p_order_id);
begin
  update public.orders set
    refunded_amount = v_refunded,
    payment_status = case
      when v_captured = 0 then payment_status
      when v_refunded >= v_captured then 'refunded'
      when v_refunded > 0 then 'partially_refunded'
      else 'paid' end,
    updated_at = now()
  where id = p_order_id
  returning * into o;
  return o;
end
$$;
revoke execute on function private.sync_order_refunds(uuid) from public, anon, authenticated, service_role;

-- ============================================================================
-- The door
-- ============================================================================

-- Every refund goes through here. Locks the order (if any), then the payment
-- (card) — or, for a wallet-paid order, the order alone is the source — and
-- refuses anything beyond what was captured. A wallet refund is credited at
-- once; a card refund stays pending until the provider confirms it (the
-- `refunds` edge function calls the provider's Refund API). p_clawback is only
-- for refunds the provider already made (see record_provider_refund): the part
-- of them that card_refund_processed will claw back from the wallet. Replays
-- of p_idempotency_key return the first refund.
create function private.issue_refund(
  p_order_id uuid,
  p_payment_id uuid,
  p_amount bigint,
  p_destination text,
  p_reason text,
  p_initiated_by_role text,
  p_actor_id uuid,
  p_borne_by text,
  p_idempotency_key text,
  p_provider_refund_id text default null,
  p_clawback bigint default 0,
  p_replaces_refund_id uuid default null
) returns public.refunds
language plpgsql
security definer
set search_path = ''
as $$
declare
  o public.orders;
  p public.payments;
  r public.refunds;
  captured bigint;
  so_far bigint;
  owner_id uuid;
  fresh bigint;
begin
  select * into r from public.refunds where idempotency_key = p_idempotency_key;
  if found then
    return r;
  end if;
  if p_amount is null or p_amount <= 0 then
    perform private.fail('invalid_amount', 'A refund amount is a positive number of minor units.');
  end if;
  if p_destination is null or p_destination not in ('card', 'wallet') then
    perform private.fail('invalid_destination', 'A refund goes to the card or the wallet.');
  end if;
  if p_order_id is not null then
    select * into o from public.orders where id = p_order_id for update;
    if not found then
      perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
    end if;
  end if;
  if p_payment_id is not null then
    select * into p from public.payments where id = p_payment_id for update;
    if not found or (p_order_id is not null and p.order_id is distinct from p_order_id) then
      perform private.fail('payment_not_found', 'This payment does not exist.', 'P0002');
    end if;
    captured := private.payment_captured(p);
  else
    if o.id is null or o.payment_method <> 'wallet' then
      perform private.fail('payment_not_found', 'A card-paid order is refunded against its payment.', 'P0002');
    end if;
    if p_destination = 'card' then
      perform private.fail('invalid_destination', 'A wallet-paid order is refunded to the wallet.');
    end if;
    captured := private.wallet_order_captured(o.id);
  end if;
  if p_amount - p_clawback > captured then
    perform private.fail('refund_exceeds_captured', format('%s kobo were captured; %s kobo cannot be refunded.', captured, p_amount - p_clawback));
  end if;
  -- Concurrent refunds of one source serialize on the lock above, so this sum is exact.
  so_far := private.refunded_from(p_payment_id, p_order_id);
  if so_far + p_amount - p_clawback > captured then
    perform private.fail('refund_exceeds_captured',
      format('%s kobo were captured and %s kobo refunded already; %s kobo more would exceed it.', captured, so_far, p_amount - p_clawback));
  end if;
  if p_destination = 'card' and private.card_refunded(p_payment_id) + p_amount > captured then
    perform private.fail('refund_exceeds_captured', format('The card was charged %s kobo; refunds to it cannot exceed that.', captured));
  end if;

  insert into public.refunds (order_id, payment_id, user_id, amount, currency, destination, reason, initiated_by_role, actor_id,
                              borne_by, provider_refund_id, clawback_amount, replaces_refund_id, status, idempotency_key, processed_at)
  values (p_order_id, p_payment_id, coalesce(o.customer_id, p.user_id), p_amount, coalesce(o.currency, p.currency), p_destination,
          left(coalesce(nullif(trim(p_reason), ''), 'refund'), 500), p_initiated_by_role, p_actor_id, p_borne_by,
          p_provider_refund_id, 0, p_replaces_refund_id,
          case when p_destination = 'wallet' then 'processed' else 'pending' end, p_idempotency_key,
          case when p_destination = 'wallet' then now() end)
  returning * into r;

  if p_destination = 'wallet' then
    perform private.post_wallet_entry(r.user_id, r.amount, 'order_refund', coalesce(o.number, p.reference),
                                      'refund:' || r.id, p_order_id, p_payment_id, r.reason, p_actor_id);
  end if;

  if o.id is not null then
    o := private.sync_order_refunds(o.id);
    -- A replacement for a failed card refund changes nothing the order had settled.
    fresh := case when p_replaces_refund_id is null then p_amount - p_clawback else 0 end;
    if o.status = 'completed' then
      perform private.settle_refund_after_completion(o, r, fresh);
    end if;
    if fresh > 0 and o.status <> 'cancelled' then
      insert into public.notifications (user_id, type, title, body, data, order_id)
      values (r.user_id, 'order_update', format('Refund on order %s', o.number),
              format('%s kobo are on their way back to your %s.', r.amount, r.destination),
              jsonb_build_object('order_id', o.id, 'number', o.number, 'refund_id', r.id, 'amount', r.amount, 'destination', r.destination), o.id);
    end if;
  end if;
  return r;
end
$$;
revoke execute on function private.issue_refund(uuid, uuid, bigint, text, text, text, uuid, text, text, text, bigint, uuid) from public, anon, authenticated, service_role;

-- A card refund the provider confirmed. If, with it, more went back than was
-- captured (the money had also been returned to the wallet), the excess is
-- clawed back from the wallet; a top-up refunded at the provider is taken out
-- of the wallet whole.
create function private.card_refund_processed(r public.refunds) returns public.refunds
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
  over bigint;
  key text;
begin
  select * into p from public.payments where id = r.payment_id for update;
  update public.refunds set status = 'processed', processed_at = now(), failure_reason = null where id = r.id returning * into r;
  update public.payments set refunded_amount = least(refunded_amount + r.amount, amount),
                             status = case when refunded_amount + r.amount >= amount then 'refunded' else status end
  where id = p.id;
  over := case when p.purpose = 'wallet_topup' then r.amount - r.clawback_amount
               else private.refunded_from(p.id, p.order_id) - private.payment_captured(p) end;
  if over > 0 then
    update public.refunds set clawback_amount = clawback_amount + over where id = r.id returning * into r;
    key := 'refund:' || r.id || ':clawback:' || r.clawback_amount;
    perform private.claw_back(r.user_id, over, case when p.purpose = 'wallet_topup' then 'topup_reversal' else 'refund_clawback' end,
                              p.reference, key,
                              case when p.purpose = 'wallet_topup' then format('Top-up %s refunded to the card', p.reference)
                                   else format('Refunded to the card as well as to the wallet (%s)', p.reference) end,
                              r.id, r.order_id, p.id);
  end if;
  if r.order_id is not null then
    perform private.sync_order_refunds(r.order_id);
  end if;
  return r;
end
$$;
revoke execute on function private.card_refund_processed(public.refunds) from public, anon, authenticated, service_role;

-- A card refund the provider refused: it stops counting against the cap and
-- the customer gets the money in the wallet instead, at once.
create function private.card_refund_failed(r public.refunds, p_reason text) returns public.refunds
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.refunds set status = 'failed', processed_at = null, failure_reason = left(coalesce(p_reason, 'failed'), 500)
  where id = r.id returning * into r;
  if r.clawback_amount = 0 then
    perform private.issue_refund(r.order_id, r.payment_id, r.amount, 'wallet', 'card_refund_failed', 'system', null, r.borne_by,
                                 'refund:' || r.id || ':to_wallet', null, 0, r.id);
  end if;
  if r.order_id is not null then
    perform private.sync_order_refunds(r.order_id);
  end if;
  return r;
end
$$;
revoke execute on function private.card_refund_failed(public.refunds, text) from public, anon, authenticated, service_role;

-- ============================================================================
-- Order lifecycle (replaces the first version's money effects)
-- ============================================================================

drop function public.cancel_order(uuid, text);
drop function public.record_refund(text, text, text, bigint, text, jsonb);
drop function private.apply_order_transition(public.orders, text, text, uuid, text, boolean);

-- Applies a transition to a locked order with its money effects, history row
-- and stage timestamp. A cancel refunds what is left of the capture through
-- the door: p_refund_to 'original' (the card for card payments, the wallet
-- for wallet payments) or 'wallet'.
create function private.apply_order_transition(
  o public.orders, p_to text, p_reason text, p_actor_id uuid, p_actor_role text, p_refund_to text default 'original'
) returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  pay_status text := o.payment_status;
  from_status text := o.status;
  p public.payments;
  remaining bigint;
  borne text := case when p_actor_role = 'vendor' then 'vendor' else 'platform' end;
begin
  if p_to = 'cancelled' then
    if o.payment_status in ('pending', 'failed') then
      pay_status := 'cancelled';
    end if;
  elsif p_to = 'new' then
    pay_status := 'paid';
  end if;

  update public.orders set
    status = p_to,
    payment_status = pay_status,
    updated_at = now(),
    paid_at = case when p_to = 'new' then coalesce(paid_at, now()) else paid_at end,
    accepted_at = case when p_to = 'preparing' then now() else accepted_at end,
    ready_at = case when p_to = 'ready' then now() else ready_at end,
    out_for_delivery_at = case when p_to = 'out_for_delivery' then now() else out_for_delivery_at end,
    completed_at = case when p_to = 'completed' then now() else completed_at end,
    cancelled_at = case when p_to = 'cancelled' then now() else cancelled_at end,
    cancel_reason = case when p_to = 'cancelled' then p_reason else cancel_reason end,
    cancelled_by = case when p_to = 'cancelled' then p_actor_id else cancelled_by end,
    cancelled_by_role = case when p_to = 'cancelled' then p_actor_role else cancelled_by_role end
  where id = o.id
  returning * into o;

  if p_to = 'cancelled' then
    -- Whatever is left of each capture goes back; partial refunds already made are not repeated.
    if o.payment_method = 'wallet' then
      remaining := private.wallet_order_captured(o.id) - private.refunded_from(null, o.id);
      if remaining > 0 then
        perform private.issue_refund(o.id, null, remaining, 'wallet', coalesce(p_reason, 'cancelled'), p_actor_role, p_actor_id, borne,
                                     'order:' || o.id || ':cancel');
      end if;
    else
      for p in select * from public.payments where order_id = o.id and status in ('succeeded', 'refunded') order by created_at loop
        remaining := private.payment_captured(p) - private.refunded_from(p.id, o.id);
        if remaining > 0 then
          perform private.issue_refund(o.id, p.id, remaining, case when p_refund_to = 'wallet' then 'wallet' else 'card' end,
                                       coalesce(p_reason, 'cancelled'), p_actor_role, p_actor_id, borne,
                                       'order:' || o.id || ':cancel:' || p.id);
        end if;
      end loop;
    end if;
    select * into o from public.orders where id = o.id;
  elsif p_to = 'completed' then
    o := private.settle_completed_order(o);
  end if;

  insert into public.order_events (order_id, from_status, to_status, actor_id, actor_role, reason)
  values (o.id, from_status, p_to, p_actor_id, p_actor_role, p_reason);
  return o;
end
$$;
revoke execute on function private.apply_order_transition(public.orders, text, text, uuid, text, text) from public, anon, authenticated, service_role;

-- Who may move a locked order where: the role the caller acts in, or a coded error.
create function private.order_actor_role(o public.orders, p_uid uuid, p_status text, p_reason text) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  as_customer boolean := o.customer_id = p_uid;
  as_vendor boolean := exists (select 1 from public.vendors v where v.id = o.vendor_id and v.owner_id = p_uid);
  as_admin boolean := private.is_admin();
  actor_role text;
begin
  if not (as_customer or as_vendor or as_admin) then
    perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
  end if;
  if p_status is null or p_status not in ('awaiting_payment', 'new', 'preparing', 'ready', 'out_for_delivery', 'completed', 'cancelled') then
    perform private.fail('invalid_status', format('"%s" is not an order status.', p_status));
  end if;
  -- awaiting_payment -> new happens only when the payment is confirmed.
  if not private.order_transition_valid(o.status, p_status, o.fulfillment) or (o.status = 'awaiting_payment' and p_status = 'new') then
    perform private.fail('invalid_transition', format('An order cannot go from %s to %s.', o.status, p_status));
  end if;
  if as_vendor and (p_status <> 'cancelled' or o.status in ('new', 'preparing')) then
    actor_role := 'vendor';
  elsif as_customer and p_status = 'cancelled' and o.status in ('awaiting_payment', 'new') then
    actor_role := 'customer';
  elsif as_admin then
    actor_role := 'admin';
  else
    perform private.fail('transition_not_allowed', format('You cannot move this order from %s to %s.', o.status, p_status), '42501');
  end if;
  if p_reason is null and (actor_role = 'admin' or (actor_role = 'vendor' and p_status = 'cancelled')) then
    perform private.fail('reason_required', 'Give a reason for this change.');
  end if;
  if char_length(p_reason) > 500 then
    perform private.fail('invalid_reason', 'The reason must be at most 500 characters.');
  end if;
  return actor_role;
end
$$;
revoke execute on function private.order_actor_role(public.orders, uuid, text, text) from public, anon, authenticated, service_role;

create or replace function public.update_order_status(p_order_id uuid, p_status text, p_reason text default null)
returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  o public.orders;
  reason text := nullif(trim(p_reason), '');
  actor_role text;
begin
  select * into o from public.orders where id = p_order_id for update;
  if not found then
    perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
  end if;
  actor_role := private.order_actor_role(o, uid, p_status, reason);
  return private.apply_order_transition(o, p_status, reason, uid, actor_role, 'original');
end
$$;
comment on function public.update_order_status(uuid, text, text) is 'Moves an order along its lifecycle. Customer: cancel in awaiting_payment|new. Vendor owner: new->preparing->ready->out_for_delivery (delivery) or completed (pickup), out_for_delivery->completed, cancel in new|preparing with a reason. Admin: any valid transition, with a reason. Cancelling a paid order refunds what is left of it to the original method (card payments to the card, through the provider; wallet payments to the wallet); completing credits the vendor on what was kept and books the commission. Errors: order_not_found, invalid_status, invalid_transition, transition_not_allowed, reason_required.';

create function public.cancel_order(p_order_id uuid, p_reason text default null, p_refund_to text default 'original')
returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  o public.orders;
  reason text := nullif(trim(p_reason), '');
  actor_role text;
begin
  if p_refund_to is null or p_refund_to not in ('original', 'wallet') then
    perform private.fail('invalid_refund_destination', 'Refund to original (the way it was paid) or wallet.');
  end if;
  select * into o from public.orders where id = p_order_id for update;
  if not found then
    perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
  end if;
  actor_role := private.order_actor_role(o, uid, 'cancelled', reason);
  -- Only the customer chooses the wallet; vendor and admin cancels go back the way the money came.
  return private.apply_order_transition(o, 'cancelled', reason, uid, actor_role,
                                        case when actor_role = 'customer' then p_refund_to else 'original' end);
end
$$;
comment on function public.cancel_order(uuid, text, text) is 'Cancels an order with the rules of update_order_status(p_order_id, ''cancelled'', p_reason). A paid order is refunded in full (less partial refunds already made): p_refund_to ''original'' returns card payments to the card (through the provider, after commit) and wallet payments to the wallet; ''wallet'' credits the wallet at once. Only the customer may choose ''wallet''; vendor and admin cancels refund to the original method. Errors: those of update_order_status, invalid_refund_destination.';
revoke execute on function public.cancel_order(uuid, text, text) from public, anon;
grant execute on function public.cancel_order(uuid, text, text) to authenticated, service_role;

-- ============================================================================
-- Partial refunds
-- ============================================================================

create function public.refund_order(p_order_id uuid, p_amount bigint, p_reason text, p_destination text default 'original', p_borne_by text default null)
returns public.refunds
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  o public.orders;
  p public.payments;
  r public.refunds;
  v_reason text := nullif(trim(p_reason), '');
  as_vendor boolean;
  as_admin boolean := private.is_admin();
  v_role text;
  borne text;
  v_captured bigint;
begin
  select * into o from public.orders where id = p_order_id for update;
  if found then
    as_vendor := exists (select 1 from public.vendors v where v.id = o.vendor_id and v.owner_id = uid);
  end if;
  if not found or not (as_vendor or as_admin) then
    perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
  end if;
  if v_reason is null then
    perform private.fail('reason_required', 'Give a reason for this refund.');
  end if;
  if char_length(v_reason) > 500 then
    perform private.fail('invalid_reason', 'The reason must be at most 500 characters.');
  end if;
  if p_destination is null or p_destination not in ('original', 'wallet') then
    perform private.fail('invalid_refund_destination', 'Refund to original (the way it was paid) or wallet.');
  end if;
  if as_vendor and not as_admin then
    if p_borne_by is not null and p_borne_by <> 'vendor' then
      perform private.fail('invalid_borne_by', 'A vendor''s refund is borne by the vendor.');
    end if;
    v_role := 'vendor';
    borne := 'vendor';
  else
    if p_borne_by is not null and p_borne_by not in ('vendor', 'platform') then
      perform private.fail('invalid_borne_by', 'A refund is borne by the vendor or the platform.');
    end if;
    v_role := 'admin';
    borne := coalesce(p_borne_by, 'platform');
  end if;
  if p_amount is null or p_amount <= 0 then
    perform private.fail('invalid_amount', 'A refund amount is a positive number of minor units.');
  end if;
  if o.payment_method = 'wallet' then
    v_captured := private.wallet_order_captured(o.id);
  else
    -- The capture with the most left to refund (normally the order's one payment).
    select * into p from public.payments
    where order_id = o.id and status in ('succeeded', 'refunded')
    order by private.payment_captured(payments) - private.refunded_from(id, o.id) desc, created_at
    limit 1;
    v_captured := coalesce(private.payment_captured(p), 0);
  end if;
  if v_captured = 0 then
    perform private.fail('order_not_paid', format('Order %s has not been paid, so there is nothing to refund.', o.number));
  end if;
  -- A double tap is one refund: the same person refunding the same amount of
  -- this order for the same reason within a minute gets the first refund back.
  -- (The order lock above makes this look-up race-free.)
  select * into r from public.refunds
  where order_id = o.id and actor_id = uid and amount = p_amount and refunds.reason = v_reason
    and created_at > now() - interval '1 minute'
  order by created_at desc limit 1;
  if found then
    return r;
  end if;
  return private.issue_refund(o.id, p.id, p_amount,
                              case when p.id is null or p_destination = 'wallet' then 'wallet' else 'card' end,
                              v_reason, v_role, uid, borne, 'refund:' || gen_random_uuid());
end
$$;
comment on function public.refund_order(uuid, bigint, text, text, text) is 'Refunds part (or all) of an order, before or after completion; the same caller refunding the same amount for the same reason within a minute gets the first refund back (a double tap is one refund). Vendor owner: own orders, borne by the vendor. Admin: any order, p_borne_by vendor or platform (default platform). p_destination ''original'' (card payments to the card, through the provider; wallet payments to the wallet) or ''wallet''. The reason is required; refunded so far + p_amount may not exceed what was captured. After completion the vendor''s earning and the commission are reversed through the ledgers for the share it bears. Errors: order_not_found (P0002), reason_required, invalid_reason, invalid_refund_destination, invalid_borne_by, invalid_amount, order_not_paid, refund_exceeds_captured.';
revoke execute on function public.refund_order(uuid, bigint, text, text, text) from public, anon;
grant execute on function public.refund_order(uuid, bigint, text, text, text) to authenticated;

-- ============================================================================
-- Payments: late payments and expiry use the new lifecycle
-- ============================================================================

create or replace function public.confirm_payment(
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
  v_order_id uuid;
begin
  if not private.record_payment_event(p_provider, p_provider_event_id, 'succeeded', p_payload) then
    return private.replayed_payment_event(p_provider, p_provider_event_id);
  end if;
  -- Order before payment, as everywhere.
  select pp.order_id into v_order_id from public.payments pp where pp.reference = p_reference;
  if v_order_id is not null then
    select * into o from public.orders where id = v_order_id for update;
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
  where id = p.id
  returning * into p;

  if p.purpose = 'wallet_topup' then
    perform private.post_wallet_entry(p.user_id, p.amount, 'topup', p.reference, 'payment:' || p.id, null, p.id);
    outcome := 'credited';
  elsif o.status = 'awaiting_payment' then
    perform private.apply_order_transition(o, 'new', null, null, 'system');
    outcome := 'confirmed';
  else
    -- Paid after the order expired or was cancelled (or paid twice): the money
    -- goes back to the customer's wallet through the door, so a later provider
    -- refund of the same charge is clawed back instead of paid twice.
    update public.orders set paid_at = coalesce(paid_at, now()) where id = o.id;
    perform private.issue_refund(o.id, p.id, p.amount, 'wallet', 'paid_after_cancel', 'system', null, 'platform', 'payment:' || p.id || ':late');
    outcome := 'refunded_to_wallet';
  end if;
  return private.finish_payment_event(p_provider, p_provider_event_id, p.id, outcome);
end
$$;

create or replace function public.expire_unpaid_orders() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  o public.orders;
  n integer := 0;
begin
  for o in
    select * from public.orders
    where status = 'awaiting_payment' and created_at < now() - interval '30 minutes'
    order by created_at
    for update
  loop
    perform private.apply_order_transition(o, 'cancelled', 'payment_timeout', null, 'system');
    n := n + 1;
  end loop;
  return n;
end
$$;

-- ============================================================================
-- Provider refunds (webhooks) and card refunds we start (the refunds function)
-- ============================================================================

-- Applies a refund event from Paystack or Stripe once per provider event id.
-- Matching, in order: the provider's refund id; our refund id (sent as
-- metadata); a pending card refund of ours on the payment with the same amount
-- and no provider id yet (the webhook beat our own record of the id). An
-- unmatched processed refund (dashboard, chargeback) goes through the door,
-- borne by the platform; what it duplicates of a wallet refund is clawed back.
create function public.record_provider_refund(
  p_provider text,
  p_provider_event_id text,
  p_reference text,
  p_provider_refund_id text,
  p_amount bigint,
  p_currency text,
  p_status text,
  p_refund_id uuid default null,
  p_reason text default null,
  p_payload jsonb default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payments;
  o public.orders;
  r public.refunds;
  outcome text;
  v_order_id uuid;
  v_captured bigint;
  over bigint;
begin
  if p_status is null or p_status not in ('pending', 'processed', 'failed') then
    perform private.fail('invalid_status', 'A provider refund is pending, processed or failed.');
  end if;
  if nullif(trim(p_provider_refund_id), '') is null or char_length(p_provider_refund_id) > 200 then
    perform private.fail('invalid_refund_id', 'The provider refund id is required (at most 200 characters).');
  end if;
  if not private.record_payment_event(p_provider, p_provider_event_id, 'refund_' || p_status, p_payload) then
    return private.replayed_payment_event(p_provider, p_provider_event_id);
  end if;
  select pp.order_id into v_order_id from public.payments pp where pp.reference = p_reference;
  if v_order_id is not null then
    select * into o from public.orders where id = v_order_id for update;
  end if;
  select * into p from public.payments where reference = p_reference for update;
  if not found or p.provider <> p_provider then
    return private.finish_payment_event(p_provider, p_provider_event_id, null, 'unknown_reference');
  end if;

  select * into r from public.refunds where provider_refund_id = p_provider_refund_id;
  if not found and p_refund_id is not null then
    select * into r from public.refunds where id = p_refund_id and payment_id = p.id and provider_refund_id is null for update;
  end if;
  if r.id is null then
    select * into r from public.refunds
    where payment_id = p.id and destination = 'card' and status = 'pending' and provider_refund_id is null and amount = p_amount
    order by created_at limit 1
    for update;
  end if;

  if r.id is not null then
    if r.payment_id <> p.id or r.amount <> p_amount or upper(p_currency) is distinct from r.currency then
      return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'mismatch');
    end if;
    update public.refunds set provider_refund_id = p_provider_refund_id where id = r.id returning * into r;
    if p_status = 'pending' or p_status = r.status then
      outcome := 'unchanged';
    elsif p_status = 'processed' then
      -- Also when we had given up on it (failed, re-issued to the wallet):
      -- the wallet part is then clawed back.
      perform private.card_refund_processed(r);
      outcome := 'refund_processed';
    elsif r.status = 'pending' then
      perform private.card_refund_failed(r, coalesce(p_reason, 'refused by ' || p_provider));
      outcome := 'refund_failed';
    else
      -- failed after processed: the money reached the card; nothing to undo here.
      outcome := 'ignored';
    end if;
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, outcome);
  end if;

  -- Not one of ours: only a processed refund moves money.
  if p_status <> 'processed' then
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'awaiting_processed');
  end if;
  if upper(p_currency) is distinct from p.currency or p_amount is null or p_amount <= 0 then
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'mismatch');
  end if;
  v_captured := private.payment_captured(p);
  if private.card_refunded(p.id) + p_amount > v_captured then
    -- The provider never returns more than it charged: our records disagree with it.
    return private.finish_payment_event(p_provider, p_provider_event_id, p.id, 'exceeds_captured');
  end if;
  -- The part that duplicates money already returned (to the wallet) is a claw-back.
  over := case when p.purpose = 'wallet_topup' then p_amount
               else greatest(private.refunded_from(p.id, p.order_id) + p_amount - v_captured, 0) end;
  r := private.issue_refund(p.order_id, p.id, p_amount, 'card', coalesce(p_reason, 'refunded_by_provider'), 'provider', null, 'platform',
                            p_provider || ':refund:' || p_provider_refund_id, p_provider_refund_id, over);
  perform private.card_refund_processed(r);
  outcome := 'refunded';

  -- A provider refund of everything an order in progress captured ends the order.
  if o.id is not null then
    select * into o from public.orders where id = o.id;
    if o.status in ('awaiting_payment', 'new', 'preparing', 'ready', 'out_for_delivery')
       and private.order_refunded(o.id) >= private.order_captured(o.id) then
      perform private.apply_order_transition(o, 'cancelled', 'refunded_by_provider', null, 'system');
    end if;
  end if;
  return private.finish_payment_event(p_provider, p_provider_event_id, p.id, outcome);
end
$$;
comment on function public.record_provider_refund(text, text, text, text, bigint, text, text, uuid, text, jsonb) is 'Contract (service_role only, for payment webhooks): applies a provider refund event (p_status pending|processed|failed) once per (p_provider, p_provider_event_id) and once per provider refund id. Settles a card refund we started (matched by provider refund id, our refund id p_refund_id, or a pending refund of the same amount on the payment); a failed one is re-issued to the wallet. An unmatched processed refund goes through the capped door (borne by the platform): what it duplicates of money already returned to the wallet is clawed back from the wallet, the rest owed as a receivable; a full refund of an order in progress cancels it. Returns {outcome: refunded|refund_processed|refund_failed|unchanged|awaiting_processed|mismatch|exceeds_captured|ignored|unknown_reference, duplicate, payment_id, order_id, payment_status}.';
revoke execute on function public.record_provider_refund(text, text, text, text, bigint, text, text, uuid, text, jsonb) from public, anon, authenticated;
grant execute on function public.record_provider_refund(text, text, text, text, bigint, text, text, uuid, text, jsonb) to service_role;

-- Card refunds due to be sent to the provider, claimed so that concurrent runs
-- of the refunds function never send one twice: each claimed row's next
-- attempt moves into the future (backoff) before it is returned. With
-- p_refund_id, only that refund, on its first attempt (sent right after the
-- commit that issued it) or when it is due; without, every due retry (the sweep).
create function public.claim_card_refunds(p_limit integer default 10, p_refund_id uuid default null)
returns table (refund_id uuid, provider text, payment_reference text, provider_payment_id text, amount bigint, currency text, attempts integer, reason text)
language plpgsql
security definer
set search_path = ''
as $$
begin
  return query
  with due as (
    select r.id from public.refunds r
    where r.status = 'pending' and r.destination = 'card' and r.provider_refund_id is null
      and case when p_refund_id is null then r.next_attempt_at <= now()
               else r.id = p_refund_id and (r.attempts = 0 or r.next_attempt_at <= now()) end
    order by r.next_attempt_at
    limit least(greatest(coalesce(p_limit, 10), 1), 100)
    for update skip locked
  ), claimed as (
    update public.refunds r
    set attempts = r.attempts + 1,
        next_attempt_at = now() + (array['1 minute', '5 minutes', '30 minutes', '2 hours', '12 hours'])[least(r.attempts + 1, 5)]::interval
    from due where r.id = due.id
    returning r.*
  )
  select c.id, p.provider, p.reference, p.provider_payment_id, c.amount, c.currency::text, c.attempts, c.reason
  from claimed c join public.payments p on p.id = c.payment_id;
end
$$;
comment on function public.claim_card_refunds(integer, uuid) is 'Contract (service_role only, for the refunds function): claims up to p_limit pending card refunds (for update skip locked) and pushes their next attempt out by a backoff (1 min, 5 min, 30 min, 2 h, 12 h), so a crashed run retries later and concurrent runs never take the same refund. p_refund_id: that refund only, on its first attempt or when due; null: every due retry.';
revoke execute on function public.claim_card_refunds(integer, uuid) from public, anon, authenticated;
grant execute on function public.claim_card_refunds(integer, uuid) to service_role;

-- What the provider's Refund API answered for one of our card refunds.
create function public.record_card_refund_result(p_refund_id uuid, p_provider_refund_id text, p_status text, p_failure_reason text default null)
returns public.refunds
language plpgsql
security definer
set search_path = ''
as $$
declare
  r public.refunds;
  v_order_id uuid;
begin
  if p_status is null or p_status not in ('pending', 'processed', 'failed') then
    perform private.fail('invalid_status', 'A card refund is pending, processed or failed.');
  end if;
  select rr.order_id into v_order_id from public.refunds rr where rr.id = p_refund_id;
  if v_order_id is not null then
    perform 1 from public.orders where id = v_order_id for update;
  end if;
  select * into r from public.refunds where id = p_refund_id and destination = 'card' for update;
  if not found then
    perform private.fail('refund_not_found', 'This card refund does not exist.', 'P0002');
  end if;
  if p_provider_refund_id is not null and r.provider_refund_id is null then
    -- A webhook may already have recorded this provider id on the refund.
    update public.refunds set provider_refund_id = p_provider_refund_id
    where id = r.id and not exists (select 1 from public.refunds x where x.provider_refund_id = p_provider_refund_id)
    returning * into r;
    select * into r from public.refunds where id = p_refund_id;
  end if;
  if r.status = 'pending' and p_status = 'processed' then
    r := private.card_refund_processed(r);
  elsif r.status = 'pending' and p_status = 'failed' then
    r := private.card_refund_failed(r, p_failure_reason);
  end if;
  return r;
end
$$;
comment on function public.record_card_refund_result(uuid, text, text, text) is 'Contract (service_role only, for the refunds function): stores the provider''s refund id for one of our card refunds and applies a final answer: processed settles it, failed re-issues the amount to the wallet. Idempotent; a refund already settled is returned unchanged. Error: refund_not_found (P0002).';
revoke execute on function public.record_card_refund_result(uuid, text, text, text) from public, anon, authenticated;
grant execute on function public.record_card_refund_result(uuid, text, text, text) to service_role;

-- ============================================================================
-- Receivables: admins write off what will not be recovered
-- ============================================================================

create function public.admin_write_off_receivable(p_receivable_id uuid, p_reason text)
returns public.receivables
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  v_reason text := private.require_reason(p_reason);
  rec public.receivables;
begin
  select * into rec from public.receivables where id = p_receivable_id for update;
  if not found then
    perform private.fail('receivable_not_found', 'This receivable does not exist.', 'P0002');
  end if;
  if rec.status <> 'open' then
    perform private.fail('receivable_closed', format('This receivable is %s.', rec.status));
  end if;
  insert into public.platform_ledger (type, amount, idempotency_key)
  values ('receivable_written_off', -(rec.amount - rec.settled_amount), 'receivable:' || rec.id || ':write_off');
  update public.receivables set status = 'written_off', closed_at = now(), closed_by = admin_id,
                                reason = left(rec.reason || ' / written off: ' || v_reason, 500)
  where id = rec.id returning * into rec;
  update admin.account_flags set resolved_at = now() where receivable_id = rec.id and resolved_at is null;
  return rec;
end
$$;
comment on function public.admin_write_off_receivable(uuid, text) is 'Admin only: writes off what is left of an open receivable (booked as a platform loss), with a reason. Errors: receivable_not_found (P0002), receivable_closed, reason_required.';
revoke execute on function public.admin_write_off_receivable(uuid, text) from public, anon;
grant execute on function public.admin_write_off_receivable(uuid, text) to authenticated;

-- ============================================================================
-- Admin views and the conservation check
-- ============================================================================

create view admin.refunds with (security_invoker = true) as
select r.id, r.created_at, r.processed_at, o.number as order_number, pay.reference as payment_reference, pay.provider,
       r.user_id, r.amount, r.clawback_amount, r.currency, r.destination, r.status, r.reason, r.initiated_by_role,
       r.actor_id, r.borne_by, r.provider_refund_id, r.attempts, r.failure_reason
from public.refunds r
left join public.orders o on o.id = r.order_id
left join public.payments pay on pay.id = r.payment_id
order by r.created_at desc;
comment on view admin.refunds is 'Every refund with its order and payment: who started it, who bears it, where it went and whether it is done.';

create view admin.receivables with (security_invoker = true) as
select rec.id, rec.created_at, rec.user_id, pr.phone, rec.amount, rec.settled_amount, rec.amount - rec.settled_amount as outstanding,
       rec.status, rec.reason, rec.refund_id, rec.closed_at, rec.closed_by
from public.receivables rec
join public.profiles pr on pr.id = rec.user_id
order by rec.status = 'open' desc, rec.created_at desc;
comment on view admin.receivables is 'Money users owe the platform after claw-backs their wallet could not cover; open ones first.';

-- admin.daily_cash and admin.money_conservation over refunds, receivables and
-- payouts are defined once, in 20261201110000_payouts.sql, with the payout terms.
