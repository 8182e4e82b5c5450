-- Checkout v2: a priced breakdown (coupons, service and small-order fees, VAT,
-- tips, a delivery fee by distance), scheduled orders, stock, holiday
-- closures. Everything is priced here, in integer kobo; the client only shows it.
--
-- Pricing rules (private.price_order), in the order they are applied:
--   subtotal        sum of (unit price + modifiers) x quantity. Menu prices are VAT-inclusive.
--   delivery_fee    delivery only: base_delivery_fee + per_km_fee x ceil(distance_km - base_delivery_km)
--                   when the distance exceeds base_delivery_km (every started km counts), still
--                   refused beyond delivery_radius_km. Pickup: 0.
--   discount        one coupon at most. percent: floor(subtotal x value / 100) (rounded down, so the
--                   discount never exceeds the advertised percent); fixed: value; free_delivery: the
--                   delivery fee. Then capped at max_discount, then at the subtotal (percent, fixed)
--                   or the delivery fee (free_delivery).
--   service_fee     least(round(subtotal x service_fee_rate), service_fee_cap), on the subtotal before
--                   the discount; round() is numeric rounding, half away from zero (half up here).
--   small_order_fee small_order_fee when the subtotal (before the discount) is below small_order_threshold.
--   vat             round((service_fee + small_order_fee + delivery_fee) x vat_rate), half up: VAT is
--                   charged on the fees (delivery before any free-delivery discount), never on food.
--   tip             0 .. floor(subtotal / 2) (at most 50% of the subtotal), else tip_out_of_range.
--   total           subtotal - discount + delivery_fee + service_fee + small_order_fee + vat + tip (> 0).
--   commission      round((subtotal - vendor-funded discount) x commission_rate) at placement; on
--                   completion the vendor-borne refunds are taken off that base too.
--
-- Money on completion (private.settle_completed_order), for what the customer paid (total):
--   vendor earning  subtotal - vendor-funded discount + delivery_fee + tip - vendor-borne refunds - commission
--                   (vendor-borne refunds beyond that share are borne by the platform)
--   platform ledger commission + service_fee + small_order_fee + vat (type vat_payable: owed to the tax
--                   authority) - platform-funded discount (discount_borne) - platform-borne refunds
--   so earning + platform entries = total - refunds, and admin.money_conservation stays balanced.
--
-- Lock order: coupon (limited coupons only), then menu items (stock), then the wallet; a cancel
-- locks the order, then menu items, then wallets.

-- ============================================================================
-- Platform settings
-- ============================================================================

create table public.platform_settings (
  id boolean primary key default true check (id),
  service_fee_rate numeric(5, 4) not null default 0.05 check (service_fee_rate between 0 and 1),
  service_fee_cap bigint not null default 150000 check (service_fee_cap between 0 and 100000000),
  small_order_threshold bigint not null default 200000 check (small_order_threshold between 0 and 100000000),
  small_order_fee bigint not null default 20000 check (small_order_fee between 0 and 100000000),
  vat_rate numeric(5, 4) not null default 0.075 check (vat_rate between 0 and 1),
  updated_at timestamptz not null default now(),
  updated_by uuid references public.profiles (id) on delete set null
);
comment on table public.platform_settings is 'The platform''s checkout fees: exactly one row. Readable by everyone (the fees are public); only admins change it.';
comment on column public.platform_settings.id is 'Always true: the table holds one row.';
comment on column public.platform_settings.service_fee_rate is 'Service fee as a share of the subtotal (0.05 = 5%), rounded half up to the kobo.';
comment on column public.platform_settings.service_fee_cap is 'Most service fee per order, kobo (default 150000 = NGN 1,500).';
comment on column public.platform_settings.small_order_threshold is 'Orders with a subtotal below this pay the small-order fee, kobo (default 200000 = NGN 2,000).';
comment on column public.platform_settings.small_order_fee is 'Small-order fee, kobo (default 20000 = NGN 200).';
comment on column public.platform_settings.vat_rate is 'VAT on the platform''s fees (service, small-order, delivery), 0.075 = 7.5%, rounded half up. Menu prices are VAT-inclusive.';
comment on column public.platform_settings.updated_at is 'When the settings last changed.';
comment on column public.platform_settings.updated_by is 'The admin who changed them last.';
create index platform_settings_updated_by_idx on public.platform_settings (updated_by);
insert into public.platform_settings default values;

create function private.platform_settings_touch() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.id := true;
  new.updated_at := now();
  new.updated_by := auth.uid();
  return new;
end
$$;
revoke execute on function private.platform_settings_touch() from public;
grant execute on function private.platform_settings_touch() to authenticated, service_role;
create trigger platform_settings_touch
  before update on public.platform_settings
  for each row execute function private.platform_settings_touch();

alter table public.platform_settings enable row level security;
create policy "Anyone reads the platform settings" on public.platform_settings
  for select to anon, authenticated using (true);
create policy "Admins change the platform settings" on public.platform_settings
  for update to authenticated using ((select private.is_admin())) with check ((select private.is_admin()));
create policy "Only active users update" on public.platform_settings
  as restrictive for update to authenticated using (true) with check ((select private.is_active_user()));
revoke insert, delete, truncate on public.platform_settings from anon, authenticated, service_role;
revoke update on public.platform_settings from anon;

-- ============================================================================
-- Vendors: delivery fee by distance, holiday closures
-- ============================================================================

alter table public.vendors
  add column base_delivery_km numeric(5, 2) not null default 3 check (base_delivery_km between 0 and 100),
  add column per_km_fee bigint not null default 10000 check (per_km_fee between 0 and 10000000);
comment on column public.vendors.base_delivery_fee is 'Delivery fee up to base_delivery_km, minor units.';
comment on column public.vendors.base_delivery_km is 'Distance covered by base_delivery_fee, km (default 3).';
comment on column public.vendors.per_km_fee is 'Added for every started km beyond base_delivery_km, kobo (default 10000 = NGN 100).';

-- The delivery fee for a distance: every started km beyond the base counts.
-- SQL so the planner inlines it.
create function private.delivery_fee(p_base_fee bigint, p_base_km numeric, p_per_km bigint, p_km double precision) returns bigint
language sql
immutable
parallel safe
set search_path = ''
as $$
  select p_base_fee + case when p_km > p_base_km then p_per_km * ceil(p_km - p_base_km::double precision)::bigint else 0 end
$$;
revoke execute on function private.delivery_fee(bigint, numeric, bigint, double precision) from public;
grant execute on function private.delivery_fee(bigint, numeric, bigint, double precision) to anon, authenticated, service_role;

create table public.vendor_closures (
  id uuid primary key default gen_random_uuid(),
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text check (char_length(reason) <= 200),
  created_at timestamptz not null default now(),
  check (ends_at > starts_at),
  check (ends_at - starts_at <= interval '366 days')
);
comment on table public.vendor_closures is 'Holiday closures: the vendor takes no orders (and no scheduled orders) from starts_at until ends_at. Managed by the owner.';
comment on column public.vendor_closures.id is 'Closure id.';
comment on column public.vendor_closures.vendor_id is 'The vendor that is closed.';
comment on column public.vendor_closures.starts_at is 'Start of the closure (inclusive).';
comment on column public.vendor_closures.ends_at is 'End of the closure (exclusive); at most 366 days after the start.';
comment on column public.vendor_closures.reason is 'Shown to customers, e.g. "Christmas break" (at most 200 characters).';
comment on column public.vendor_closures.created_at is 'When it was added.';
create index vendor_closures_vendor_id_ends_at_idx on public.vendor_closures (vendor_id, ends_at);

