-- Catalogue: vendors, opening hours, menus with add-ons; public read of what is
-- active and available, owners edit their own, admins everything; nearby search.

create extension if not exists pg_trgm with schema extensions;

-- ============================================================================
-- Vendors
-- ============================================================================

create table public.vendors (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null unique default auth.uid() references public.profiles (id) on delete restrict,
  name text not null check (char_length(name) between 2 and 80),
  slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  description text check (char_length(description) <= 1000),
  phone text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  address_line text check (char_length(address_line) <= 200),
  logo_url text check (char_length(logo_url) <= 500),
  cuisines text[] not null default '{}',
  status text not null default 'pending' check (status in ('pending', 'active', 'suspended')),
  commission_rate numeric(5, 4) not null default 0.15 check (commission_rate between 0 and 1),
  lat double precision not null check (lat between -90 and 90),
  lng double precision not null check (lng between -180 and 180),
  delivery_radius_km numeric(6, 2) not null default 10 check (delivery_radius_km > 0 and delivery_radius_km <= 100),
  base_delivery_fee bigint not null default 50000 check (base_delivery_fee >= 0),
  min_order_amount bigint not null default 0 check (min_order_amount >= 0),
  prep_time_minutes integer not null default 20 check (prep_time_minutes between 1 and 240),
  currency char(3) not null default 'NGN',
  is_open boolean not null default false,
  rating numeric(3, 2) check (rating between 0 and 5),
  rating_count integer not null default 0 check (rating_count >= 0),
  search_text text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.vendors is 'Restaurants and kitchens. One per owner; created pending, approved by an admin.';
comment on column public.vendors.id is 'Vendor id.';
comment on column public.vendors.owner_id is 'The user who runs the vendor (defaults to the caller).';
comment on column public.vendors.name is 'Display name.';
comment on column public.vendors.slug is 'URL name, generated from the name at creation.';
comment on column public.vendors.description is 'Short description shown to customers.';
comment on column public.vendors.phone is 'Contact phone in E.164 form.';
comment on column public.vendors.address_line is 'Street address of the kitchen.';
comment on column public.vendors.logo_url is 'Logo image URL.';
comment on column public.vendors.cuisines is 'Cuisine tags for search, e.g. {Nigerian,Grills}.';
comment on column public.vendors.status is 'pending (awaiting approval), active (listed) or suspended; set by admins only.';
comment on column public.vendors.commission_rate is 'Platform commission on the subtotal (0.15 = 15%); set by admins only.';
comment on column public.vendors.lat is 'Latitude of the kitchen.';
comment on column public.vendors.lng is 'Longitude of the kitchen.';
comment on column public.vendors.delivery_radius_km is 'Farthest delivery distance, in km (straight line).';
comment on column public.vendors.base_delivery_fee is 'Delivery fee in minor units, charged on delivery orders.';
comment on column public.vendors.min_order_amount is 'Smallest subtotal accepted, in minor units.';
comment on column public.vendors.prep_time_minutes is 'Typical preparation time.';
comment on column public.vendors.currency is 'Currency of the menu prices (NGN).';
comment on column public.vendors.is_open is 'The owner''s open switch; with opening hours, the vendor is open only when on and inside today''s hours.';
comment on column public.vendors.rating is 'Average rating, 0 to 5; set by the platform.';
comment on column public.vendors.rating_count is 'Number of ratings behind the average.';
comment on column public.vendors.search_text is 'Lower-cased name and cuisines, maintained by a trigger, indexed for search.';
comment on column public.vendors.created_at is 'When the vendor signed up.';
comment on column public.vendors.updated_at is 'When the vendor last changed.';

create index vendors_status_idx on public.vendors (status);
-- Nearby search: a bounding box on this index, then the exact distance.
create index vendors_location_idx on public.vendors using gist (point(lng, lat));
create index vendors_search_text_idx on public.vendors using gin (search_text extensions.gin_trgm_ops);

alter table public.vendors enable row level security;
create policy "Anyone reads active vendors" on public.vendors
  for select to anon using (status = 'active');
create policy "Users read active vendors and their own, admins all" on public.vendors
  for select to authenticated
  using (status = 'active' or owner_id = (select auth.uid()) or (select private.is_admin()));
create policy "Users register their own vendor" on public.vendors
  for insert to authenticated with check (owner_id = (select auth.uid()));
create policy "Owners and admins change a vendor" on public.vendors
  for update to authenticated
  using (owner_id = (select auth.uid()) or (select private.is_admin()))
  with check (owner_id = (select auth.uid()) or (select private.is_admin()));
create policy "Admins delete vendors" on public.vendors
  for delete to authenticated using ((select private.is_admin()));

-- Columns that only the platform sets. Invoker: inside the platform's definer
-- functions current_user is their owner and the change is allowed. The menu
-- currency is the platform's too: wallets are NGN, so a vendor must not price
-- its menu (and so its orders) in another currency by itself.
create function private.vendors_guard() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  privileged boolean := current_user not in ('anon', 'authenticated') or private.is_admin();
begin
  if tg_op = 'INSERT' then
    if not privileged then
      new.status := 'pending';
      new.commission_rate := 0.15;
      new.rating := null;
      new.rating_count := 0;
      new.currency := 'NGN';
    end if;
    if new.slug is null then
      new.slug := trim(both '-' from regexp_replace(lower(new.name), '[^a-z0-9]+', '-', 'g')) || '-' || substr(replace(new.id::text, '-', ''), 1, 6);
    end if;
  elsif not privileged and (
    new.status is distinct from old.status or new.commission_rate is distinct from old.commission_rate
    or new.owner_id is distinct from old.owner_id or new.slug is distinct from old.slug
    or new.rating is distinct from old.rating or new.rating_count is distinct from old.rating_count
    or new.currency is distinct from old.currency
  ) then
    perform private.fail('protected_column', 'Only the platform may change status, commission, owner, slug, rating or currency.', '42501');
  end if;
  new.search_text := lower(new.name || ' ' || array_to_string(new.cuisines, ' '));
  new.updated_at := now();
  return new;
end
$$;
revoke execute on function private.vendors_guard() from public;
grant execute on function private.vendors_guard() to authenticated, service_role;

create trigger vendors_guard
  before insert or update on public.vendors
  for each row execute function private.vendors_guard();

-- Owning a vendor makes a customer a vendor user.
create function private.vendors_promote_owner() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set role = 'vendor' where id = new.owner_id and role = 'customer';
  return new;
end
$$;
revoke execute on function private.vendors_promote_owner() from public, anon, authenticated;

create trigger vendors_promote_owner
  after insert on public.vendors
  for each row execute function private.vendors_promote_owner();

-- The vendors the caller owns, for policies on catalogue tables. Definer so the
-- policies do not re-enter the vendors policies for every row. plpgsql, like
-- every per-row helper (see private.is_admin).
create function private.owned_vendor_ids() returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query select v.id from public.vendors v where v.owner_id = auth.uid();
end
$$;
revoke execute on function private.owned_vendor_ids() from public;
grant execute on function private.owned_vendor_ids() to authenticated, service_role;

-- ============================================================================
-- Opening hours
-- ============================================================================

create table public.vendor_hours (
  id uuid primary key default gen_random_uuid(),
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  weekday smallint not null check (weekday between 0 and 6),
  opens_at time not null,
  closes_at time not null,
  created_at timestamptz not null default now(),
  check (opens_at < closes_at),
  unique (vendor_id, weekday, opens_at)
);
comment on table public.vendor_hours is 'Opening hours in Africa/Lagos local time; several rows per day allowed (split shifts); past midnight is two rows. A vendor without rows is open whenever is_open is on.';
comment on column public.vendor_hours.id is 'Row id.';
comment on column public.vendor_hours.vendor_id is 'The vendor.';
comment on column public.vendor_hours.weekday is 'Day of week, 0 = Sunday ... 6 = Saturday (Africa/Lagos).';
comment on column public.vendor_hours.opens_at is 'Opening time, local.';
comment on column public.vendor_hours.closes_at is 'Closing time, local (24:00 for midnight).';
comment on column public.vendor_hours.created_at is 'When the row was added.';

create index vendor_hours_vendor_id_weekday_idx on public.vendor_hours (vendor_id, weekday);

-- Whether a vendor takes orders right now, from the Lagos local time computed
-- once. Also a computed column for the REST API (`select=*,is_open_now`).
create function public.is_open_now(v public.vendors) returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  lagos timestamp := now() at time zone 'Africa/Lagos';
begin
  return v.status = 'active' and v.is_open and (
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
comment on function public.is_open_now(public.vendors) is 'True when the vendor is active, its switch is on and (if it has hours) now is inside today''s hours in Africa/Lagos.';

-- ============================================================================
-- Menu
-- ============================================================================

create table public.menu_categories (
  id uuid primary key default gen_random_uuid(),
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 60),
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  unique (id, vendor_id)
);
comment on table public.menu_categories is 'Sections of a vendor''s menu (Rice, Soups, Grills...).';
comment on column public.menu_categories.id is 'Category id.';
comment on column public.menu_categories.vendor_id is 'The vendor.';
comment on column public.menu_categories.name is 'Section name.';
comment on column public.menu_categories.sort_order is 'Display order, ascending.';
comment on column public.menu_categories.created_at is 'When the category was added.';
create index menu_categories_vendor_id_idx on public.menu_categories (vendor_id);

create table public.menu_items (
  id uuid primary key default gen_random_uuid(),
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  category_id uuid,
  name text not null check (char_length(name) between 1 and 100),
  description text check (char_length(description) <= 1000),
  price bigint not null check (price > 0),
  image_url text check (char_length(image_url) <= 500),
  is_available boolean not null default true,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, vendor_id),
  -- The category must belong to the same vendor.
  foreign key (category_id, vendor_id) references public.menu_categories (id, vendor_id) on delete set null (category_id)
);
comment on table public.menu_items is 'Dishes a vendor sells. Orders snapshot name and price, so edits never change past orders.';
comment on column public.menu_items.id is 'Item id.';
comment on column public.menu_items.vendor_id is 'The vendor.';
comment on column public.menu_items.category_id is 'Menu section (same vendor), optional.';
comment on column public.menu_items.name is 'Dish name.';
comment on column public.menu_items.description is 'Dish description.';
comment on column public.menu_items.price is 'Price in minor units (kobo).';
comment on column public.menu_items.image_url is 'Photo URL.';
comment on column public.menu_items.is_available is 'False when sold out or hidden; unavailable items cannot be ordered.';
comment on column public.menu_items.sort_order is 'Display order within the category.';
comment on column public.menu_items.created_at is 'When the item was added.';
comment on column public.menu_items.updated_at is 'When the item last changed.';
create index menu_items_vendor_id_idx on public.menu_items (vendor_id);
create index menu_items_category_id_vendor_id_idx on public.menu_items (category_id, vendor_id);

