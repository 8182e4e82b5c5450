-- Vendor payouts through Paystack Transfers: the vendor owner's bank account
-- (payout_accounts, resolved and registered as a transfer recipient by the
-- `payouts` edge function), payout requests that move money from the owner's
-- wallet to a hold through the ledger, admin approval above a threshold, and
-- the transfer outcome (paid, or the hold returned on failure or reversal).
--
-- State of a payout:
--   pending_approval --admin_approve_payout--> queued
--   pending_approval --admin_reject_payout---> failed (hold returned)
--   queued --claim_payouts (the function sends POST /transfer)--> processing
--   processing --transfer success--> paid
--   processing --transfer failed---> failed (hold returned)
--   processing | paid --transfer reversed--> reversed (hold returned)
-- failed and reversed are final; a later or replayed event changes nothing.

-- ============================================================================
-- Ledger types for holds
-- ============================================================================

-- payout_hold (negative) takes the amount out of the wallet when the payout is
-- requested; payout_release (positive) gives it back when the payout is
-- rejected, fails or is reversed. A paid payout keeps its hold: the money left
-- the platform.
-- (The types of 20261201100000_refunds.sql, and these two.)
alter table public.wallet_transactions drop constraint wallet_transactions_type_check;
alter table public.wallet_transactions add constraint wallet_transactions_type_check
  check (type in ('topup', 'order_payment', 'order_refund', 'order_earning', 'topup_reversal', 'admin_adjustment',
                  'earning_reversal', 'refund_clawback', 'receivable_settlement',
                  'payout_hold', 'payout_release'));
comment on column public.wallet_transactions.type is 'topup, order_payment, order_refund, order_earning, topup_reversal (a card top-up refunded at the provider), admin_adjustment, earning_reversal (a refund the vendor bears after completion), refund_clawback (a wallet refund the provider also paid to the card), receivable_settlement, payout_hold (money set aside for a payout) or payout_release (a held payout returned).';

-- ============================================================================
-- Settings
-- ============================================================================

-- One row; admins change it in Studio. Kept private (not exposed) so clients
-- cannot read or write it.
create table private.payout_settings (
  id boolean primary key default true check (id),
  minimum_amount bigint not null default 100000 check (minimum_amount > 0),
  approval_threshold bigint not null default 50000000 check (approval_threshold > 0),
  updated_at timestamptz not null default now()
);
comment on table private.payout_settings is 'Payout rules (one row): the smallest payout and the amount above which an admin must approve.';
comment on column private.payout_settings.id is 'Always true: there is one row.';
comment on column private.payout_settings.minimum_amount is 'Smallest payout in kobo (default 100000 = NGN 1,000).';
comment on column private.payout_settings.approval_threshold is 'Payouts above this amount in kobo wait for admin approval (default 50000000 = NGN 500,000).';
comment on column private.payout_settings.updated_at is 'When the settings last changed.';
insert into private.payout_settings default values;
revoke all on private.payout_settings from public, anon, authenticated, service_role;

-- ============================================================================
-- Payout accounts
-- ============================================================================

create table public.payout_accounts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null unique references public.profiles (id) on delete cascade,
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  bank_code text not null check (bank_code ~ '^[0-9A-Za-z]{2,12}$'),
  bank_name text not null check (char_length(bank_name) between 1 and 100),
  account_number text not null check (account_number ~ '^[0-9]{10}$'),
  account_name text not null check (char_length(account_name) between 1 and 200),
  recipient_code text not null check (recipient_code ~ '^RCP_[0-9A-Za-z]{1,60}$'),
  currency char(3) not null default 'NGN',
  verified_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.payout_accounts is 'The bank account a vendor owner is paid out to (one per owner), resolved with Paystack and registered as a transfer recipient by the payouts edge function; no client writes it directly.';
comment on column public.payout_accounts.id is 'Account id.';
comment on column public.payout_accounts.user_id is 'The vendor owner whose wallet is paid out to this account.';
comment on column public.payout_accounts.vendor_id is 'The vendor the owner runs.';
comment on column public.payout_accounts.bank_code is 'Paystack bank code (from GET /bank).';
comment on column public.payout_accounts.bank_name is 'Bank name as Paystack names it.';
comment on column public.payout_accounts.account_number is 'NUBAN account number (10 digits).';
comment on column public.payout_accounts.account_name is 'Account holder name as resolved by Paystack (GET /bank/resolve), never typed by the user.';
comment on column public.payout_accounts.recipient_code is 'Paystack transfer recipient (POST /transferrecipient) that transfers are sent to.';
comment on column public.payout_accounts.currency is 'Currency of the account (NGN).';
comment on column public.payout_accounts.verified_at is 'When Paystack resolved the account and created the recipient.';
comment on column public.payout_accounts.created_at is 'When the account was first added.';
comment on column public.payout_accounts.updated_at is 'When the account last changed.';
create index payout_accounts_vendor_id_idx on public.payout_accounts (vendor_id);

