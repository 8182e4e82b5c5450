-- Identity and wallet ledger: roles and status on profiles (never user-settable),
-- addresses, one NGN wallet per user, and the immutable wallet ledger.

-- ============================================================================
-- Shared private helpers
-- ============================================================================

-- Policies evaluate private helpers as the caller, so the API roles need usage on
-- the schema; it stays unexposed (not in [api] schemas) and each function is
-- granted one by one.
grant usage on schema private to anon, authenticated, service_role;

-- Helpers called once per statement or per row (policies, triggers, pricing)
-- are plpgsql, not sql: Postgres 17 re-plans a non-inlined SQL function (and
-- one with `set search_path` is never inlined) on every call, while plpgsql
-- keeps its plans per session.

-- The one error helper: a stable machine code as the message (clients branch on
-- it) and a human sentence as the detail. P0001 maps to HTTP 400 in PostgREST,
-- P0002 to 404, 42501 to 401/403.
create function private.fail(p_code text, p_detail text, p_errcode text default 'P0001') returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = p_errcode, message = p_code, detail = p_detail;
end
$$;
revoke execute on function private.fail(text, text, text) from public;
grant execute on function private.fail(text, text, text) to anon, authenticated, service_role;

create function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
revoke execute on function private.touch_updated_at() from public;
grant execute on function private.touch_updated_at() to anon, authenticated, service_role;

-- ============================================================================
-- Profiles: role and status
-- ============================================================================

alter table public.profiles
  add column role text not null default 'customer' check (role in ('customer', 'vendor', 'admin')),
  add column status text not null default 'active' check (status in ('active', 'suspended'));
comment on column public.profiles.role is 'customer, vendor (owns a vendors row) or admin; set by the platform, never by the user.';
comment on column public.profiles.status is 'active or suspended; suspended users are banned in Auth (auth.users.banned_until) and cannot order.';

create index profiles_role_idx on public.profiles (role);

-- True when the caller is an active admin. Definer: reads profiles without
-- recursing through the profiles policies that call it. plpgsql: see the note
-- on helpers above.
create function private.is_admin() returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.profiles p
    where p.id = auth.uid() and p.role = 'admin' and p.status = 'active'
  );
end
$$;
revoke execute on function private.is_admin() from public;
grant execute on function private.is_admin() to anon, authenticated, service_role;

drop policy "Users read their own profile" on public.profiles;
create policy "Users read their own profile, admins read all" on public.profiles
  for select to authenticated
  using ((select auth.uid()) = id or (select private.is_admin()));

-- Users may change only their display name: role, status and phone are set by
-- the platform (column grants, so an attempt fails with 42501 instead of
-- silently succeeding).
revoke insert, update, delete, truncate on public.profiles from anon, authenticated;
grant update (full_name) on public.profiles to authenticated;

create trigger profiles_touch_updated_at
  before update on public.profiles
  for each row execute function private.touch_updated_at();

-- ============================================================================
-- Addresses
-- ============================================================================