create table public.modifier_groups (
  id uuid primary key default gen_random_uuid(),
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  menu_item_id uuid not null,
  name text not null check (char_length(name) between 1 and 60),
  min_select integer not null default 0 check (min_select >= 0),
  max_select integer not null default 1 check (max_select >= 1),
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  check (min_select <= max_select),
  unique (id, vendor_id),
  foreign key (menu_item_id, vendor_id) references public.menu_items (id, vendor_id) on delete cascade
);
comment on table public.modifier_groups is 'A choice attached to a menu item (Protein, Extras...), with how many options must and may be picked.';
comment on column public.modifier_groups.id is 'Group id.';
comment on column public.modifier_groups.vendor_id is 'The vendor (same as the item''s).';
comment on column public.modifier_groups.menu_item_id is 'The item this choice belongs to.';
comment on column public.modifier_groups.name is 'Group name shown to customers.';
comment on column public.modifier_groups.min_select is 'Fewest options to pick (1 or more = required).';
comment on column public.modifier_groups.max_select is 'Most options that may be picked.';
comment on column public.modifier_groups.sort_order is 'Display order.';
comment on column public.modifier_groups.created_at is 'When the group was added.';
create index modifier_groups_menu_item_id_vendor_id_idx on public.modifier_groups (menu_item_id, vendor_id);
create index modifier_groups_vendor_id_idx on public.modifier_groups (vendor_id);