alter table public.payout_accounts enable row level security;
create policy "Owners read their payout account, admins read all" on public.payout_accounts
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete, truncate on public.payout_accounts from anon, authenticated, service_role;
revoke select on public.payout_accounts from anon;

create trigger payout_accounts_touch_updated_at
  before update on public.payout_accounts
  for each row execute function private.touch_updated_at();

-- Stores what Paystack resolved and registered for the owner's account. The
-- function (service_role) calls it after GET /bank/resolve and POST
-- /transferrecipient; the caller is the JWT's user, checked here to own an
-- active vendor (the function checks the same before it calls Paystack).
create function public.save_payout_account(
  p_user_id uuid,
  p_bank_code text,
  p_bank_name text,
  p_account_number text,
  p_account_name text,
  p_recipient_code text
) returns public.payout_accounts
language plpgsql
security definer
set search_path = ''
as $$
declare
  v public.vendors;
  a public.payout_accounts;
begin
  select * into v from public.vendors where owner_id = p_user_id;
  if not found then
    perform private.fail('not_a_vendor', 'Only a vendor owner has a payout account.', '42501');
  end if;
  -- Resolving accounts reveals holders' names: only approved vendors may.
  if v.status <> 'active' then
    perform private.fail('vendor_not_active', 'Only an active vendor can add a payout account.', '42501');
  end if;
  insert into public.payout_accounts (user_id, vendor_id, bank_code, bank_name, account_number, account_name, recipient_code)
  values (p_user_id, v.id, p_bank_code, p_bank_name, p_account_number, p_account_name, p_recipient_code)
  on conflict (user_id) do update
    set vendor_id = excluded.vendor_id, bank_code = excluded.bank_code, bank_name = excluded.bank_name,
        account_number = excluded.account_number, account_name = excluded.account_name,
        recipient_code = excluded.recipient_code, verified_at = now()
  returning * into a;
  return a;
end
$$;
comment on function public.save_payout_account(uuid, text, text, text, text, text) is 'Edge functions only (service_role): stores the vendor owner''s Paystack-resolved bank account and transfer recipient, replacing the previous one.';
revoke execute on function public.save_payout_account(uuid, text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.save_payout_account(uuid, text, text, text, text, text) to service_role;

-- ============================================================================
-- Payouts
-- ============================================================================

create table public.payouts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete restrict,
  vendor_id uuid not null references public.vendors (id) on delete restrict,
  amount bigint not null check (amount > 0),
  currency char(3) not null default 'NGN',
  status text not null check (status in ('pending_approval', 'queued', 'processing', 'paid', 'failed', 'reversed')),
  reference text not null unique default 'po_' || replace(gen_random_uuid()::text, '-', '')
    check (reference ~ '^[a-z0-9_-]{16,50}$'),
  idempotency_key text check (char_length(idempotency_key) between 1 and 200),
  payout_account_id uuid references public.payout_accounts (id) on delete set null,
  recipient_code text not null,
  bank_name text not null,
  account_number text not null,
  account_name text not null,
  hold_entry_id uuid not null references public.wallet_transactions (id) on delete restrict,
  release_entry_id uuid references public.wallet_transactions (id) on delete restrict,
  transfer_code text check (char_length(transfer_code) <= 100),
  attempts integer not null default 0,
  last_error text check (char_length(last_error) <= 500),
  failure_reason text check (char_length(failure_reason) <= 500),
  approved_by uuid references public.profiles (id) on delete set null,
  approved_at timestamptz,
  rejected_by uuid references public.profiles (id) on delete set null,
  rejected_at timestamptz,
  sent_at timestamptz,
  paid_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, idempotency_key),
  -- The hold comes back exactly when the payout did not go out.
  check ((status in ('failed', 'reversed')) = (release_entry_id is not null))
);
comment on table public.payouts is 'Vendor payouts: money moved from the owner''s wallet to a hold (ledger row payout_hold), sent with Paystack Transfers, and either paid or returned (payout_release). Written only by the payout functions.';
comment on column public.payouts.id is 'Payout id.';
comment on column public.payouts.user_id is 'The vendor owner whose wallet pays for it.';
comment on column public.payouts.vendor_id is 'The owner''s vendor.';
comment on column public.payouts.amount is 'Amount in kobo sent to the bank account.';
comment on column public.payouts.currency is 'Currency (NGN).';
comment on column public.payouts.status is 'pending_approval (above the threshold, waits for an admin), queued (to be sent), processing (sent to Paystack), paid, failed (rejected or failed; hold returned) or reversed (the bank returned it; hold returned).';
comment on column public.payouts.reference is 'Our transfer reference, sent to Paystack as the transfer''s idempotency key; unique.';
comment on column public.payouts.idempotency_key is 'Client key: requesting again with the same key returns this payout.';
comment on column public.payouts.payout_account_id is 'The payout account it was requested to (null once that account is deleted).';
comment on column public.payouts.recipient_code is 'Snapshot: the Paystack transfer recipient it is sent to.';
comment on column public.payouts.bank_name is 'Snapshot: the bank.';
comment on column public.payouts.account_number is 'Snapshot: the account number.';
comment on column public.payouts.account_name is 'Snapshot: the resolved account holder name.';
comment on column public.payouts.hold_entry_id is 'The payout_hold ledger row that set the amount aside.';
comment on column public.payouts.release_entry_id is 'The payout_release ledger row that returned it (failed or reversed only).';
comment on column public.payouts.transfer_code is 'Paystack''s transfer code (TRF_...) once Paystack has it.';
comment on column public.payouts.attempts is 'How many times it was sent to Paystack (retries reuse the reference, so Paystack makes one transfer).';
comment on column public.payouts.last_error is 'The last error of a send that did not reach a conclusion.';
comment on column public.payouts.failure_reason is 'Why it failed or was reversed (rejection reason, Paystack''s message).';
comment on column public.payouts.approved_by is 'The admin who approved it (above the threshold).';
comment on column public.payouts.approved_at is 'When it was approved.';
comment on column public.payouts.rejected_by is 'The admin who rejected it.';
comment on column public.payouts.rejected_at is 'When it was rejected.';
comment on column public.payouts.sent_at is 'When it was last sent to Paystack.';
comment on column public.payouts.paid_at is 'When Paystack reported the transfer successful.';
comment on column public.payouts.finished_at is 'When it became failed or reversed.';
comment on column public.payouts.created_at is 'When it was requested.';
comment on column public.payouts.updated_at is 'When it last changed.';
create index payouts_user_id_created_at_idx on public.payouts (user_id, created_at desc);
create index payouts_vendor_id_idx on public.payouts (vendor_id);
-- The sender and the admin view look payouts up by open status.
create index payouts_open_status_idx on public.payouts (status, created_at) where status in ('pending_approval', 'queued', 'processing');
create index payouts_payout_account_id_idx on public.payouts (payout_account_id);
create index payouts_hold_entry_id_idx on public.payouts (hold_entry_id);
create index payouts_release_entry_id_idx on public.payouts (release_entry_id);
create index payouts_approved_by_idx on public.payouts (approved_by);
create index payouts_rejected_by_idx on public.payouts (rejected_by);