alter table public.vendor_closures enable row level security;
create policy "Anyone reads closures of active vendors" on public.vendor_closures
  for select to anon using (exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'));
create policy "Users read closures of active vendors, owners and admins all" on public.vendor_closures
  for select to authenticated using (
    exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active')
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins add closures" on public.vendor_closures
  for insert to authenticated with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins change closures" on public.vendor_closures
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins delete closures" on public.vendor_closures
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Only active users insert" on public.vendor_closures
  as restrictive for insert to authenticated with check ((select private.is_active_user()));
create policy "Only active users update" on public.vendor_closures
  as restrictive for update to authenticated using (true) with check ((select private.is_active_user()));
create policy "Only active users delete" on public.vendor_closures
  as restrictive for delete to authenticated using ((select private.is_active_user()));
revoke all on public.vendor_closures from anon;
grant select on public.vendor_closures to anon;

-- Whether a closure covers a moment.
create function private.vendor_closed_at(p_vendor_id uuid, p_at timestamptz) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.vendor_closures c where c.vendor_id = p_vendor_id and c.ends_at > p_at and c.starts_at <= p_at)
$$;
revoke execute on function private.vendor_closed_at(uuid, timestamptz) from public;
grant execute on function private.vendor_closed_at(uuid, timestamptz) to anon, authenticated, service_role;

create or replace function public.is_open_now(v public.vendors) returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  lagos timestamp := now() at time zone 'Africa/Lagos';
begin
  return v.status = 'active' and v.is_open and not private.vendor_closed_at(v.id, now()) and (
    not exists (select 1 from public.vendor_hours h where h.vendor_id = v.id)
    or exists (
      select 1 from public.vendor_hours h
      where h.vendor_id = v.id
        and h.weekday = extract(dow from lagos)::smallint
        and lagos::time >= h.opens_at
        and lagos::time < h.closes_at
    )
  );
end
$$;
comment on function public.is_open_now(public.vendors) is 'True when the vendor is active, its switch is on, no holiday closure covers now, and (if it has hours) now is inside today''s hours in Africa/Lagos.';

-- Whether a vendor's hours (Africa/Lagos) cover a moment; no hours = always.
create function private.vendor_hours_cover(p_vendor_id uuid, p_at timestamptz) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  lagos timestamp := p_at at time zone 'Africa/Lagos';
begin
  return not exists (select 1 from public.vendor_hours h where h.vendor_id = p_vendor_id)
    or exists (
      select 1 from public.vendor_hours h
      where h.vendor_id = p_vendor_id
        and h.weekday = extract(dow from lagos)::smallint
        and lagos::time >= h.opens_at
        and lagos::time < h.closes_at);
end
$$;
revoke execute on function private.vendor_hours_cover(uuid, timestamptz) from public, anon, authenticated, service_role;

drop function public.nearby_vendors(double precision, double precision, double precision, text);
create function public.nearby_vendors(p_lat double precision, p_lng double precision, p_radius_km double precision default 10, p_search text default null)
returns table (
  id uuid, name text, slug text, description text, logo_url text, cuisines text[], lat double precision, lng double precision,
  delivery_radius_km numeric, base_delivery_fee bigint, min_order_amount bigint, prep_time_minutes integer,
  rating numeric, rating_count integer, currency char(3), distance_km double precision, is_open_now boolean,
  delivery_fee bigint
)
language plpgsql
stable
set search_path = ''
as $$
declare
  dlat double precision;
  dlng double precision;
  pattern text;
begin
  if p_lat is null or p_lng is null or p_lat not between -90 and 90 or p_lng not between -180 and 180 then
    perform private.fail('invalid_location', 'Latitude must be within -90..90 and longitude within -180..180.');
  end if;
  if p_radius_km is null or p_radius_km <= 0 or p_radius_km > 100 then
    perform private.fail('invalid_radius', 'The radius must be more than 0 and at most 100 km.');
  end if;
  if char_length(p_search) > 100 then
    perform private.fail('invalid_search', 'Search for at most 100 characters.');
  end if;
  dlat := p_radius_km / 111.045;
  dlng := p_radius_km / (111.045 * greatest(cos(radians(p_lat)), 0.01));
  if nullif(trim(p_search), '') is not null then
    pattern := '%' || replace(replace(replace(lower(trim(p_search)), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;
  return query
  select v.id, v.name, v.slug, v.description, v.logo_url, v.cuisines, v.lat, v.lng,
         v.delivery_radius_km, v.base_delivery_fee, v.min_order_amount, v.prep_time_minutes,
         v.rating, v.rating_count, v.currency, d.km, public.is_open_now(v),
         case when d.km <= v.delivery_radius_km then private.delivery_fee(v.base_delivery_fee, v.base_delivery_km, v.per_km_fee, d.km) end
  from public.vendors v
  cross join lateral (select private.distance_km(p_lat, p_lng, v.lat, v.lng) as km) d
  where v.status = 'active'
    and point(v.lng, v.lat) <@ box(point(p_lng - dlng, p_lat - dlat), point(p_lng + dlng, p_lat + dlat))
    and d.km <= p_radius_km
    and (pattern is null or v.search_text like pattern)
  order by d.km, v.name
  limit 100;
end
$$;
comment on function public.nearby_vendors(double precision, double precision, double precision, text) is 'Active vendors within p_radius_km (default 10, max 100) of a point, nearest first, with distance_km, is_open_now and delivery_fee to that point (base fee + per_km_fee per started km beyond base_delivery_km; null when the point is outside the vendor''s delivery radius); p_search (at most 100 characters) matches name or cuisine. At most 100 rows.';
revoke execute on function public.nearby_vendors(double precision, double precision, double precision, text) from public;
grant execute on function public.nearby_vendors(double precision, double precision, double precision, text) to anon, authenticated, service_role;

-- ============================================================================
-- Stock
-- ============================================================================

alter table public.menu_items add column stock integer check (stock between 0 and 1000000);
comment on column public.menu_items.stock is 'Portions left (null = not tracked). place_order takes from it atomically; at 0 the item turns unavailable; a cancel before preparing puts the portions back.';

-- At 0 the item shows unavailable; restocking an item that stock made
-- unavailable (in an update that does not set is_available itself) makes it
-- available again.
create function private.menu_items_stock_availability() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.stock = 0 and old.stock is distinct from 0 then
    new.is_available := false;
  elsif old.stock = 0 and new.stock > 0 and not old.is_available and not new.is_available then
    new.is_available := true;
  end if;
  return new;
end
$$;
revoke execute on function private.menu_items_stock_availability() from public;
grant execute on function private.menu_items_stock_availability() to authenticated, service_role;
create trigger menu_items_stock_availability
  before update of stock on public.menu_items
  for each row execute function private.menu_items_stock_availability();

create function private.menu_items_stock_insert() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.stock = 0 then
    new.is_available := false;
  end if;
  return new;
end
$$;
revoke execute on function private.menu_items_stock_insert() from public;
grant execute on function private.menu_items_stock_insert() to authenticated, service_role;
create trigger menu_items_stock_insert
  before insert on public.menu_items
  for each row when (new.stock = 0) execute function private.menu_items_stock_insert();

alter table public.order_items add column stock_reserved boolean not null default false;
comment on column public.order_items.stock_reserved is 'True while this line holds portions of a stock-tracked item (given back once if the order is cancelled before preparing).';

-- ============================================================================
-- Coupons
-- ============================================================================

create table public.coupons (
  id uuid primary key default gen_random_uuid(),
  code text not null check (code ~ '^[A-Za-z0-9_-]{3,32}$'),
  kind text not null check (kind in ('percent', 'fixed', 'free_delivery')),
  value bigint not null default 0,
  max_discount bigint check (max_discount between 1 and 100000000),
  min_subtotal bigint not null default 0 check (min_subtotal between 0 and 100000000),
  starts_at timestamptz not null default now(),
  ends_at timestamptz,
  max_redemptions integer check (max_redemptions between 1 and 10000000),
  per_customer_limit integer default 1 check (per_customer_limit between 1 and 1000),
  vendor_id uuid references public.vendors (id) on delete cascade,
  funded_by text not null default 'platform' check (funded_by in ('platform', 'vendor')),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  check (ends_at is null or ends_at > starts_at),
  check (case kind when 'percent' then value between 1 and 100
                   when 'fixed' then value between 1 and 100000000
                   else value = 0 end),
  check (funded_by = 'platform' or vendor_id is not null)
);
comment on table public.coupons is 'Promotion codes. Admins manage platform coupons; a vendor owner manages its own, always vendor-funded. Applied by place_order, which writes coupon_redemptions under a lock so the limits hold.';
comment on column public.coupons.id is 'Coupon id.';
comment on column public.coupons.code is 'What the customer types: 3 to 32 letters, digits, _ or -; unique and matched without regard to case.';
comment on column public.coupons.kind is 'percent (value = whole percent of the subtotal, rounded down), fixed (value = kobo off the subtotal) or free_delivery (the delivery fee).';
comment on column public.coupons.value is 'percent: 1 to 100; fixed: kobo; free_delivery: 0.';
comment on column public.coupons.max_discount is 'Most discount per order, kobo (null = no cap).';
comment on column public.coupons.min_subtotal is 'Smallest subtotal it applies to, kobo.';
comment on column public.coupons.starts_at is 'Valid from (inclusive).';
comment on column public.coupons.ends_at is 'Valid until (exclusive); null = no end.';
comment on column public.coupons.max_redemptions is 'Most orders it may be used on, all customers together (null = no limit). Orders cancelled before preparing give their use back.';
comment on column public.coupons.per_customer_limit is 'Most orders per customer (default 1; null = no limit).';
comment on column public.coupons.vendor_id is 'The only vendor it applies to (null = every vendor).';
comment on column public.coupons.funded_by is 'Who pays the discount at settlement: platform (less platform revenue) or vendor (less vendor earning and commission base). Vendor coupons are always vendor-funded.';
comment on column public.coupons.is_active is 'Switched off coupons are refused (coupon_invalid).';
comment on column public.coupons.created_at is 'When it was created.';
create unique index coupons_code_key on public.coupons (upper(code));
create index coupons_vendor_id_idx on public.coupons (vendor_id);

alter table public.coupons enable row level security;
-- Codes are not listed to customers: they type them.
create policy "Vendor owners read their coupons, admins all" on public.coupons
  for select to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Vendor owners add vendor-funded coupons, admins any" on public.coupons
  for insert to authenticated
  with check ((vendor_id in (select private.owned_vendor_ids()) and funded_by = 'vendor') or (select private.is_admin()));
create policy "Vendor owners change their coupons, admins any" on public.coupons
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check ((vendor_id in (select private.owned_vendor_ids()) and funded_by = 'vendor') or (select private.is_admin()));
create policy "Vendor owners delete their coupons, admins any" on public.coupons
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Only active users insert" on public.coupons
  as restrictive for insert to authenticated with check ((select private.is_active_user()));
create policy "Only active users update" on public.coupons
  as restrictive for update to authenticated using (true) with check ((select private.is_active_user()));
create policy "Only active users delete" on public.coupons
  as restrictive for delete to authenticated using ((select private.is_active_user()));
revoke all on public.coupons from anon;

create table public.coupon_redemptions (
  id uuid primary key default gen_random_uuid(),
  coupon_id uuid not null references public.coupons (id) on delete restrict,
  order_id uuid not null unique references public.orders (id) on delete cascade,
  customer_id uuid not null references public.profiles (id) on delete restrict,
  discount bigint not null check (discount >= 0),
  created_at timestamptz not null default now(),
  released_at timestamptz
);
comment on table public.coupon_redemptions is 'One row per order that used a coupon, written by place_order under the coupon''s lock. Released (not deleted) when the order is cancelled before preparing, which gives the use back.';
comment on column public.coupon_redemptions.id is 'Redemption id.';
comment on column public.coupon_redemptions.coupon_id is 'The coupon (a used coupon cannot be deleted: switch it off instead).';
comment on column public.coupon_redemptions.order_id is 'The order it was used on.';
comment on column public.coupon_redemptions.customer_id is 'The customer who used it.';
comment on column public.coupon_redemptions.discount is 'Discount it gave, kobo.';
comment on column public.coupon_redemptions.created_at is 'When the order was placed.';
comment on column public.coupon_redemptions.released_at is 'When the order was cancelled before preparing (the use no longer counts).';
create index coupon_redemptions_coupon_id_idx on public.coupon_redemptions (coupon_id) where released_at is null;
create index coupon_redemptions_coupon_id_all_idx on public.coupon_redemptions (coupon_id);
create index coupon_redemptions_customer_id_idx on public.coupon_redemptions (customer_id, coupon_id) where released_at is null;
create index coupon_redemptions_customer_id_all_idx on public.coupon_redemptions (customer_id);

alter table public.coupon_redemptions enable row level security;
create policy "Who reads the order reads its redemption" on public.coupon_redemptions
  for select to authenticated using (order_id in (select o.id from public.orders o));
revoke insert, update, delete, truncate on public.coupon_redemptions from anon, authenticated, service_role;
revoke select on public.coupon_redemptions from anon;

-- ============================================================================
-- Orders: the breakdown, scheduling
-- ============================================================================

alter table public.orders drop constraint orders_status_check;
alter table public.orders add constraint orders_status_check
  check (status in ('awaiting_payment', 'scheduled', 'new', 'preparing', 'ready', 'out_for_delivery', 'completed', 'cancelled'));
comment on column public.orders.status is 'awaiting_payment, scheduled (paid, waiting for release_at), new, preparing, ready, out_for_delivery, completed or cancelled.';

-- The v1 total check was named by Postgres from its columns: found by its definition.
do $$
declare
  n text;
begin
  select conname into strict n from pg_constraint
  where conrelid = 'public.orders'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%total = (subtotal + delivery_fee)%';
  execute format('alter table public.orders drop constraint %I', n);
end
$$;
alter table public.orders
  add column discount bigint not null default 0 check (discount >= 0),
  add column coupon_id uuid references public.coupons (id) on delete set null,
  add column coupon_code text check (char_length(coupon_code) <= 32),
  add column discount_funded_by text check (discount_funded_by in ('platform', 'vendor')),
  add column service_fee bigint not null default 0 check (service_fee >= 0),
  add column small_order_fee bigint not null default 0 check (small_order_fee >= 0),
  add column vat bigint not null default 0 check (vat >= 0),
  add column tip bigint not null default 0 check (tip >= 0),
  add column distance_km numeric(7, 2),
  add column scheduled_for timestamptz,
  add column release_at timestamptz,
  add constraint orders_total_check
    check (total = subtotal - discount + delivery_fee + service_fee + small_order_fee + vat + tip and total > 0),
  add constraint orders_discount_within_check check (discount <= subtotal + delivery_fee and (discount = 0 or discount_funded_by is not null)),
  add constraint orders_tip_at_most_half_check check (tip * 2 <= subtotal),
  add constraint orders_scheduled_check check ((scheduled_for is null) = (release_at is null));
comment on column public.orders.subtotal is 'Sum of (unit price + modifiers) x quantity, minor units (VAT-inclusive menu prices).';
comment on column public.orders.delivery_fee is 'Delivery: base_delivery_fee + per_km_fee x ceil(distance - base_delivery_km) beyond the base; 0 for pickup. Goes to the vendor.';
comment on column public.orders.total is 'subtotal - discount + delivery_fee + service_fee + small_order_fee + vat + tip: what the customer pays.';
comment on column public.orders.commission is 'The platform''s share: round((subtotal - vendor-funded discount) x commission_rate) when placed; on completion round((subtotal - vendor-funded discount - refunds the vendor bears) x commission_rate).';
comment on column public.orders.discount is 'Coupon discount, kobo (see coupons.kind for the rounding).';
comment on column public.orders.coupon_id is 'The coupon used (null = none, or deleted since).';
comment on column public.orders.coupon_code is 'The coupon code as it was when used.';
comment on column public.orders.discount_funded_by is 'Who pays the discount: platform or vendor (null without a discount).';
comment on column public.orders.service_fee is 'least(round(subtotal x service_fee_rate), service_fee_cap): the platform''s.';
comment on column public.orders.small_order_fee is 'small_order_fee when the subtotal is below small_order_threshold: the platform''s.';
comment on column public.orders.vat is 'round((service_fee + small_order_fee + delivery_fee) x vat_rate): owed to the tax authority (vat_payable).';
comment on column public.orders.tip is 'Tip for the vendor, in full and without commission (0 .. 50% of the subtotal); refunded with the order.';
comment on column public.orders.distance_km is 'Delivery distance from the vendor, km (null for pickup).';
comment on column public.orders.scheduled_for is 'When the customer wants the food (null = as soon as possible).';
comment on column public.orders.release_at is 'scheduled_for - the vendor''s prep time: when the scheduled order moves to new and the vendor is told.';
create index orders_coupon_id_idx on public.orders (coupon_id);
create index orders_scheduled_idx on public.orders (release_at) where status = 'scheduled';

alter table public.platform_ledger drop constraint platform_ledger_type_check;
alter table public.platform_ledger add constraint platform_ledger_type_check
  check (type in ('commission', 'commission_reversal', 'refund_borne', 'receivable_written_off',
                  'service_fee', 'small_order_fee', 'vat_payable', 'discount_borne'));
comment on table public.platform_ledger is 'Immutable ledger of the platform''s own money: commission, service and small-order fees and VAT (payable) of completed orders, the discounts and refunds it bears, commission reversals, written-off receivables. Admin read only.';
comment on column public.platform_ledger.type is 'commission (+), service_fee (+), small_order_fee (+), vat_payable (+, owed to the tax authority), discount_borne (-, a platform-funded coupon), commission_reversal (-), refund_borne (-) or receivable_written_off (-).';

-- ============================================================================
-- Pricing
-- ============================================================================

drop function public.quote_order(uuid, jsonb, text, uuid);
drop function public.place_order(uuid, jsonb, text, uuid, text, text, text);
drop function private.price_order(uuid, uuid, jsonb, text, uuid);

-- Prices an order from current rows with every rule that does not depend on
-- payment (see the top of this file for the formulas). Returns {vendor_id,
-- currency, fulfillment, subtotal, discount, discount_funded_by, coupon_id,
-- coupon_code, delivery_fee, service_fee, small_order_fee, vat, tip, total,
-- commission_rate, commission, distance_km, scheduled_for, release_at,
-- address_id, delivery_address, stock: {menu_item_id: quantity} of tracked
-- items, items: [...]}. Raises a coded error on the first problem. Coupon
-- limits and stock are checked here from the snapshot; place_order enforces
-- them under locks.
create function private.price_order(
  p_customer_id uuid, p_vendor_id uuid, p_items jsonb, p_fulfillment text, p_address_id uuid,
  p_coupon_code text default null, p_tip bigint default 0, p_scheduled_for timestamptz default null
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v public.vendors;
  a public.addresses;
  s public.platform_settings;
  c public.coupons;
  shape record;
  priced record;
  fee bigint := 0;
  distance double precision;
  v_tip bigint := coalesce(p_tip, 0);
  v_discount bigint := 0;
  v_service bigint;
  v_small bigint;
  v_vat bigint;
  v_total bigint;
  v_release timestamptz;
  used integer;
begin
  if p_fulfillment is null or p_fulfillment not in ('delivery', 'pickup') then
    perform private.fail('invalid_fulfillment', 'Fulfillment must be delivery or pickup.');
  end if;
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) not between 1 and 50 then
    perform private.fail('invalid_items', 'Send 1 to 50 items as [{"menu_item_id", "quantity", "modifier_ids"}].');
  end if;
  select bool_or(not ok_shape) as bad_shape, bool_or(ok_shape and not ok_qty) as bad_qty into shape
  from (
    select jsonb_typeof(e) = 'object'
           and coalesce(jsonb_typeof(e -> 'menu_item_id') = 'string' and pg_input_is_valid(e ->> 'menu_item_id', 'uuid'), false)
           and coalesce(jsonb_typeof(e -> 'modifier_ids'), 'null') in ('array', 'null')
           and (jsonb_typeof(e -> 'modifier_ids') is distinct from 'array' or not exists (
                  select 1 from jsonb_array_elements(e -> 'modifier_ids') m
                  where jsonb_typeof(m) <> 'string' or not pg_input_is_valid(m #>> '{}', 'uuid'))) as ok_shape,
           coalesce(jsonb_typeof(e -> 'quantity') = 'number' and pg_input_is_valid(e ->> 'quantity', 'smallint')
                    and (e ->> 'quantity')::smallint between 1 and 50, false) as ok_qty
    from jsonb_array_elements(p_items) e
  ) s;
  if shape.bad_shape then
    perform private.fail('invalid_items', 'Each item needs a menu_item_id (uuid) and modifier_ids as a list of uuids.');
  end if;
  if shape.bad_qty then
    perform private.fail('invalid_quantity', 'Each quantity must be a whole number from 1 to 50.');
  end if;
  if v_tip < 0 then
    perform private.fail('tip_out_of_range', 'A tip cannot be negative.');
  end if;
  -- A blank code is no coupon (forms send empty strings).
  if char_length(p_coupon_code) <= 64 then
    p_coupon_code := nullif(trim(p_coupon_code), '');
  end if;
  if p_coupon_code is not null and (char_length(p_coupon_code) > 64 or trim(p_coupon_code) !~ '^[A-Za-z0-9_-]{3,32}$') then
    perform private.fail('coupon_invalid', 'This coupon code does not exist.');
  end if;

  select * into v from public.vendors where id = p_vendor_id;
  if not found then
    perform private.fail('vendor_not_found', 'This vendor does not exist.', 'P0002');
  end if;
  if v.status <> 'active' then
    perform private.fail('vendor_unavailable', format('%s is not taking orders on Rambini.', v.name));
  end if;
  if p_scheduled_for is null then
    if not public.is_open_now(v) then
      perform private.fail('vendor_closed', format('%s is closed right now.', v.name));
    end if;
  else
    -- A scheduled order needs the vendor open (hours, closures) when the food
    -- is wanted, not now; the on/off switch is about now.
    if p_scheduled_for < now() + make_interval(mins => v.prep_time_minutes) then
      perform private.fail('invalid_schedule', format('%s needs at least %s minutes: schedule for %s (Lagos time) or later.',
        v.name, v.prep_time_minutes, to_char((now() + make_interval(mins => v.prep_time_minutes)) at time zone 'Africa/Lagos', 'YYYY-MM-DD HH24:MI')));
    end if;
    if p_scheduled_for > now() + interval '7 days' then
      perform private.fail('invalid_schedule', 'Orders can be scheduled at most 7 days ahead.');
    end if;
    if not private.vendor_hours_cover(v.id, p_scheduled_for) then
      perform private.fail('invalid_schedule', format('%s is not open at %s (Lagos time).', v.name,
        to_char(p_scheduled_for at time zone 'Africa/Lagos', 'Dy YYYY-MM-DD HH24:MI')));
    end if;
    if private.vendor_closed_at(v.id, p_scheduled_for) then
      perform private.fail('vendor_closed', format('%s is closed for a holiday at %s (Lagos time).', v.name,
        to_char(p_scheduled_for at time zone 'Africa/Lagos', 'Dy YYYY-MM-DD HH24:MI')));
    end if;
    v_release := p_scheduled_for - make_interval(mins => v.prep_time_minutes);
  end if;

  -- Every line priced in one query; the first problem (in line order) wins.
  with req as materialized (
    select t.pos::integer as pos, (t.e ->> 'menu_item_id')::uuid as item_id, (t.e ->> 'quantity')::integer as qty,
           sum((t.e ->> 'quantity')::integer) over (partition by t.e ->> 'menu_item_id') as item_qty,
           m.mods, m.distinct_mods
    from jsonb_array_elements(p_items) with ordinality as t (e, pos)
    cross join lateral (
      select coalesce(array_agg(x::uuid), '{}') as mods, count(distinct x) as distinct_mods
      from jsonb_array_elements_text(case when jsonb_typeof(t.e -> 'modifier_ids') = 'array' then t.e -> 'modifier_ids' end) x
    ) m
  ),
  lines as (
    select l.pos, l.qty, l.item_qty, mi.id, mi.name, mi.price, mi.stock, m.mod_json, m.mod_total,
           case
             when mi.id is null then 'item_not_found'
             when mi.vendor_id <> v.id then 'mixed_vendors'
             when not mi.is_available and coalesce(mi.stock, 1) > 0 then 'item_unavailable'
             when mi.stock < l.item_qty then 'item_out_of_stock'
             when cardinality(l.mods) <> l.distinct_mods then 'invalid_modifier'
             when m.mod_count <> cardinality(l.mods) then 'invalid_modifier'
             when g.name is not null then 'invalid_modifier_selection'
           end as err,
           case
             when mi.id is null then 'An item in the order does not exist.'
             when mi.vendor_id <> v.id then 'All items in an order must come from the same vendor.'
             when not mi.is_available and coalesce(mi.stock, 1) > 0 then format('%s is not available right now.', mi.name)
             when mi.stock < l.item_qty then format('Only %s of %s left; the order asks for %s.', mi.stock, mi.name, l.item_qty)
             when cardinality(l.mods) <> l.distinct_mods then format('An option was chosen twice for %s.', mi.name)
             when m.mod_count <> cardinality(l.mods) then format('An option chosen for %s does not exist or is not available.', mi.name)
             when g.name is not null then format('Choose %s to %s option(s) for "%s" on %s.', g.min_select, g.max_select, g.name, mi.name)
           end as detail
    from req l
    left join public.menu_items mi on mi.id = l.item_id
    left join lateral (
      select coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'name', m.name, 'group', mg.name, 'price_delta', m.price_delta)
                                order by mg.sort_order, m.sort_order, m.name), '[]') as mod_json,
             coalesce(sum(m.price_delta), 0)::bigint as mod_total, count(*) as mod_count
      from public.modifiers m join public.modifier_groups mg on mg.id = m.group_id
      where m.id = any (l.mods) and mg.menu_item_id = mi.id and m.is_available
    ) m on true
    left join lateral (
      select mg.name, mg.min_select, mg.max_select
      from public.modifier_groups mg
      left join public.modifiers m on m.group_id = mg.id and m.id = any (l.mods)
      where mg.menu_item_id = mi.id
      group by mg.id, mg.name, mg.min_select, mg.max_select
      having count(m.id) not between mg.min_select and mg.max_select
      limit 1
    ) g on true
  )
  select (array_agg(err order by pos) filter (where err is not null))[1] as err,
         (array_agg(detail order by pos) filter (where err is not null))[1] as detail,
         sum((price + mod_total) * qty)::bigint as subtotal,
         coalesce(jsonb_object_agg(id, item_qty) filter (where stock is not null), '{}') as stock,
         jsonb_agg(jsonb_build_object(
           'menu_item_id', id, 'name', name, 'unit_price', price, 'modifiers', mod_json, 'modifiers_total', mod_total,
           'quantity', qty, 'line_total', (price + mod_total) * qty, 'position', pos, 'stock_reserved', stock is not null) order by pos) as items
  into priced
  from lines;
  if priced.err is not null then
    perform private.fail(priced.err, priced.detail, case when priced.err = 'item_not_found' then 'P0002' else 'P0001' end);
  end if;

  if priced.subtotal < v.min_order_amount then
    perform private.fail('below_min_order', format('%s needs a subtotal of at least %s kobo.', v.name, v.min_order_amount));
  end if;
  -- Compared by division so a huge tip cannot overflow: tip <= floor(subtotal / 2).
  if v_tip > priced.subtotal / 2 then
    perform private.fail('tip_out_of_range', format('A tip can be at most half the subtotal (%s kobo).', priced.subtotal / 2));
  end if;

  if p_fulfillment = 'delivery' then
    if p_address_id is null then
      perform private.fail('address_required', 'Choose a delivery address.');
    end if;
    select * into a from public.addresses where id = p_address_id and user_id = p_customer_id;
    if not found then
      perform private.fail('address_not_found', 'This delivery address does not exist.', 'P0002');
    end if;
    distance := private.distance_km(v.lat, v.lng, a.lat, a.lng);
    if distance > v.delivery_radius_km then
      perform private.fail('outside_delivery_radius',
        format('%s delivers up to %s km; this address is %s km away.', v.name, v.delivery_radius_km, round(distance::numeric, 1)));
    end if;
    fee := private.delivery_fee(v.base_delivery_fee, v.base_delivery_km, v.per_km_fee, distance);
  end if;

  if p_coupon_code is not null then
    select * into c from public.coupons where upper(code) = upper(trim(p_coupon_code));
    if not found or not c.is_active or c.starts_at > now() then
      perform private.fail('coupon_invalid', 'This coupon code does not exist or is not valid yet.');
    end if;
    if c.ends_at <= now() then
      perform private.fail('coupon_expired', format('Coupon %s ended on %s (Lagos time).', c.code, to_char(c.ends_at at time zone 'Africa/Lagos', 'YYYY-MM-DD HH24:MI')));
    end if;
    if c.vendor_id is not null and c.vendor_id <> v.id then
      perform private.fail('coupon_wrong_vendor', format('Coupon %s is not valid at %s.', c.code, v.name));
    end if;
    if c.kind = 'free_delivery' and p_fulfillment <> 'delivery' then
      perform private.fail('coupon_invalid', format('Coupon %s is for delivery orders.', c.code));
    end if;
    if priced.subtotal < c.min_subtotal then
      perform private.fail('coupon_min_subtotal', format('Coupon %s needs a subtotal of at least %s kobo.', c.code, c.min_subtotal));
    end if;
    if c.max_redemptions is not null then
      select count(*) into used from public.coupon_redemptions r where r.coupon_id = c.id and r.released_at is null;
      if used >= c.max_redemptions then
        perform private.fail('coupon_exhausted', format('Coupon %s has been used up.', c.code));
      end if;
    end if;
    if c.per_customer_limit is not null then
      select count(*) into used from public.coupon_redemptions r
      where r.coupon_id = c.id and r.customer_id = p_customer_id and r.released_at is null;
      if used >= c.per_customer_limit then
        perform private.fail('coupon_limit_reached', format('You have used coupon %s %s time(s), its limit.', c.code, used));
      end if;
    end if;
    -- Rounded down (integer division of non-negative numbers), then capped.
    v_discount := case c.kind when 'percent' then priced.subtotal * c.value / 100 when 'fixed' then c.value else fee end;
    v_discount := least(v_discount, coalesce(c.max_discount, v_discount),
                        case when c.kind = 'free_delivery' then fee else priced.subtotal end);
  end if;

  select * into s from public.platform_settings;
  v_service := least(round(priced.subtotal * s.service_fee_rate)::bigint, s.service_fee_cap);
  v_small := case when priced.subtotal < s.small_order_threshold then s.small_order_fee else 0 end;
  v_vat := round((v_service + v_small + fee) * s.vat_rate)::bigint;
  v_total := priced.subtotal - v_discount + fee + v_service + v_small + v_vat + v_tip;
  if v_total <= 0 then
    perform private.fail('coupon_invalid', format('Coupon %s would make this order free.', c.code));
  end if;

  return jsonb_build_object(
    'vendor_id', v.id, 'currency', v.currency, 'fulfillment', p_fulfillment,
    'subtotal', priced.subtotal, 'discount', v_discount,
    'discount_funded_by', case when v_discount > 0 then c.funded_by end,
    'coupon_id', c.id, 'coupon_code', c.code,
    'delivery_fee', fee, 'service_fee', v_service, 'small_order_fee', v_small, 'vat', v_vat, 'tip', v_tip,
    'total', v_total,
    'commission_rate', v.commission_rate,
    'commission', round((priced.subtotal - case when c.funded_by = 'vendor' then v_discount else 0 end) * v.commission_rate)::bigint,
    'distance_km', round(distance::numeric, 2),
    'scheduled_for', p_scheduled_for, 'release_at', v_release,
    'address_id', case when p_fulfillment = 'delivery' then a.id end,
    'delivery_address', case when p_fulfillment = 'delivery' then jsonb_build_object(
      'label', a.label, 'line1', a.line1, 'city', a.city, 'state', a.state, 'country', a.country,
      'lat', a.lat, 'lng', a.lng, 'instructions', a.instructions) end,
    'stock', priced.stock,
    'items', priced.items);
end
$$;
revoke execute on function private.price_order(uuid, uuid, jsonb, text, uuid, text, bigint, timestamptz) from public, anon, authenticated, service_role;

-- What a client is shown: the breakdown, without the platform's internals.
create function private.quote_view(q jsonb) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object(
    'subtotal', q -> 'subtotal', 'discount', q -> 'discount', 'delivery_fee', q -> 'delivery_fee',
    'service_fee', q -> 'service_fee', 'small_order_fee', q -> 'small_order_fee', 'vat', q -> 'vat', 'tip', q -> 'tip',
    'total', q -> 'total', 'currency', q -> 'currency', 'coupon_code', q -> 'coupon_code',
    'scheduled_for', q -> 'scheduled_for', 'distance_km', q -> 'distance_km',
    'items', (select coalesce(jsonb_agg(i - 'stock_reserved' order by (i ->> 'position')::integer), '[]') from jsonb_array_elements(q -> 'items') i))
$$;
revoke execute on function private.quote_view(jsonb) from public, anon, authenticated, service_role;

create function public.quote_order(
  p_vendor_id uuid, p_items jsonb, p_fulfillment text, p_address_id uuid default null,
  p_coupon_code text default null, p_tip bigint default 0, p_scheduled_for timestamptz default null
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return private.quote_view(private.price_order(private.require_active_user(), p_vendor_id, p_items, p_fulfillment, p_address_id,
                                                p_coupon_code, p_tip, p_scheduled_for));
end
$$;
comment on function public.quote_order(uuid, jsonb, text, uuid, text, bigint, timestamptz) is 'Prices an order exactly as place_order would, without writing: {subtotal, discount, delivery_fee, service_fee, small_order_fee, vat, tip, total, currency, coupon_code, scheduled_for, distance_km, items}. Same errors as place_order.';
revoke execute on function public.quote_order(uuid, jsonb, text, uuid, text, bigint, timestamptz) from public, anon;
grant execute on function public.quote_order(uuid, jsonb, text, uuid, text, bigint, timestamptz) to authenticated, service_role;

-- ============================================================================
-- Placing
-- ============================================================================

create function public.place_order(
  p_vendor_id uuid,
  p_items jsonb,
  p_fulfillment text,
  p_address_id uuid,
  p_payment_method text,
  p_note text default null,
  p_idempotency_key text default null,
  p_coupon_code text default null,
  p_tip bigint default 0,
  p_scheduled_for timestamptz default null
) returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  q jsonb;
  o public.orders;
  by_wallet boolean;
  c record;
  n integer;
begin
  if p_payment_method is null or p_payment_method not in ('wallet', 'paystack', 'stripe') then
    perform private.fail('invalid_payment_method', 'Pay with wallet, paystack or stripe.');
  end if;
  if p_idempotency_key is not null and char_length(p_idempotency_key) not between 1 and 200 then
    perform private.fail('invalid_idempotency_key', 'The idempotency key must be 1 to 200 characters.');
  end if;
  if char_length(p_note) > 500 then
    perform private.fail('invalid_note', 'The note must be at most 500 characters.');
  end if;
  if p_idempotency_key is not null then
    select * into o from public.orders where customer_id = uid and idempotency_key = p_idempotency_key;
    if found then
      return o;
    end if;
  end if;

  -- A coupon with limits is taken under a lock before pricing, so the counts
  -- price_order reads (in a snapshot taken after the lock) are exact: the
  -- coupon row when all customers share a limit, else this customer's use of it.
  if nullif(trim(p_coupon_code), '') is not null and char_length(p_coupon_code) <= 64 then
    select id, max_redemptions, per_customer_limit into c from public.coupons where upper(code) = upper(trim(p_coupon_code));
    if c.max_redemptions is not null then
      perform 1 from public.coupons where id = c.id for no key update;
    elsif c.per_customer_limit is not null then
      perform pg_advisory_xact_lock(hashtext('coupon:' || c.id), hashtext(uid::text));
    end if;
  end if;

  q := private.price_order(uid, p_vendor_id, p_items, p_fulfillment, p_address_id, p_coupon_code, p_tip, p_scheduled_for);
  by_wallet := p_payment_method = 'wallet';

  -- A concurrent call with the same key waits on the unique index here and then
  -- returns the winner's order instead of charging twice.
  insert into public.orders (
    customer_id, vendor_id, status, fulfillment, address_id, delivery_address, note, currency,
    subtotal, discount, coupon_id, coupon_code, discount_funded_by, delivery_fee, service_fee, small_order_fee, vat, tip, total,
    commission_rate, commission, distance_km, scheduled_for, release_at,
    payment_method, payment_status, idempotency_key, paid_at
  ) values (
    uid, p_vendor_id,
    case when not by_wallet then 'awaiting_payment' when p_scheduled_for is not null then 'scheduled' else 'new' end,
    p_fulfillment, (q ->> 'address_id')::uuid, nullif(q -> 'delivery_address', 'null'::jsonb), nullif(trim(p_note), ''), q ->> 'currency',
    (q ->> 'subtotal')::bigint, (q ->> 'discount')::bigint, case when (q ->> 'discount')::bigint > 0 then (q ->> 'coupon_id')::uuid end,
    case when (q ->> 'discount')::bigint > 0 then q ->> 'coupon_code' end, q ->> 'discount_funded_by',
    (q ->> 'delivery_fee')::bigint, (q ->> 'service_fee')::bigint, (q ->> 'small_order_fee')::bigint, (q ->> 'vat')::bigint,
    (q ->> 'tip')::bigint, (q ->> 'total')::bigint,
    (q ->> 'commission_rate')::numeric, (q ->> 'commission')::bigint, (q ->> 'distance_km')::numeric,
    p_scheduled_for, (q ->> 'release_at')::timestamptz,
    p_payment_method, case when by_wallet then 'paid' else 'pending' end, p_idempotency_key,
    case when by_wallet then now() end
  )
  on conflict (customer_id, idempotency_key) do nothing
  returning * into o;
  if not found then
    select * into o from public.orders where customer_id = uid and idempotency_key = p_idempotency_key;
    return o;
  end if;

  insert into public.order_items (order_id, menu_item_id, name, unit_price, modifiers, modifiers_total, quantity, line_total, position, stock_reserved)
  select o.id, i.menu_item_id, i.name, i.unit_price, i.modifiers, i.modifiers_total, i.quantity, i.line_total, i.position, i.stock_reserved
  from jsonb_to_recordset(q -> 'items') as i (menu_item_id uuid, name text, unit_price bigint, modifiers jsonb,
                                              modifiers_total bigint, quantity integer, line_total bigint, position integer,
                                              stock_reserved boolean);

  -- Stock: one atomic decrement per tracked item; the row lock makes
  -- concurrent orders take turns, and the condition re-read after the lock
  -- refuses what is no longer there.
  if q -> 'stock' <> '{}'::jsonb then
    update public.menu_items m set stock = m.stock - s.value::integer
    from jsonb_each_text(q -> 'stock') s
    where m.id = s.key::uuid and (m.stock is null or m.stock >= s.value::integer);
    get diagnostics n = row_count;
    if n < (select count(*) from jsonb_object_keys(q -> 'stock')) then
      perform private.fail('item_out_of_stock', 'An item in the order sold out while it was being placed.');
    end if;
  end if;

  -- A coupon that gives nothing (e.g. free delivery of a free delivery) is not spent.
  if (q ->> 'discount')::bigint > 0 then
    insert into public.coupon_redemptions (coupon_id, order_id, customer_id, discount)
    values ((q ->> 'coupon_id')::uuid, o.id, uid, (q ->> 'discount')::bigint);
  end if;

  insert into public.order_events (order_id, from_status, to_status, actor_id, actor_role)
  values (o.id, null, o.status, uid, 'customer');

  if by_wallet then
    perform private.post_wallet_entry(uid, -o.total, 'order_payment', o.number, 'order:' || o.id || ':payment', o.id);
  end if;
  return o;
end
$$;
comment on function public.place_order(uuid, jsonb, text, uuid, text, text, text, text, bigint, timestamptz) is 'Places an order priced in SQL (see quote_order for the breakdown). p_coupon_code: one coupon, its limits enforced under a lock; p_tip: 0 to half the subtotal, for the vendor; p_scheduled_for: when the food is wanted (within the vendor''s Lagos hours, at least its prep time and at most 7 days ahead): paid now, status scheduled until scheduled_for - prep time. Wallet: debited at once, status new (or scheduled)/paid. paystack|stripe: status awaiting_payment/pending until confirm_payment. Stock-tracked items are taken atomically. The same p_idempotency_key returns the same order. Errors (message): invalid_items, invalid_quantity, item_not_found, item_unavailable, item_out_of_stock, mixed_vendors, invalid_modifier, invalid_modifier_selection, vendor_not_found, vendor_unavailable, vendor_closed, below_min_order, address_required, address_not_found, outside_delivery_radius, coupon_invalid, coupon_expired, coupon_min_subtotal, coupon_exhausted, coupon_limit_reached, coupon_wrong_vendor, tip_out_of_range, invalid_schedule, invalid_payment_method, invalid_note, invalid_idempotency_key, insufficient_funds, account_suspended.';
revoke execute on function public.place_order(uuid, jsonb, text, uuid, text, text, text, text, bigint, timestamptz) from public, anon;
grant execute on function public.place_order(uuid, jsonb, text, uuid, text, text, text, text, bigint, timestamptz) to authenticated, service_role;

-- ============================================================================
-- Lifecycle: the scheduled status; coupon uses and stock given back on cancel
-- ============================================================================

create or replace function private.order_transition_valid(p_from text, p_to text, p_fulfillment text) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case p_from
    when 'awaiting_payment' then p_to in ('new', 'scheduled', 'cancelled')
    when 'scheduled' then p_to in ('new', 'cancelled')
    when 'new' then p_to in ('preparing', 'cancelled')
    when 'preparing' then p_to in ('ready', 'cancelled')
    when 'ready' then (p_to = 'out_for_delivery' and p_fulfillment = 'delivery') or (p_to = 'completed' and p_fulfillment = 'pickup')
    when 'out_for_delivery' then p_to = 'completed'
    else false
  end;
end
$$;

create or replace function private.order_actor_role(o public.orders, p_uid uuid, p_status text, p_reason text) returns text
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
  if p_status is null or p_status not in ('awaiting_payment', 'scheduled', 'new', 'preparing', 'ready', 'out_for_delivery', 'completed', 'cancelled') then
    perform private.fail('invalid_status', format('"%s" is not an order status.', p_status));
  end if;
  -- Payment moves an order out of awaiting_payment, and the clock moves a
  -- scheduled one to new: nobody does either by hand.
  if not private.order_transition_valid(o.status, p_status, o.fulfillment)
     or (o.status = 'awaiting_payment' and p_status in ('new', 'scheduled'))
     or (o.status = 'scheduled' and p_status = 'new') then
    perform private.fail('invalid_transition', format('An order cannot go from %s to %s.', o.status, p_status));
  end if;
  if as_vendor and (p_status <> 'cancelled' or o.status in ('scheduled', 'new', 'preparing')) then
    actor_role := 'vendor';
  elsif as_customer and p_status = 'cancelled' and o.status in ('awaiting_payment', 'scheduled', 'new') then
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

-- As the refunds version, plus: a paid scheduled order waits in `scheduled`
-- (until its release time, when the release job moves it to new).
create or replace function private.apply_order_transition(
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
  if p_to = 'new' and o.status = 'awaiting_payment' and o.release_at > now() then
    p_to := 'scheduled';
  end if;
  if p_to = 'cancelled' then
    if o.payment_status in ('pending', 'failed') then
      pay_status := 'cancelled';
    end if;
  elsif p_to in ('new', 'scheduled') then
    pay_status := 'paid';
  end if;

  update public.orders set
    status = p_to,
    payment_status = pay_status,
    updated_at = now(),
    paid_at = case when p_to in ('new', 'scheduled') then coalesce(paid_at, now()) else paid_at end,
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
    -- Whatever is left of each capture goes back (fees, VAT and tip included);
    -- partial refunds already made are not repeated.
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

-- An order cancelled before preparing (awaiting_payment, scheduled, new) gives
-- back its coupon use and its stock, whichever path cancelled it. Runs inside
-- the cancelling transaction, after the order row is locked.
create function private.orders_release_on_cancel() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.coupon_redemptions set released_at = now() where order_id = new.id and released_at is null;
  with given as (
    update public.order_items set stock_reserved = false
    where order_id = new.id and stock_reserved
    returning menu_item_id, quantity
  )
  update public.menu_items m set stock = m.stock + g.qty
  from (select menu_item_id, sum(quantity)::integer as qty from given group by menu_item_id) g
  where m.id = g.menu_item_id;
  return null;
end
$$;
revoke execute on function private.orders_release_on_cancel() from public, anon, authenticated, service_role;

create trigger orders_release_on_cancel
  after update of status on public.orders
  for each row when (new.status = 'cancelled' and old.status in ('awaiting_payment', 'scheduled', 'new'))
  execute function private.orders_release_on_cancel();

-- Lines of a stock-tracked item stop holding stock once the food is being made
-- (a later cancel does not put portions back).
create function private.orders_stock_consumed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.order_items set stock_reserved = false where order_id = new.id and stock_reserved;
  return null;
end
$$;
revoke execute on function private.orders_stock_consumed() from public, anon, authenticated, service_role;

create trigger orders_stock_consumed
  after update of status on public.orders
  for each row when (new.status = 'preparing' and old.status = 'new')
  execute function private.orders_stock_consumed();

-- The release-scheduled-orders job: scheduled orders whose release time has
-- come move to new (the vendor is notified by the order triggers and the
-- accept window starts). Waits for an order another transaction holds; one
-- cancelled meanwhile no longer matches and is left.
create function public.release_scheduled_orders() returns integer
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
    where status = 'scheduled' and release_at <= now()
    order by release_at
    for update
  loop
    perform private.apply_order_transition(o, 'new', 'scheduled_time', null, 'system');
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function public.release_scheduled_orders() is 'service_role only (the release-scheduled-orders job, every minute): moves scheduled orders whose release_at (scheduled_for - prep time) has come to new (reason scheduled_time, actor system). Returns the count.';
revoke execute on function public.release_scheduled_orders() from public, anon, authenticated;
grant execute on function public.release_scheduled_orders() to service_role;

select cron.schedule('release-scheduled-orders', '* * * * *', 'select public.release_scheduled_orders()');

-- ============================================================================
-- Settlement with discounts, fees, VAT and tips
-- ============================================================================

-- The vendor's commission base: the subtotal less the discount it funds.
create function private.commission_base(o public.orders) returns bigint
language sql
immutable
set search_path = ''
as $$ select o.subtotal - case when o.discount_funded_by = 'vendor' then o.discount else 0 end $$;
revoke execute on function private.commission_base(public.orders) from public, anon, authenticated, service_role;

-- Books a completed order (see the top of this file): the vendor is paid its
-- share (food less the discount it funds, delivery, tip) less the refunds it
-- bears and the commission; the platform books commission, fees and VAT
-- payable, less the discount and refunds it bears. Vendor-borne refunds beyond
-- the vendor's share (e.g. a refund of the service fee) fall to the platform,
-- so the earning is never negative.
create or replace function private.settle_completed_order(o public.orders) returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
  v_base bigint := private.commission_base(o);
  v_share bigint := v_base + o.delivery_fee + o.tip;
  v_vendor_refunds_all bigint := private.order_refunds_borne(o.id, 'vendor');
  v_vendor_refunds bigint := least(v_vendor_refunds_all, v_share);
  v_platform_refunds bigint := private.order_refunds_borne(o.id, 'platform') + (v_vendor_refunds_all - v_vendor_refunds);
  v_platform_discount bigint := case when o.discount_funded_by = 'platform' then o.discount else 0 end;
  v_commission bigint := private.commission_after(v_base, v_vendor_refunds, o.commission_rate);
  v_earning bigint := v_share - v_vendor_refunds - v_commission;
begin
  select owner_id into owner from public.vendors where id = o.vendor_id;
  if v_earning > 0 then
    perform private.post_wallet_entry(owner, v_earning, 'order_earning', o.number, 'order:' || o.id || ':earning', o.id);
  end if;
  insert into public.platform_ledger (type, amount, order_id, idempotency_key)
  select t.type, t.amount, o.id, 'order:' || o.id || ':' || t.key
  from (values ('commission', v_commission, 'commission'),
               ('service_fee', o.service_fee, 'service_fee'),
               ('small_order_fee', o.small_order_fee, 'small_order_fee'),
               ('vat_payable', o.vat, 'vat'),
               ('discount_borne', -v_platform_discount, 'discount'),
               ('refund_borne', -v_platform_refunds, 'refunds_borne')) as t (type, amount, key)
  where t.amount <> 0;
  update public.orders set commission = v_commission, vendor_earning = v_earning
  where id = o.id returning * into o;
  return o;
end
$$;

-- As the refunds version, with the commission base less the vendor-funded discount.
create or replace function private.settle_refund_after_completion(o public.orders, r public.refunds, p_fresh bigint) returns void
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
  new_commission := private.commission_after(private.commission_base(o), private.order_refunds_borne(o.id, 'vendor'), o.commission_rate);
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

-- ============================================================================
-- Live: payloads and notifications carry the breakdown and the schedule
-- ============================================================================

create or replace function private.order_status_text(p_status text, p_fulfillment text) returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case p_status
    when 'awaiting_payment' then 'is waiting for payment'
    when 'scheduled' then 'is scheduled'
    when 'new' then 'has been sent to the restaurant'
    when 'preparing' then 'is being prepared'
    when 'ready' then case when p_fulfillment = 'pickup' then 'is ready for pickup' else 'is ready and waiting for the rider' end
    when 'out_for_delivery' then 'is on its way'
    when 'completed' then case when p_fulfillment = 'pickup' then 'has been picked up' else 'has been delivered' end
    when 'cancelled' then 'was cancelled'
  end;
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

  -- The customer's confirmation on placement (the app's receipt), then every change.
  insert into public.notifications (user_id, type, title, body, data, order_id)
  values (new.customer_id, 'order_update', format('Order %s', new.number),
          case when new.status = 'scheduled'
               then format('Your order from %s is scheduled for %s (Lagos time).', vendor_name, lagos_time)
               else format('Your order from %s %s.', vendor_name, private.order_status_text(new.status, new.fulfillment)) end,
          jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status, 'total', new.total,
                             'scheduled_for', new.scheduled_for), new.id);

  -- The vendor hears about orders it must act on: a paid new order (a
  -- scheduled one when it is released), and cancels.
  if new.status = 'new' or (new.status = 'cancelled' and tg_op = 'UPDATE' and old.status <> 'awaiting_payment'
                             and new.cancelled_by_role is distinct from 'vendor') then
    insert into public.notifications (user_id, type, title, body, data, order_id)
    values (owner, 'new_order',
            case when new.status = 'new' then format('New order %s', new.number) else format('Order %s cancelled', new.number) end,
            case when new.status = 'new' and new.scheduled_for is not null
                   then format('Scheduled %s order for %s (Lagos time), total %s kobo%s.', new.fulfillment, lagos_time, new.total,
                               case when new.tip > 0 then format(', tip %s kobo', new.tip) else '' end)
                 when new.status = 'new'
                   then format('%s order, total %s kobo%s.', initcap(new.fulfillment), new.total,
                               case when new.tip > 0 then format(', tip %s kobo', new.tip) else '' end)
                 else coalesce('Reason: ' || new.cancel_reason, 'The order was cancelled.') end,
            jsonb_build_object('order_id', new.id, 'number', new.number, 'status', new.status, 'total', new.total,
                               'tip', new.tip, 'scheduled_for', new.scheduled_for), new.id);
  end if;
  return null;
end
$$;

-- ============================================================================
-- Reviews
-- ============================================================================

create table public.reviews (
  id uuid primary key default gen_random_uuid(),
  order_id uuid not null unique references public.orders (id) on delete cascade,
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  customer_id uuid not null references public.profiles (id) on delete cascade,
  reviewer_name text check (char_length(reviewer_name) <= 80),
  rating smallint not null check (rating between 1 and 5),
  comment text check (char_length(comment) <= 1000),
  vendor_reply text check (char_length(vendor_reply) between 1 and 1000),
  replied_at timestamptz,
  hidden_by_admin boolean not null default false,
  hidden_reason text check (char_length(hidden_reason) <= 500),
  hidden_by uuid references public.profiles (id) on delete set null,
  hidden_at timestamptz,
  created_at timestamptz not null default now()
);
comment on table public.reviews is 'One review per completed order, by its customer within 14 days (review_order); the vendor owner replies (reply_to_review); admins hide (admin_hide_review). Visible reviews are public and keep vendors.rating and rating_count. Written only by those functions.';
comment on column public.reviews.id is 'Review id.';
comment on column public.reviews.order_id is 'The order reviewed (one review each).';
comment on column public.reviews.vendor_id is 'The vendor reviewed.';
comment on column public.reviews.customer_id is 'The customer who wrote it.';
comment on column public.reviews.reviewer_name is 'The customer''s first name when they wrote it (never their phone).';
comment on column public.reviews.rating is '1 to 5 stars.';
comment on column public.reviews.comment is 'What the customer wrote (at most 1000 characters).';
comment on column public.reviews.vendor_reply is 'The vendor''s public answer (1 to 1000 characters).';
comment on column public.reviews.replied_at is 'When the vendor last replied.';
comment on column public.reviews.hidden_by_admin is 'Hidden reviews are shown only to their customer, the vendor owner and admins, and do not count in the rating.';
comment on column public.reviews.hidden_reason is 'Why an admin hid it.';
comment on column public.reviews.hidden_by is 'The admin who hid it.';
comment on column public.reviews.hidden_at is 'When it was hidden.';
comment on column public.reviews.created_at is 'When it was written.';
create index reviews_vendor_id_created_at_idx on public.reviews (vendor_id, created_at desc);
create index reviews_customer_id_idx on public.reviews (customer_id);
create index reviews_hidden_by_idx on public.reviews (hidden_by);

alter table public.reviews enable row level security;
create policy "Anyone reads visible reviews" on public.reviews
  for select to anon using (not hidden_by_admin);
create policy "Users read visible reviews, their own, their vendor's and admins all" on public.reviews
  for select to authenticated using (
    not hidden_by_admin or customer_id = (select auth.uid())
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
revoke insert, update, delete, truncate on public.reviews from anon, authenticated, service_role;

-- Recomputes a vendor's rating from its visible reviews; the caller holds the vendor row lock.
create function private.refresh_vendor_rating(p_vendor_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.vendors v set rating = r.avg_rating, rating_count = r.n
  from (select round(avg(rating), 2) as avg_rating, count(*)::integer as n
        from public.reviews where vendor_id = p_vendor_id and not hidden_by_admin) r
  where v.id = p_vendor_id;
end
$$;
revoke execute on function private.refresh_vendor_rating(uuid) from public, anon, authenticated, service_role;

create function public.review_order(p_order_id uuid, p_rating integer, p_comment text default null) returns public.reviews
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  o public.orders;
  r public.reviews;
  v_comment text := nullif(trim(p_comment), '');
begin
  if p_rating is null or p_rating not between 1 and 5 then
    perform private.fail('invalid_rating', 'A rating is a whole number of stars from 1 to 5.');
  end if;
  if char_length(v_comment) > 1000 then
    perform private.fail('invalid_comment', 'A review comment is at most 1000 characters.');
  end if;
  select * into o from public.orders where id = p_order_id;
  if not found or o.customer_id <> uid then
    perform private.fail('review_not_allowed', 'Only the customer of an order can review it.', '42501');
  end if;
  if o.status <> 'completed' then
    perform private.fail('review_not_allowed', 'Only a completed order can be reviewed.');
  end if;
  if o.completed_at < now() - interval '14 days' then
    perform private.fail('review_not_allowed', 'An order can be reviewed within 14 days of its completion.');
  end if;
  -- The vendor row lock serializes reviews of one vendor, so the rating sees every one.
  perform 1 from public.vendors where id = o.vendor_id for no key update;
  insert into public.reviews (order_id, vendor_id, customer_id, reviewer_name, rating, comment)
  values (o.id, o.vendor_id, uid, (select left(split_part(trim(p.full_name), ' ', 1), 80) from public.profiles p where p.id = uid),
          p_rating, v_comment)
  on conflict (order_id) do nothing
  returning * into r;
  if not found then
    perform private.fail('review_not_allowed', 'This order has been reviewed already.');
  end if;
  perform private.refresh_vendor_rating(o.vendor_id);
  return r;
end
$$;
comment on function public.review_order(uuid, integer, text) is 'The order''s customer reviews a completed order, once, within 14 days of completion: p_rating 1..5, p_comment at most 1000 characters. Updates the vendor''s rating. Errors: review_not_allowed, invalid_rating, invalid_comment.';
revoke execute on function public.review_order(uuid, integer, text) from public, anon;
grant execute on function public.review_order(uuid, integer, text) to authenticated;

create function public.reply_to_review(p_review_id uuid, p_reply text) returns public.reviews
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  r public.reviews;
  v_reply text := nullif(trim(p_reply), '');
begin
  select * into r from public.reviews where id = p_review_id for update;
  if not found or not exists (select 1 from public.vendors v where v.id = r.vendor_id and v.owner_id = uid) then
    perform private.fail('review_not_found', 'This review does not exist.', 'P0002');
  end if;
  if v_reply is null or char_length(v_reply) > 1000 then
    perform private.fail('invalid_reply', 'A reply is 1 to 1000 characters.');
  end if;
  update public.reviews set vendor_reply = v_reply, replied_at = now() where id = r.id returning * into r;
  return r;
end
$$;
comment on function public.reply_to_review(uuid, text) is 'The reviewed vendor''s owner answers a review publicly (1 to 1000 characters; replying again replaces the reply). Errors: review_not_found (P0002), invalid_reply.';
revoke execute on function public.reply_to_review(uuid, text) from public, anon;
grant execute on function public.reply_to_review(uuid, text) to authenticated;

create function public.admin_hide_review(p_review_id uuid, p_reason text) returns public.reviews
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  v_reason text := private.require_reason(p_reason);
  r public.reviews;
begin
  select * into r from public.reviews where id = p_review_id;
  if not found then
    perform private.fail('review_not_found', 'This review does not exist.', 'P0002');
  end if;
  perform 1 from public.vendors where id = r.vendor_id for no key update;
  update public.reviews set hidden_by_admin = true, hidden_reason = v_reason, hidden_by = admin_id, hidden_at = now()
  where id = r.id returning * into r;
  perform private.refresh_vendor_rating(r.vendor_id);
  return r;
end
$$;
comment on function public.admin_hide_review(uuid, text) is 'Admin only: hides a review from the public and from the vendor''s rating, with a reason. Errors: review_not_found (P0002), reason_required.';
revoke execute on function public.admin_hide_review(uuid, text) from public, anon;
grant execute on function public.admin_hide_review(uuid, text) to authenticated;

-- ============================================================================
-- Favourites and reorder
-- ============================================================================

create table public.favourite_vendors (
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, vendor_id)
);
comment on table public.favourite_vendors is 'Vendors a user saved. Each user sees and changes only their own.';
comment on column public.favourite_vendors.user_id is 'The user.';
comment on column public.favourite_vendors.vendor_id is 'The saved vendor.';
comment on column public.favourite_vendors.created_at is 'When it was saved.';
create index favourite_vendors_vendor_id_idx on public.favourite_vendors (vendor_id);

alter table public.favourite_vendors enable row level security;
create policy "Users read their favourites" on public.favourite_vendors
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users add favourites" on public.favourite_vendors
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "Users remove favourites" on public.favourite_vendors
  for delete to authenticated using (user_id = (select auth.uid()));
create policy "Only active users insert" on public.favourite_vendors
  as restrictive for insert to authenticated with check ((select private.is_active_user()));
create policy "Only active users delete" on public.favourite_vendors
  as restrictive for delete to authenticated using ((select private.is_active_user()));
revoke all on public.favourite_vendors from anon;
revoke update on public.favourite_vendors from authenticated;

-- The same lines again at today's prices: lines whose item or options are gone
-- or unavailable (or short of stock) are listed apart, the rest are quoted as
-- quote_order would (same fulfillment and address).
create function public.reorder(p_order_id uuid) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  o public.orders;
  lines record;
begin
  select * into o from public.orders where id = p_order_id and customer_id = uid;
  if not found then
    perform private.fail('order_not_found', 'This order does not exist.', 'P0002');
  end if;
  with old as (
    select oi.position, oi.name, oi.menu_item_id, oi.quantity,
           coalesce(array(select (m ->> 'id')::uuid from jsonb_array_elements(oi.modifiers) m), '{}') as mods
    from public.order_items oi where oi.order_id = o.id
  ),
  checked as (
    select l.*,
           case
             when mi.id is null or mi.vendor_id <> o.vendor_id then 'item_not_found'
             when not mi.is_available and coalesce(mi.stock, 1) > 0 then 'item_unavailable'
             when mi.stock < sum(l.quantity) over (partition by l.menu_item_id) then 'item_out_of_stock'
             when (select count(*) from public.modifiers m join public.modifier_groups g on g.id = m.group_id
                   where m.id = any (l.mods) and g.menu_item_id = mi.id and m.is_available) <> cardinality(l.mods) then 'invalid_modifier'
             when exists (select 1 from public.modifier_groups g
                          left join public.modifiers m on m.group_id = g.id and m.id = any (l.mods)
                          where g.menu_item_id = mi.id
                          group by g.id, g.min_select, g.max_select
                          having count(m.id) not between g.min_select and g.max_select) then 'invalid_modifier_selection'
           end as problem
    from old l left join public.menu_items mi on mi.id = l.menu_item_id
  )
  select coalesce(jsonb_agg(jsonb_build_object('menu_item_id', menu_item_id, 'quantity', quantity, 'modifier_ids', to_jsonb(mods))
                            order by position) filter (where problem is null), '[]') as available,
         coalesce(jsonb_agg(jsonb_build_object('name', name, 'menu_item_id', menu_item_id, 'quantity', quantity, 'reason', problem)
                            order by position) filter (where problem is not null), '[]') as unavailable
  into lines
  from checked;
  return jsonb_build_object(
    'vendor_id', o.vendor_id, 'fulfillment', o.fulfillment,
    'quote', case when jsonb_array_length(lines.available) > 0 then
      private.quote_view(private.price_order(uid, o.vendor_id, lines.available, o.fulfillment, o.address_id)) end,
    'unavailable', lines.unavailable);
end
$$;
comment on function public.reorder(uuid) is 'For the order''s customer: {vendor_id, fulfillment, quote, unavailable}. quote prices the order''s lines that can still be bought at today''s prices, as quote_order does (null when none can); unavailable lists the others [{name, menu_item_id, quantity, reason: item_not_found|item_unavailable|item_out_of_stock|invalid_modifier|invalid_modifier_selection}]. Errors: order_not_found (P0002), and those of quote_order (e.g. vendor_closed).';
revoke execute on function public.reorder(uuid) from public, anon;
grant execute on function public.reorder(uuid) to authenticated;

-- ============================================================================
-- Admin: the platform's money by kind, per Lagos day
-- ============================================================================

create view admin.platform_daily with (security_invoker = true) as
select (l.created_at at time zone 'Africa/Lagos')::date as day,
       sum(l.amount) filter (where l.type = 'commission')::bigint as commission,
       sum(l.amount) filter (where l.type = 'service_fee')::bigint as service_fees,
       sum(l.amount) filter (where l.type = 'small_order_fee')::bigint as small_order_fees,
       sum(l.amount) filter (where l.type = 'vat_payable')::bigint as vat_payable,
       sum(l.amount) filter (where l.type = 'discount_borne')::bigint as discounts_borne,
       sum(l.amount) filter (where l.type in ('refund_borne', 'commission_reversal', 'receivable_written_off'))::bigint as refunds_and_losses,
       sum(l.amount) filter (where l.type <> 'vat_payable')::bigint as net_revenue
from public.platform_ledger l
group by 1
order by 1 desc;
comment on view admin.platform_daily is 'Per Lagos day, the platform ledger by kind: commission, service and small-order fees, VAT payable (owed to the tax authority, not revenue), platform-funded discounts, refunds and losses borne; net_revenue is everything but VAT.';