create table public.modifiers (
  id uuid primary key default gen_random_uuid(),
  vendor_id uuid not null references public.vendors (id) on delete cascade,
  group_id uuid not null,
  name text not null check (char_length(name) between 1 and 60),
  price_delta bigint not null default 0 check (price_delta >= 0),
  is_available boolean not null default true,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  foreign key (group_id, vendor_id) references public.modifier_groups (id, vendor_id) on delete cascade
);
comment on table public.modifiers is 'Options within a modifier group (Chicken, Extra plantain...), each adding price_delta to the item.';
comment on column public.modifiers.id is 'Option id.';
comment on column public.modifiers.vendor_id is 'The vendor (same as the group''s).';
comment on column public.modifiers.group_id is 'The group.';
comment on column public.modifiers.name is 'Option name.';
comment on column public.modifiers.price_delta is 'Added to the item price, in minor units.';
comment on column public.modifiers.is_available is 'False when the option is sold out.';
comment on column public.modifiers.sort_order is 'Display order.';
comment on column public.modifiers.created_at is 'When the option was added.';
create index modifiers_group_id_vendor_id_idx on public.modifiers (group_id, vendor_id);
create index modifiers_vendor_id_idx on public.modifiers (vendor_id);

create trigger menu_items_touch_updated_at
  before update on public.menu_items
  for each row execute function private.touch_updated_at();