alter table public.payouts enable row level security;
create policy "Owners read their payouts, admins read all" on public.payouts
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
revoke insert, update, delete, truncate on public.payouts from anon, authenticated, service_role;
revoke select on public.payouts from anon;

create trigger payouts_touch_updated_at
  before update on public.payouts
  for each row execute function private.touch_updated_at();

-- Every transfer webhook applied, keyed by event and transfer id: a replayed
-- event is a no-op. Separate from payment_events, whose types are payments'.
create table public.payout_events (
  id uuid primary key default gen_random_uuid(),
  provider_event_id text not null unique check (char_length(provider_event_id) between 1 and 200),
  event_type text not null check (event_type in ('success', 'failed', 'reversed', 'pending')),
  payout_id uuid references public.payouts (id) on delete restrict,
  outcome text not null,
  payload jsonb,
  created_at timestamptz not null default now()
);
comment on table public.payout_events is 'Every Paystack transfer webhook event applied (transfer.success, transfer.failed, transfer.reversed), keyed by event and transfer id: a replayed event is a no-op. Admin read only.';
comment on column public.payout_events.id is 'Row id.';
comment on column public.payout_events.provider_event_id is 'The event name and Paystack transfer id, e.g. transfer.success:860703114 (unique).';
comment on column public.payout_events.event_type is 'success, failed, reversed or pending (our classification of the event).';
comment on column public.payout_events.payout_id is 'The payout it applied to (null for an unknown reference).';
comment on column public.payout_events.outcome is 'What it did: paid, failed, reversed, pending, ignored (the payout was already past that point), unknown_reference, amount_mismatch.';
comment on column public.payout_events.payload is 'The provider event, for audits.';
comment on column public.payout_events.created_at is 'When it was received.';
create index payout_events_payout_id_idx on public.payout_events (payout_id);

alter table public.payout_events enable row level security;
create policy "Admins read payout events" on public.payout_events
  for select to authenticated using ((select private.is_admin()));
revoke insert, update, delete, truncate on public.payout_events from anon, authenticated, service_role;
revoke select on public.payout_events from anon;

-- ----------------------------------------------------------------------------
-- Helpers
-- ----------------------------------------------------------------------------

-- Tells the vendor owner what happened to a payout (inbox and Realtime, through
-- the notifications triggers).
create function private.notify_payout(p public.payouts, p_title text, p_body text) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.notifications (user_id, type, title, body, data)
  values (p.user_id, 'account', p_title, p_body,
          jsonb_build_object('payout_id', p.id, 'status', p.status, 'amount', p.amount, 'reference', p.reference));