create table public.addresses (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  label text not null check (char_length(label) between 1 and 60),
  line1 text not null check (char_length(line1) between 1 and 200),
  city text not null check (char_length(city) between 1 and 80),
  state text check (char_length(state) <= 80),
  country char(2) not null default 'NG',
  lat double precision not null check (lat between -90 and 90),
  lng double precision not null check (lng between -180 and 180),
  instructions text check (char_length(instructions) <= 500),
  is_default boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.addresses is 'Delivery addresses of a user; orders keep a snapshot, so editing an address never changes past orders.';
comment on column public.addresses.id is 'Address id.';
comment on column public.addresses.user_id is 'Owner (defaults to the caller).';
comment on column public.addresses.label is 'Short name such as Home or Office.';
comment on column public.addresses.line1 is 'Street address.';
comment on column public.addresses.city is 'City, e.g. Lagos.';
comment on column public.addresses.state is 'State, e.g. Lagos.';
comment on column public.addresses.country is 'ISO 3166-1 alpha-2 country code.';
comment on column public.addresses.lat is 'Latitude in degrees (WGS84).';
comment on column public.addresses.lng is 'Longitude in degrees (WGS84).';
comment on column public.addresses.instructions is 'Directions for the rider.';
comment on column public.addresses.is_default is 'The user''s default address; at most one per user.';
comment on column public.addresses.created_at is 'When the address was added.';
comment on column public.addresses.updated_at is 'When the address last changed.';

create index addresses_user_id_idx on public.addresses (user_id);
create unique index addresses_one_default_per_user on public.addresses (user_id) where is_default;

alter table public.addresses enable row level security;
create policy "Users read their addresses, admins read all" on public.addresses
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
create policy "Users add their addresses" on public.addresses
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users change their addresses" on public.addresses
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "Users delete their addresses" on public.addresses
  for delete to authenticated using (user_id = (select auth.uid()));

-- Keeps one default per user: a new default demotes the old one, and a user's
-- first address becomes the default. Definer so the demotion is not subject to
-- the caller's row visibility.
create function private.addresses_keep_one_default() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.is_default then
    update public.addresses set is_default = false
    where user_id = new.user_id and is_default and id <> new.id;
  elsif tg_op = 'INSERT' and not exists (select 1 from public.addresses where user_id = new.user_id) then
    new.is_default := true;
  end if;
  return new;
end
$$;
revoke execute on function private.addresses_keep_one_default() from public, anon, authenticated;

create trigger addresses_keep_one_default
  before insert or update of is_default on public.addresses
  for each row execute function private.addresses_keep_one_default();
create trigger addresses_touch_updated_at
  before update on public.addresses
  for each row execute function private.touch_updated_at();

-- ============================================================================
-- Wallets and the ledger
-- ============================================================================

create table public.wallets (
  id uuid primary key default gen_random_uuid(),
  -- cascade: a user with no money history can be deleted (Auth's admin delete,
  -- GDPR requests) and their empty wallet goes with them. A wallet with ledger
  -- rows blocks the deletion (wallet_transactions restricts), so money never
  -- vanishes; such users are suspended instead.
  user_id uuid not null unique references public.profiles (id) on delete cascade,
  currency char(3) not null default 'NGN',
  balance bigint not null default 0 check (balance >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.wallets is 'One wallet per user (customers pay from it, vendor owners are paid into it). The balance changes only through private.post_wallet_entry, which writes a wallet_transactions row in the same transaction.';
comment on column public.wallets.id is 'Wallet id.';
comment on column public.wallets.user_id is 'Owner of the wallet. Deleting the user deletes an unused wallet; a wallet with ledger rows blocks the deletion.';
comment on column public.wallets.currency is 'ISO 4217 currency; NGN.';
comment on column public.wallets.balance is 'Current balance in minor units (kobo); never negative.';
comment on column public.wallets.created_at is 'When the wallet was opened.';
comment on column public.wallets.updated_at is 'When the balance last changed.';

create table public.wallet_transactions (
  id uuid primary key default gen_random_uuid(),
  wallet_id uuid not null references public.wallets (id) on delete restrict,
  type text not null check (type in ('topup', 'order_payment', 'order_refund', 'order_earning', 'topup_reversal', 'admin_adjustment')),
  amount bigint not null check (amount <> 0),
  balance_after bigint not null check (balance_after >= 0),
  reference text not null,
  idempotency_key text not null,
  order_id uuid,
  payment_id uuid,
  note text,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (wallet_id, idempotency_key)
);
comment on table public.wallet_transactions is 'Immutable wallet ledger: one row per balance change. Nobody but the schema owner may update or delete rows.';
comment on column public.wallet_transactions.id is 'Ledger row id.';
comment on column public.wallet_transactions.wallet_id is 'The wallet whose balance changed.';
comment on column public.wallet_transactions.type is 'topup, order_payment, order_refund, order_earning, topup_reversal or admin_adjustment.';
comment on column public.wallet_transactions.amount is 'Signed amount in minor units: negative debits, positive credits.';
comment on column public.wallet_transactions.balance_after is 'The wallet balance right after this row.';
comment on column public.wallet_transactions.reference is 'Human reference: an order number, payment reference or admin reason.';
comment on column public.wallet_transactions.idempotency_key is 'Unique per wallet: replaying the same movement returns the first row.';
comment on column public.wallet_transactions.order_id is 'The order this movement belongs to, if any.';
comment on column public.wallet_transactions.payment_id is 'The provider payment this movement belongs to, if any.';
comment on column public.wallet_transactions.note is 'Free text, e.g. the reason for an admin adjustment.';
comment on column public.wallet_transactions.created_by is 'The user who caused the movement (admin for adjustments).';
comment on column public.wallet_transactions.created_at is 'When the movement happened.';

create index wallet_transactions_wallet_id_created_at_idx on public.wallet_transactions (wallet_id, created_at desc);
create index wallet_transactions_order_id_idx on public.wallet_transactions (order_id);
create index wallet_transactions_payment_id_idx on public.wallet_transactions (payment_id);
create index wallet_transactions_created_by_idx on public.wallet_transactions (created_by);
create index wallet_transactions_type_idx on public.wallet_transactions (type);

alter table public.wallets enable row level security;
alter table public.wallet_transactions enable row level security;

create policy "Users read their wallet, admins read all" on public.wallets
  for select to authenticated using (user_id = (select auth.uid()) or (select private.is_admin()));
create policy "Users read their wallet ledger, admins read all" on public.wallet_transactions
  for select to authenticated using (
    wallet_id in (select w.id from public.wallets w where w.user_id = (select auth.uid()))
    or (select private.is_admin())
  );

-- Money moves only through definer functions: no API role writes these tables,
-- not even service_role (which bypasses RLS but not grants).
revoke insert, update, delete, truncate on public.wallets from anon, authenticated, service_role;
revoke insert, update, delete, truncate on public.wallet_transactions from anon, authenticated, service_role;
revoke select on public.wallets, public.wallet_transactions from anon;

-- The one way to change a balance: locks the wallet row, replays an already
-- applied idempotency key, refuses to go below zero, writes the ledger row.
-- Callers are definer functions; never exposed.
create function private.post_wallet_entry(
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
  return tx;
end
$$;
revoke execute on function private.post_wallet_entry(uuid, bigint, text, text, text, uuid, uuid, text, uuid) from public, anon, authenticated, service_role;

-- New users get a profile and an NGN wallet in the same transaction.
create or replace function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, phone)
  values (new.id, case when coalesce(new.phone, '') = '' then null else '+' || new.phone end);
  insert into public.wallets (user_id, currency) values (new.id, 'NGN');
  return new;
end
$$;
revoke execute on function private.handle_new_user() from public, anon, authenticated;

-- Users who signed up before wallets existed.
insert into public.wallets (user_id, currency)
select p.id, 'NGN' from public.profiles p
where not exists (select 1 from public.wallets w where w.user_id = p.id);