-- Same policy shape on every catalogue table: the public sees what belongs to
-- active vendors (and is available), owners manage their own, admins all.
alter table public.vendor_hours enable row level security;
create policy "Anyone reads hours of active vendors" on public.vendor_hours
  for select to anon using (exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'));
create policy "Users read hours of active vendors, owners and admins all" on public.vendor_hours
  for select to authenticated using (
    exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active')
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins add hours" on public.vendor_hours
  for insert to authenticated with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins change hours" on public.vendor_hours
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins delete hours" on public.vendor_hours
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));

alter table public.menu_categories enable row level security;
create policy "Anyone reads categories of active vendors" on public.menu_categories
  for select to anon using (exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'));
create policy "Users read categories of active vendors, owners and admins all" on public.menu_categories
  for select to authenticated using (
    exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active')
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins add categories" on public.menu_categories
  for insert to authenticated with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins change categories" on public.menu_categories
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins delete categories" on public.menu_categories
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));

alter table public.menu_items enable row level security;
create policy "Anyone reads available items of active vendors" on public.menu_items
  for select to anon using (is_available and exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'));
create policy "Users read available items, owners and admins all" on public.menu_items
  for select to authenticated using (
    (is_available and exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'))
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins add items" on public.menu_items
  for insert to authenticated with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins change items" on public.menu_items
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins delete items" on public.menu_items
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));

alter table public.modifier_groups enable row level security;
create policy "Anyone reads modifier groups of active vendors" on public.modifier_groups
  for select to anon using (exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'));
create policy "Users read modifier groups of active vendors, owners and admins all" on public.modifier_groups
  for select to authenticated using (
    exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active')
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins add modifier groups" on public.modifier_groups
  for insert to authenticated with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins change modifier groups" on public.modifier_groups
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins delete modifier groups" on public.modifier_groups
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));

alter table public.modifiers enable row level security;
create policy "Anyone reads available modifiers of active vendors" on public.modifiers
  for select to anon using (is_available and exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'));
create policy "Users read available modifiers, owners and admins all" on public.modifiers
  for select to authenticated using (
    (is_available and exists (select 1 from public.vendors v where v.id = vendor_id and v.status = 'active'))
    or vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins add modifiers" on public.modifiers
  for insert to authenticated with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins change modifiers" on public.modifiers
  for update to authenticated
  using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()))
  with check (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));
create policy "Owners and admins delete modifiers" on public.modifiers
  for delete to authenticated using (vendor_id in (select private.owned_vendor_ids()) or (select private.is_admin()));

-- ============================================================================
-- Nearby search
-- ============================================================================

-- Great-circle distance in km (haversine on a 6371 km sphere).
create function private.distance_km(lat1 double precision, lng1 double precision, lat2 double precision, lng2 double precision)
returns double precision
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  return 2 * 6371 * asin(sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2)
    + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lng2 - lng1) / 2), 2)
  ));
end
$$;
revoke execute on function private.distance_km(double precision, double precision, double precision, double precision) from public;
grant execute on function private.distance_km(double precision, double precision, double precision, double precision) to anon, authenticated, service_role;

-- Active vendors within p_radius_km of a point, nearest first, optionally
-- matching a name or cuisine. Invoker: what the caller may read is what RLS
-- shows. The bounding box uses vendors_location_idx; the distance is exact.
create function public.nearby_vendors(p_lat double precision, p_lng double precision, p_radius_km double precision default 10, p_search text default null)
returns table (
  id uuid, name text, slug text, description text, logo_url text, cuisines text[], lat double precision, lng double precision,
  delivery_radius_km numeric, base_delivery_fee bigint, min_order_amount bigint, prep_time_minutes integer,
  rating numeric, rating_count integer, currency char(3), distance_km double precision, is_open_now boolean
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
  dlat := p_radius_km / 111.045;
  dlng := p_radius_km / (111.045 * greatest(cos(radians(p_lat)), 0.01));
  if nullif(trim(p_search), '') is not null then
    pattern := '%' || replace(replace(replace(lower(trim(p_search)), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;
  return query
  select v.id, v.name, v.slug, v.description, v.logo_url, v.cuisines, v.lat, v.lng,
         v.delivery_radius_km, v.base_delivery_fee, v.min_order_amount, v.prep_time_minutes,
         v.rating, v.rating_count, v.currency, d.km, public.is_open_now(v)
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
comment on function public.nearby_vendors(double precision, double precision, double precision, text) is 'Active vendors within p_radius_km (default 10, max 100) of a point, nearest first, with distance_km and is_open_now; p_search matches name or cuisine. At most 100 rows.';