end
$$;
revoke execute on function private.notify_payout(public.payouts, text, text) from public, anon, authenticated, service_role;

-- Naira with thousands separators, for messages: 150000 -> 1,500.00.
create function private.naira(p_kobo bigint) returns text
language sql
immutable
set search_path = ''
as $$
  select 'NGN ' || to_char(p_kobo / 100.0, 'FM999,999,999,990.00')
$$;
revoke execute on function private.naira(bigint) from public, anon, authenticated, service_role;

-- Returns a held payout's money to the owner's wallet and closes it as failed
-- or reversed. The caller holds the payout's row lock and has checked that the
-- payout may end this way.
create function private.release_payout(p_payout public.payouts, p_status text, p_reason text) returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  entry public.wallet_transactions;
  p public.payouts;
begin
  entry := private.post_wallet_entry(p_payout.user_id, p_payout.amount, 'payout_release', p_payout.reference,
                                     'payout-release:' || p_payout.id, null, null, left(p_reason, 500), null);
  update public.payouts
  set status = p_status, release_entry_id = entry.id, failure_reason = left(p_reason, 500), finished_at = now()
  where id = p_payout.id
  returning * into p;
  perform private.notify_payout(p,
    case p_status when 'reversed' then 'Payout reversed' else 'Payout failed' end,
    format('Your payout of %s was %s: %s. The money is back in your wallet.',
           private.naira(p.amount), case p_status when 'reversed' then 'returned by the bank' else 'not sent' end, p_reason));
  return p;
end
$$;
revoke execute on function private.release_payout(public.payouts, text, text) from public, anon, authenticated, service_role;

-- The one place a payout becomes queued (sendable): pg_net calls the payouts
-- function for it once this transaction commits (nothing is sent for a
-- rolled-back request). private.invoke_edge_function comes from
-- 20261201190000_refunds_after_commit.sql, later in the migration order;
-- plpgsql resolves it when called. Without Vault's settings it warns and the
-- send-payouts job, the owner or an admin sends the payout instead.
create function private.queue_payout(p_payout_id uuid) returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payouts;
begin
  update public.payouts set status = 'queued' where id = p_payout_id returning * into p;
  perform private.invoke_edge_function('payouts', jsonb_build_object('action', 'send', 'payout_id', p.id));
  return p;
end
$$;
revoke execute on function private.queue_payout(uuid) from public, anon, authenticated, service_role;

-- ----------------------------------------------------------------------------
-- Requests and approval
-- ----------------------------------------------------------------------------

create function public.request_payout(p_amount bigint, p_idempotency_key text default null)
returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  v public.vendors;
  s private.payout_settings;
  a public.payout_accounts;
  p public.payouts;
  hold public.wallet_transactions;
begin
  select * into v from public.vendors where owner_id = uid;
  if not found then
    perform private.fail('not_a_vendor', 'Only a vendor owner can request a payout.', '42501');
  end if;
  if v.status = 'suspended' then
    perform private.fail('vendor_suspended', 'Payouts are paused while the vendor is suspended.');
  end if;
  if p_idempotency_key is not null and char_length(p_idempotency_key) not between 1 and 200 then
    perform private.fail('invalid_idempotency_key', 'The idempotency key must be 1 to 200 characters.');
  end if;
  select * into s from private.payout_settings;
  if p_amount is null or p_amount <= 0 or p_amount > 10000000000 then
    perform private.fail('invalid_amount', 'The payout amount must be a positive number of kobo, at most 10000000000.');
  end if;
  if p_amount < s.minimum_amount then
    perform private.fail('payout_below_minimum', format('The smallest payout is %s.', private.naira(s.minimum_amount)));
  end if;
  -- The wallet's row lock serializes this owner's requests: the replay check
  -- and the balance check below see every earlier request.
  perform 1 from public.wallets where user_id = uid for update;
  if p_idempotency_key is not null then
    select * into p from public.payouts where user_id = uid and idempotency_key = p_idempotency_key;
    if found then
      return p;
    end if;
  end if;
  select * into a from public.payout_accounts where user_id = uid;
  if not found then
    perform private.fail('payout_account_missing', 'Add and verify a bank account before requesting a payout.');
  end if;
  -- The hold's ledger row refuses to overdraw (insufficient_funds) and rolls back the payout with it.
  p.id := gen_random_uuid();
  p.reference := 'po_' || replace(p.id::text, '-', '');
  hold := private.post_wallet_entry(uid, -p_amount, 'payout_hold', p.reference, 'payout-hold:' || p.id,
                                    null, null, 'Payout to ' || a.bank_name || ' ' || a.account_number, uid);
  insert into public.payouts (id, user_id, vendor_id, amount, currency, status, reference, idempotency_key, payout_account_id,
                              recipient_code, bank_name, account_number, account_name, hold_entry_id)
  values (p.id, uid, v.id, p_amount, a.currency, 'pending_approval', p.reference, p_idempotency_key, a.id,
          a.recipient_code, a.bank_name, a.account_number, a.account_name, hold.id)
  returning * into p;
  if p_amount <= s.approval_threshold then
    p := private.queue_payout(p.id);
  end if;
  return p;
end
$$;
comment on function public.request_payout(bigint, text) is 'Vendor owner: moves p_amount kobo from the wallet to a hold and creates a payout to the verified payout account; queued at once, or pending_approval above the threshold. Refusals: not_authenticated, account_suspended, not_a_vendor, vendor_suspended, invalid_amount, payout_below_minimum, payout_account_missing, insufficient_funds. The same idempotency key returns the same payout.';
revoke execute on function public.request_payout(bigint, text) from public, anon;
grant execute on function public.request_payout(bigint, text) to authenticated;

-- Locks a payout for an admin decision; it must still wait for approval.
create function private.pending_payout_for_update(p_payout_id uuid) returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payouts;
begin
  select * into p from public.payouts where id = p_payout_id for update;
  if not found then
    perform private.fail('payout_not_found', 'This payout does not exist.', 'P0002');
  end if;
  if p.status <> 'pending_approval' then
    perform private.fail('payout_not_pending', format('This payout is %s, not waiting for approval.', p.status));
  end if;
  return p;
end
$$;
revoke execute on function private.pending_payout_for_update(uuid) from public, anon, authenticated, service_role;

create function public.admin_approve_payout(p_payout_id uuid) returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  p public.payouts := private.pending_payout_for_update(p_payout_id);
begin
  -- Four eyes: an admin who also runs a vendor cannot wave their own payout through.
  if p.user_id = admin_id then
    perform private.fail('cannot_approve_own_payout', 'Another admin must approve your own payout.', '42501');
  end if;
  update public.payouts set approved_by = admin_id, approved_at = now() where id = p.id;
  return private.queue_payout(p.id);
end
$$;
comment on function public.admin_approve_payout(uuid) is 'Admin only, never for the admin''s own payout: approves a payout waiting for approval, which queues it to be sent. Refusals: forbidden, cannot_approve_own_payout, payout_not_found, payout_not_pending.';
revoke execute on function public.admin_approve_payout(uuid) from public, anon;
grant execute on function public.admin_approve_payout(uuid) to authenticated;

create function public.admin_reject_payout(p_payout_id uuid, p_reason text) returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  reason text := private.require_reason(p_reason);
  p public.payouts := private.pending_payout_for_update(p_payout_id);
begin
  update public.payouts set rejected_by = admin_id, rejected_at = now() where id = p.id returning * into p;
  return private.release_payout(p, 'failed', 'rejected: ' || reason);
end
$$;
comment on function public.admin_reject_payout(uuid, text) is 'Admin only: rejects a payout waiting for approval, with a reason; the hold goes back to the owner''s wallet and the owner is notified. Refusals: reason_required, payout_not_found, payout_not_pending.';
revoke execute on function public.admin_reject_payout(uuid, text) from public, anon;
grant execute on function public.admin_reject_payout(uuid, text) to authenticated;

-- ----------------------------------------------------------------------------
-- Sending and outcomes (the payouts and paystack-webhook functions)
-- ----------------------------------------------------------------------------

-- Whether a sweep sends a payout: queued (for the platform's cron sweep, only
-- once the send after commit had a minute), or left processing for 10 minutes
-- by an inconclusive send.
create function private.payout_due(p public.payouts, p_platform boolean) returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return (p.status = 'queued' and (not p_platform or p.updated_at < now() - interval '1 minute'))
      or (p.status = 'processing' and p.sent_at < now() - interval '10 minutes');
end
$$;
revoke execute on function private.payout_due(public.payouts, boolean) from public, anon, authenticated, service_role;

-- Claims payouts to send with POST /transfer: one payout (its owner or an
-- admin), or without p_payout_id every due payout (admins, the platform).
-- p_user_id null is the platform itself: the function called with the
-- service_role key (the send-payouts job). Claimed payouts are
-- processing before Paystack is called, so a webhook always finds them; a
-- processing payout is sent again with the same reference, which Paystack
-- turns into the same transfer.
create function public.claim_payouts(p_user_id uuid, p_payout_id uuid default null, p_limit integer default 20)
returns setof public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  is_admin boolean := p_user_id is null
    or exists (select 1 from public.profiles where id = p_user_id and role = 'admin' and status = 'active');
  p public.payouts;
begin
  if p_payout_id is null then
    if not is_admin then
      perform private.fail('forbidden', 'Only admins may send every queued payout.', '42501');
    end if;
    return query
      update public.payouts set status = 'processing', attempts = attempts + 1, sent_at = now()
      where public.payouts.id in (
        select q.id from public.payouts q
        where q.status in ('queued', 'processing') and private.payout_due(q, p_user_id is null)
        order by q.created_at
        limit least(greatest(coalesce(p_limit, 20), 1), 100)
        for update skip locked)
      returning *;
    return;
  end if;
  select * into p from public.payouts where id = p_payout_id for update;
  if not found or (p.user_id <> p_user_id and not is_admin) then
    perform private.fail('payout_not_found', 'This payout does not exist.', 'P0002');
  end if;
  if p.status not in ('queued', 'processing') then
    perform private.fail('payout_not_sendable', format('This payout is %s; only queued payouts are sent.', p.status));
  end if;
  return query
    update public.payouts set status = 'processing', attempts = attempts + 1, sent_at = now()
    where id = p.id returning *;
end
$$;
comment on function public.claim_payouts(uuid, uuid, integer) is 'Edge functions only (service_role): marks payouts processing before POST /transfer is sent. With p_payout_id, that payout (its owner or an admin); without, an admin''s sweep of queued and stale processing payouts. p_user_id null: the platform (service_role key), allowed both.';
revoke execute on function public.claim_payouts(uuid, uuid, integer) from public, anon, authenticated;
grant execute on function public.claim_payouts(uuid, uuid, integer) to service_role;

-- Records a send that reached no conclusion (Paystack unreachable or 5xx): the
-- payout stays processing and is sent again later with the same reference.
create function public.record_payout_send_error(p_reference text, p_error text) returns public.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payouts;
begin
  update public.payouts set last_error = left(p_error, 500)
  where reference = p_reference and status = 'processing'
  returning * into p;
  return p;
end
$$;
comment on function public.record_payout_send_error(text, text) is 'Edge functions only (service_role): notes why a transfer send was inconclusive; the payout stays processing.';
revoke execute on function public.record_payout_send_error(text, text) from public, anon, authenticated;
grant execute on function public.record_payout_send_error(text, text) to service_role;

-- Applies a transfer's status as Paystack reports it, from the answer to POST
-- /transfer (p_provider_event_id null) or from a webhook (its event id, so a
-- replay is a no-op). Out-of-order events are no-ops by state: a payout moves
-- only forward (processing -> paid | failed, processing | paid -> reversed).
create function public.apply_transfer_status(
  p_reference text,
  p_status text,
  p_transfer_code text default null,
  p_amount bigint default null,
  p_currency text default null,
  p_reason text default null,
  p_provider_event_id text default null,
  p_payload jsonb default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.payouts;
  result text;
  -- abandoned (an OTP never given) is final at Paystack and moved no money.
  kind text := case when p_status in ('success', 'failed', 'reversed') then p_status when p_status = 'abandoned' then 'failed' else 'pending' end;
begin
  if nullif(trim(p_reference), '') is null or char_length(p_reference) > 100 then
    perform private.fail('invalid_reference', 'The transfer reference is required (at most 100 characters).');
  end if;
  if p_provider_event_id is not null then
    insert into public.payout_events (provider_event_id, event_type, outcome, payload)
    values (left(p_provider_event_id, 200), kind, 'received', p_payload)
    on conflict (provider_event_id) do nothing;
    if not found then
      select e.payout_id, e.outcome into p.id, result from public.payout_events e where e.provider_event_id = left(p_provider_event_id, 200);
      select * into p from public.payouts where id = p.id;
      return jsonb_build_object('outcome', result, 'duplicate', true, 'payout_id', p.id, 'payout_status', p.status);
    end if;
  end if;

  select * into p from public.payouts where reference = p_reference for update;
  if not found then
    result := 'unknown_reference';
  elsif (p_amount is not null and p_amount <> p.amount) or (p_currency is not null and upper(p_currency) <> p.currency) then
    -- Never settle on a transfer that is not ours as we sent it; an admin looks at the event.
    result := 'amount_mismatch';
  elsif kind = 'success' and p.status = 'processing' then
    update public.payouts set status = 'paid', paid_at = now(), transfer_code = coalesce(p_transfer_code, transfer_code), last_error = null
    where id = p.id returning * into p;
    perform private.notify_payout(p, 'Payout sent', format('%s is on its way to %s %s.', private.naira(p.amount), p.bank_name, p.account_number));
    result := 'paid';
  elsif kind = 'failed' and p.status = 'processing' then
    update public.payouts set transfer_code = coalesce(p_transfer_code, transfer_code) where id = p.id returning * into p;
    p := private.release_payout(p, 'failed', coalesce(nullif(trim(p_reason), ''), 'the transfer failed'));
    result := 'failed';
  elsif kind = 'reversed' and p.status in ('processing', 'paid') then
    update public.payouts set transfer_code = coalesce(p_transfer_code, transfer_code) where id = p.id returning * into p;
    p := private.release_payout(p, 'reversed', coalesce(nullif(trim(p_reason), ''), 'the transfer was reversed'));
    result := 'reversed';
  elsif kind = 'pending' and p.status = 'processing' then
    update public.payouts set transfer_code = coalesce(p_transfer_code, transfer_code), last_error = null
    where id = p.id returning * into p;
    result := 'pending';
  else
    result := 'ignored';
  end if;

  if p_provider_event_id is not null then
    update public.payout_events set payout_id = p.id, outcome = result
    where provider_event_id = left(p_provider_event_id, 200);
  end if;
  return jsonb_build_object('outcome', result, 'duplicate', false, 'payout_id', p.id, 'payout_status', p.status);
end
$$;
comment on function public.apply_transfer_status(text, text, text, bigint, text, text, text, jsonb) is 'Edge functions only (service_role): applies a Paystack transfer status (success, failed or abandoned, reversed; anything else is pending) to the payout with this reference. Idempotent by event id, and by state for events out of order.';
revoke execute on function public.apply_transfer_status(text, text, text, bigint, text, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.apply_transfer_status(text, text, text, bigint, text, text, text, jsonb) to service_role;

-- ----------------------------------------------------------------------------
-- The send-payouts job
-- ----------------------------------------------------------------------------

-- The job needs pg_cron; 20261201120000_pg_cron_pg_net.sql creates it the
-- same way (if not exists), later in the migration order.
create extension if not exists pg_cron with schema pg_catalog;

-- One call to the payouts function as the platform when a payout is due, sent
-- by pg_net after this job's transaction commits (private.invoke_edge_function,
-- resolved when called). Returns the pg_net request id, or null when nothing is
-- due.
create function private.request_payout_sweep() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select from public.payouts p where p.status in ('queued', 'processing') and private.payout_due(p, true)) then
    return null;
  end if;
  return private.invoke_edge_function('payouts', '{"action": "send"}'::jsonb);
end
$$;
revoke execute on function private.request_payout_sweep() from public, anon, authenticated, service_role;

select cron.schedule('send-payouts', '* * * * *', 'select private.request_payout_sweep()');

-- ============================================================================
-- Admin: approvals and conservation
-- ============================================================================

create view admin.payouts_awaiting_approval with (security_invoker = true) as
select p.id as payout_id, p.reference, p.amount, p.currency, p.created_at as requested_at,
       now() - p.created_at as waiting_for,
       v.id as vendor_id, v.name as vendor_name, v.status as vendor_status,
       p.user_id as owner_id, pr.phone as owner_phone,
       p.bank_name, p.account_number, p.account_name,
       w.balance as wallet_balance_after_hold,
       (select count(*) from public.payouts q where q.user_id = p.user_id and q.status = 'paid') as paid_payouts_before
from public.payouts p
join public.vendors v on v.id = p.vendor_id
join public.profiles pr on pr.id = p.user_id
join public.wallets w on w.user_id = p.user_id
where p.status = 'pending_approval'
order by p.created_at;
comment on view admin.payouts_awaiting_approval is 'Payouts above the approval threshold waiting for admin_approve_payout or admin_reject_payout, oldest first, with the vendor, the account and the owner''s remaining balance.';

-- Cash per provider and day: card captures in, card refunds the provider
-- confirmed out, and Paystack Transfers: a payout is cash out the day Paystack
-- paid it, and cash back in the day the bank reversed it.
create view admin.daily_cash with (security_invoker = true) as
with moves as (
  select (coalesce(p.paid_at, p.updated_at) at time zone 'Africa/Lagos')::date as day, p.provider, p.amount as cash_in, 0::bigint as cash_out
  from public.payments p where p.status in ('succeeded', 'refunded')
  union all
  select (r.processed_at at time zone 'Africa/Lagos')::date, p.provider, 0, r.amount
  from public.refunds r join public.payments p on p.id = r.payment_id
  where r.destination = 'card' and r.status = 'processed'
  -- payout terms
  union all
  select (po.paid_at at time zone 'Africa/Lagos')::date, 'paystack', 0, po.amount
  from public.payouts po where po.paid_at is not null
  union all
  select (po.finished_at at time zone 'Africa/Lagos')::date, 'paystack', po.amount, 0
  from public.payouts po where po.status = 'reversed' and po.paid_at is not null
)
select day, provider, sum(cash_in)::bigint as cash_in, sum(cash_out)::bigint as cash_out, (sum(cash_in) - sum(cash_out))::bigint as net
from moves group by day, provider order by day desc, provider;
comment on view admin.daily_cash is 'Per Lagos day and provider: card money captured and reversed payouts (in), card refunds the provider confirmed and payouts Paystack paid (out), minor units.';

-- Money is conserved when every kobo that came in is somewhere:
--   card money captured (orders and top-ups) + admin adjustments
--   = wallet balances + refunds to cards (pending or processed)
--     + money held for orders not completed (captured less refunded)
--     + the platform ledger (commission less reversals, refunds borne, write-offs)
--     - receivables still open (money paid out twice, owed back)
--     + money held for open payouts + money paid out to banks
-- and every wallet equals its ledger, no source is refunded beyond its
-- capture, card refunds the provider confirmed match the payments, every kobo
-- held for a payout is open, paid or returned, and each payout's ledger rows
-- agree with its status. Replaces the first version (20261124160000_admin.sql).
drop view admin.money_conservation;
create view admin.money_conservation with (security_invoker = true) as
with sums as (
  select
    (select coalesce(sum(private.payment_captured(p)), 0) from public.payments p) as card_captured,
    (select coalesce(sum(amount), 0) from public.wallet_transactions where type = 'admin_adjustment') as admin_adjustments,
    (select coalesce(sum(balance), 0) from public.wallets) as wallet_balances,
    (select coalesce(sum(amount), 0) from public.refunds where destination = 'card' and status <> 'failed') as card_refunds,
    (select coalesce(sum(private.order_captured(o.id) - private.order_refunded(o.id)), 0)
       from public.orders o where o.status <> 'completed') as held_for_orders,
    (select coalesce(sum(amount), 0) from public.platform_ledger) as platform_ledger,
    (select coalesce(sum(amount - settled_amount), 0) from public.receivables where status = 'open') as open_receivables,
    (select count(*) from public.wallets w
      where w.balance <> (select coalesce(sum(t.amount), 0) from public.wallet_transactions t where t.wallet_id = w.id)) as wallets_off_ledger,
    (select count(*) from public.payments p
      where private.refunded_from(p.id, p.order_id) > private.payment_captured(p)
         or private.card_refunded(p.id) > private.payment_captured(p)) as payments_over_refunded,
    (select count(*) from public.orders o
      where o.payment_method = 'wallet' and private.refunded_from(null, o.id) > private.wallet_order_captured(o.id)) as orders_over_refunded,
    (select count(*) from public.payments p
      where p.refunded_amount <> (select coalesce(sum(r.amount), 0) from public.refunds r
                                  where r.payment_id = p.id and r.destination = 'card' and r.status = 'processed')) as payments_off_refunds,
    (select count(*) from public.refunds r
      where r.destination = 'wallet' and r.status = 'processed'
        and not exists (select 1 from public.wallet_transactions t where t.idempotency_key = 'refund:' || r.id and t.amount = r.amount)) as wallet_refunds_off_ledger
),
-- Payout terms (20261201110000_payouts.sql).
payout_terms as (
  select
    (select coalesce(-sum(amount), 0) from public.wallet_transactions where type = 'payout_hold') as payout_held,
    (select coalesce(sum(amount), 0) from public.wallet_transactions where type = 'payout_release') as payout_released,
    (select coalesce(sum(amount), 0) from public.payouts where status in ('pending_approval', 'queued', 'processing')) as payouts_open,
    (select coalesce(sum(amount), 0) from public.payouts where status = 'paid') as payouts_paid,
    (select count(*) from public.payouts p
      left join public.wallet_transactions h on h.id = p.hold_entry_id
      left join public.wallet_transactions r on r.id = p.release_entry_id
      where h.amount is distinct from -p.amount or h.type <> 'payout_hold'
         or (p.status in ('failed', 'reversed')) <> (r.id is not null)
         or (r.id is not null and (r.amount <> p.amount or r.type <> 'payout_release'))) as payouts_off_ledger
)
select sums.*,
       card_captured + admin_adjustments as money_in,
       wallet_balances + card_refunds + held_for_orders + platform_ledger - open_receivables
         + payouts_open + payouts_paid -- payout terms
         as money_held,
       card_captured + admin_adjustments = wallet_balances + card_refunds + held_for_orders + platform_ledger - open_receivables
                                           + payouts_open + payouts_paid -- payout terms
         and wallets_off_ledger = 0 and payments_over_refunded = 0 and orders_over_refunded = 0
         and payments_off_refunds = 0 and wallet_refunds_off_ledger = 0
         -- payout terms
         and payout_held = payout_released + payouts_open + payouts_paid and payouts_off_ledger = 0 as balanced,
       payout_terms.*
from sums, payout_terms;
comment on view admin.money_conservation is 'One row: money_in (card captures + admin adjustments) must equal money_held (wallet balances + refunds to cards + money held for orders not completed + the platform ledger - open receivables + money held for open payouts + money paid out); every wallet must match its ledger, no payment or wallet-paid order may be refunded beyond its capture, confirmed card refunds must match the payments, every wallet refund must be in the ledger, every kobo held for a payout must be open, paid or returned, and every payout must match its ledger rows. balanced says whether all hold.';
