-- Orders: server-side pricing (quote_order, place_order), the status lifecycle
-- (update_order_status, cancel_order, expire_unpaid_orders), the money moves
-- that go with it, and the platform's commission ledger.

create sequence public.order_number_seq;
comment on sequence public.order_number_seq is 'Source of human order numbers (RB-000123).';
revoke all on sequence public.order_number_seq from anon, authenticated;

create table public.orders (
  id uuid primary key default gen_random_uuid(),
  number text not null unique default 'RB-' || lpad(nextval('public.order_number_seq')::text, 6, '0'),
  customer_id uuid not null references public.profiles (id) on delete restrict,
  vendor_id uuid not null references public.vendors (id) on delete restrict,
  status text not null check (status in ('awaiting_payment', 'new', 'preparing', 'ready', 'out_for_delivery', 'completed', 'cancelled')),
  fulfillment text not null check (fulfillment in ('delivery', 'pickup')),
  address_id uuid references public.addresses (id) on delete set null,
  delivery_address jsonb,
  note text check (char_length(note) <= 500),
  currency char(3) not null,
  subtotal bigint not null check (subtotal > 0),
  delivery_fee bigint not null check (delivery_fee >= 0),
  total bigint not null check (total = subtotal + delivery_fee),
  commission_rate numeric(5, 4) not null,
  commission bigint not null check (commission between 0 and subtotal),
  payment_method text not null check (payment_method in ('wallet', 'paystack', 'stripe')),
  payment_status text not null check (payment_status in ('pending', 'paid', 'failed', 'refunded', 'cancelled')),
  idempotency_key text check (char_length(idempotency_key) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  accepted_at timestamptz,
  ready_at timestamptz,
  out_for_delivery_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  cancel_reason text check (char_length(cancel_reason) <= 500),
  cancelled_by uuid references public.profiles (id) on delete set null,
  cancelled_by_role text check (cancelled_by_role in ('customer', 'vendor', 'admin', 'system')),
  unique (customer_id, idempotency_key),
  check ((fulfillment = 'delivery') = (delivery_address is not null))
);
comment on table public.orders is 'Customer orders: one vendor each, priced in SQL from current prices. Written only by the order functions.';
comment on column public.orders.id is 'Order id.';
comment on column public.orders.number is 'Human order number, e.g. RB-000123.';
comment on column public.orders.customer_id is 'The customer who placed the order.';
comment on column public.orders.vendor_id is 'The vendor preparing it.';
comment on column public.orders.status is 'awaiting_payment, new, preparing, ready, out_for_delivery, completed or cancelled.';
comment on column public.orders.fulfillment is 'delivery or pickup.';
comment on column public.orders.address_id is 'The address chosen (null for pickup, or once the address is deleted).';
comment on column public.orders.delivery_address is 'Snapshot of the delivery address at order time (label, line1, city, state, country, lat, lng, instructions).';
comment on column public.orders.note is 'Customer note to the vendor.';
comment on column public.orders.currency is 'Currency of all amounts (NGN).';
comment on column public.orders.subtotal is 'Sum of (unit price + modifiers) x quantity, minor units.';
comment on column public.orders.delivery_fee is 'The vendor''s delivery fee for delivery, 0 for pickup.';
comment on column public.orders.total is 'subtotal + delivery_fee: what the customer pays.';
comment on column public.orders.commission_rate is 'The vendor''s commission rate when the order was placed.';
comment on column public.orders.commission is 'round(subtotal x commission_rate): the platform''s share, booked on completion.';
comment on column public.orders.payment_method is 'wallet, paystack or stripe.';
comment on column public.orders.payment_status is 'pending, paid, failed (retry allowed), refunded, or cancelled (never collected); separate from the order status.';
comment on column public.orders.idempotency_key is 'Client key: placing again with the same key returns this order.';
comment on column public.orders.created_at is 'When the order was placed.';
comment on column public.orders.updated_at is 'When the order last changed.';
comment on column public.orders.paid_at is 'When payment was received.';
comment on column public.orders.accepted_at is 'When the vendor accepted (preparing).';
comment on column public.orders.ready_at is 'When the food was ready.';
comment on column public.orders.out_for_delivery_at is 'When the rider left.';
comment on column public.orders.completed_at is 'When the order was delivered or picked up.';
comment on column public.orders.cancelled_at is 'When the order was cancelled.';
comment on column public.orders.cancel_reason is 'Why it was cancelled.';
comment on column public.orders.cancelled_by is 'Who cancelled (null for the system).';
comment on column public.orders.cancelled_by_role is 'customer, vendor, admin or system (e.g. payment timeout).';

create index orders_customer_id_created_at_idx on public.orders (customer_id, created_at desc);
create index orders_vendor_id_created_at_idx on public.orders (vendor_id, created_at desc);
create index orders_address_id_idx on public.orders (address_id);
create index orders_cancelled_by_idx on public.orders (cancelled_by);
create index orders_awaiting_payment_idx on public.orders (created_at) where status = 'awaiting_payment';
create index orders_status_idx on public.orders (status);

create table public.order_items (
  id uuid primary key default gen_random_uuid(),
  order_id uuid not null references public.orders (id) on delete cascade,
  menu_item_id uuid references public.menu_items (id) on delete set null,
  name text not null,
  unit_price bigint not null check (unit_price > 0),
  modifiers jsonb not null default '[]',
  modifiers_total bigint not null default 0 check (modifiers_total >= 0),
  quantity integer not null check (quantity between 1 and 50),
  line_total bigint not null check (line_total = (unit_price + modifiers_total) * quantity),
  position integer not null
);
comment on table public.order_items is 'Order lines with the item name, price and chosen modifiers as they were when ordered.';
comment on column public.order_items.id is 'Line id.';
comment on column public.order_items.order_id is 'The order.';
comment on column public.order_items.menu_item_id is 'The menu item (null once deleted from the menu).';
comment on column public.order_items.name is 'Item name at order time.';
comment on column public.order_items.unit_price is 'Item price at order time, minor units.';
comment on column public.order_items.modifiers is 'Chosen modifiers at order time: [{id, name, group, price_delta}].';
comment on column public.order_items.modifiers_total is 'Sum of the chosen modifiers'' price deltas.';
comment on column public.order_items.quantity is 'How many (1 to 50).';
comment on column public.order_items.line_total is '(unit_price + modifiers_total) x quantity.';
comment on column public.order_items.position is 'Line order as submitted.';
create index order_items_order_id_idx on public.order_items (order_id);
create index order_items_menu_item_id_idx on public.order_items (menu_item_id);

create table public.order_events (
  id bigint generated always as identity primary key,
  order_id uuid not null references public.orders (id) on delete cascade,
  from_status text,
  to_status text not null,
  actor_id uuid references public.profiles (id) on delete set null,
  actor_role text not null check (actor_role in ('customer', 'vendor', 'admin', 'system')),
  reason text,
  created_at timestamptz not null default now()
);
comment on table public.order_events is 'Status history of each order: from, to, who, why, when.';
comment on column public.order_events.id is 'Event id (increasing).';
comment on column public.order_events.order_id is 'The order.';
comment on column public.order_events.from_status is 'Status before (null when the order was created).';
comment on column public.order_events.to_status is 'Status after.';
comment on column public.order_events.actor_id is 'The user who made the change (null for the system).';
comment on column public.order_events.actor_role is 'customer, vendor, admin or system.';
comment on column public.order_events.reason is 'Reason given (required for vendor cancels and admin changes).';
comment on column public.order_events.created_at is 'When it happened.';
create index order_events_order_id_idx on public.order_events (order_id, id);
create index order_events_actor_id_idx on public.order_events (actor_id);

-- The platform's own account: commission per completed order. Together with
-- wallet_transactions and payments it makes money conservation checkable
-- (admin.money_conservation).
create table public.platform_ledger (
  id uuid primary key default gen_random_uuid(),
  type text not null check (type in ('commission')),
  amount bigint not null,
  order_id uuid references public.orders (id) on delete restrict,
  idempotency_key text not null unique,
  created_at timestamptz not null default now()
);
comment on table public.platform_ledger is 'Immutable ledger of the platform''s own money (commission on completed orders). Admin read only.';
comment on column public.platform_ledger.id is 'Row id.';
comment on column public.platform_ledger.type is 'commission.';
comment on column public.platform_ledger.amount is 'Signed amount in minor units.';
comment on column public.platform_ledger.order_id is 'The order it comes from.';
comment on column public.platform_ledger.idempotency_key is 'Unique: booking the same commission twice is impossible.';
comment on column public.platform_ledger.created_at is 'When it was booked.';
create index platform_ledger_order_id_idx on public.platform_ledger (order_id);

alter table public.wallet_transactions
  add constraint wallet_transactions_order_id_fkey foreign key (order_id) references public.orders (id) on delete restrict;

-- Orders are written only by the functions below.
revoke insert, update, delete, truncate on public.orders, public.order_items, public.order_events, public.platform_ledger from anon, authenticated, service_role;
revoke select on public.orders, public.order_items, public.order_events, public.platform_ledger from anon;

-- Which vendor rows the caller owns is needed per order row: a definer helper
-- keeps the orders policy from re-entering the vendors policies.
alter table public.orders enable row level security;
create policy "Customers, vendor owners and admins read orders" on public.orders
  for select to authenticated using (
    customer_id = (select auth.uid())
    or vendor_id in (select private.owned_vendor_ids())
    or (select private.is_admin())
  );

alter table public.order_items enable row level security;
create policy "Who reads the order reads its items" on public.order_items
  for select to authenticated using (order_id in (select o.id from public.orders o));

alter table public.order_events enable row level security;
create policy "Who reads the order reads its history" on public.order_events
  for select to authenticated using (order_id in (select o.id from public.orders o));

alter table public.platform_ledger enable row level security;
create policy "Admins read the platform ledger" on public.platform_ledger
  for select to authenticated using ((select private.is_admin()));

-- ============================================================================
-- Pricing
-- ============================================================================

-- Prices an order from current catalogue rows and checks every rule that does
-- not depend on payment. Returns {vendor_id, currency, fulfillment, subtotal,
-- delivery_fee, total, commission_rate, commission, address_id,
-- delivery_address, items: [...]}. Raises a coded error on the first problem.
-- All lines are priced in one query, whatever their number.
create function private.price_order(p_customer_id uuid, p_vendor_id uuid, p_items jsonb, p_fulfillment text, p_address_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  v public.vendors;
  a public.addresses;
  shape record;
  priced record;
  fee bigint := 0;
  distance double precision;
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
           and coalesce(jsonb_typeof(e -> 'menu_item_id') = 'string' and (e ->> 'menu_item_id') ~ uuid_re, false)
           and coalesce(jsonb_typeof(e -> 'modifier_ids'), 'null') in ('array', 'null')
           and (jsonb_typeof(e -> 'modifier_ids') is distinct from 'array' or not exists (
                  select 1 from jsonb_array_elements(e -> 'modifier_ids') m
                  where jsonb_typeof(m) <> 'string' or (m #>> '{}') !~ uuid_re)) as ok_shape,
           coalesce(jsonb_typeof(e -> 'quantity') = 'number' and (e ->> 'quantity') ~ '^[0-9]{1,3}$'
                    and (e ->> 'quantity')::integer between 1 and 50, false) as ok_qty
    from jsonb_array_elements(p_items) e
  ) s;
  if shape.bad_shape then
    perform private.fail('invalid_items', 'Each item needs a menu_item_id (uuid) and modifier_ids as a list of uuids.');
  end if;
  if shape.bad_qty then
    perform private.fail('invalid_quantity', 'Each quantity must be a whole number from 1 to 50.');
  end if;

  select * into v from public.vendors where id = p_vendor_id;
  if not found then
    perform private.fail('vendor_not_found', 'This vendor does not exist.', 'P0002');
  end if;
  if v.status <> 'active' then
    perform private.fail('vendor_unavailable', format('%s is not taking orders on Rambini.', v.name));
  end if;
  if not public.is_open_now(v) then
    perform private.fail('vendor_closed', format('%s is closed right now.', v.name));
  end if;

  -- Every line priced in one query; the first problem (in line order) wins.
  with req as (
    select t.pos::integer as pos, (t.e ->> 'menu_item_id')::uuid as item_id, (t.e ->> 'quantity')::integer as qty,
           case when jsonb_typeof(t.e -> 'modifier_ids') = 'array'
                then array(select x::uuid from jsonb_array_elements_text(t.e -> 'modifier_ids') x) else '{}'::uuid[] end as mods
    from jsonb_array_elements(p_items) with ordinality as t (e, pos)
  ),
  lines as (
    select l.pos, l.qty, mi.id, mi.name, mi.price, m.mod_json, m.mod_total,
           case
             when mi.id is null then 'item_not_found'
             when mi.vendor_id <> v.id then 'mixed_vendors'
             when not mi.is_available then 'item_unavailable'
             when cardinality(l.mods) <> (select count(distinct x) from unnest(l.mods) x) then 'invalid_modifier'
             when m.mod_count <> cardinality(l.mods) then 'invalid_modifier'
             when g.name is not null then 'invalid_modifier_selection'
           end as err,
           case
             when mi.id is null then 'An item in the order does not exist.'
             when mi.vendor_id <> v.id then 'All items in an order must come from the same vendor.'
             when not mi.is_available then format('%s is not available right now.', mi.name)
             when cardinality(l.mods) <> (select count(distinct x) from unnest(l.mods) x) then format('An option was chosen twice for %s.', mi.name)
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
         jsonb_agg(jsonb_build_object(
           'menu_item_id', id, 'name', name, 'unit_price', price, 'modifiers', mod_json, 'modifiers_total', mod_total,
           'quantity', qty, 'line_total', (price + mod_total) * qty, 'position', pos) order by pos) as items
  into priced
  from lines;
  if priced.err is not null then
    perform private.fail(priced.err, priced.detail, case when priced.err = 'item_not_found' then 'P0002' else 'P0001' end);
  end if;

  if priced.subtotal < v.min_order_amount then
    perform private.fail('below_min_order', format('%s needs a subtotal of at least %s kobo.', v.name, v.min_order_amount));
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
    fee := v.base_delivery_fee;
  end if;

  return jsonb_build_object(
    'vendor_id', v.id, 'currency', v.currency, 'fulfillment', p_fulfillment,
    'subtotal', priced.subtotal, 'delivery_fee', fee, 'total', priced.subtotal + fee,
    'commission_rate', v.commission_rate, 'commission', round(priced.subtotal * v.commission_rate)::bigint,
    'address_id', case when p_fulfillment = 'delivery' then a.id end,
    'delivery_address', case when p_fulfillment = 'delivery' then jsonb_build_object(
      'label', a.label, 'line1', a.line1, 'city', a.city, 'state', a.state, 'country', a.country,
      'lat', a.lat, 'lng', a.lng, 'instructions', a.instructions) end,
    'items', priced.items);
end
$$;
revoke execute on function private.price_order(uuid, uuid, jsonb, text, uuid) from public, anon, authenticated, service_role;

-- The caller as an active user, or a coded error.
create function private.require_active_user() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  st text;
begin
  if uid is null then
    perform private.fail('not_authenticated', 'Sign in first.', '42501');
  end if;
  select status into st from public.profiles where id = uid;
  if st is null then
    perform private.fail('not_authenticated', 'This account does not exist.', '42501');
  elsif st <> 'active' then
    perform private.fail('account_suspended', 'This account is suspended.', '42501');
  end if;
  return uid;
end
$$;
revoke execute on function private.require_active_user() from public, anon, authenticated, service_role;

create function public.quote_order(p_vendor_id uuid, p_items jsonb, p_fulfillment text, p_address_id uuid default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  q jsonb := private.price_order(private.require_active_user(), p_vendor_id, p_items, p_fulfillment, p_address_id);
begin
  return jsonb_build_object(
    'subtotal', q -> 'subtotal', 'delivery_fee', q -> 'delivery_fee', 'total', q -> 'total',
    'currency', q -> 'currency', 'items', q -> 'items');
end
$$;
comment on function public.quote_order(uuid, jsonb, text, uuid) is 'Prices an order exactly as place_order would, without writing: {subtotal, delivery_fee, total, currency, items}. Same errors as place_order.';
revoke execute on function public.quote_order(uuid, jsonb, text, uuid) from public, anon;
grant execute on function public.quote_order(uuid, jsonb, text, uuid) to authenticated, service_role;

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
  p_idempotency_key text default null
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

  q := private.price_order(uid, p_vendor_id, p_items, p_fulfillment, p_address_id);
  by_wallet := p_payment_method = 'wallet';

  -- A concurrent call with the same key waits on the unique index here and then
  -- returns the winner's order instead of charging twice.
  insert into public.orders (
    customer_id, vendor_id, status, fulfillment, address_id, delivery_address, note, currency,
    subtotal, delivery_fee, total, commission_rate, commission, payment_method, payment_status, idempotency_key, paid_at
  ) values (
    uid, p_vendor_id, case when by_wallet then 'new' else 'awaiting_payment' end, p_fulfillment,
    (q ->> 'address_id')::uuid, nullif(q -> 'delivery_address', 'null'::jsonb), nullif(trim(p_note), ''), q ->> 'currency',
    (q ->> 'subtotal')::bigint, (q ->> 'delivery_fee')::bigint, (q ->> 'total')::bigint,
    (q ->> 'commission_rate')::numeric, (q ->> 'commission')::bigint, p_payment_method,
    case when by_wallet then 'paid' else 'pending' end, p_idempotency_key,
    case when by_wallet then now() end
  )
  on conflict (customer_id, idempotency_key) do nothing
  returning * into o;
  if not found then
    select * into o from public.orders where customer_id = uid and idempotency_key = p_idempotency_key;
    return o;
  end if;

  insert into public.order_items (order_id, menu_item_id, name, unit_price, modifiers, modifiers_total, quantity, line_total, position)
  select o.id, i.menu_item_id, i.name, i.unit_price, i.modifiers, i.modifiers_total, i.quantity, i.line_total, i.position
  from jsonb_to_recordset(q -> 'items') as i (menu_item_id uuid, name text, unit_price bigint, modifiers jsonb,
                                              modifiers_total bigint, quantity integer, line_total bigint, position integer);

  insert into public.order_events (order_id, from_status, to_status, actor_id, actor_role)
  values (o.id, null, o.status, uid, 'customer');

  if by_wallet then
    perform private.post_wallet_entry(uid, -o.total, 'order_payment', o.number, 'order:' || o.id || ':payment', o.id);
  end if;
  return o;
end
$$;
comment on function public.place_order(uuid, jsonb, text, uuid, text, text, text) is 'Places an order priced in SQL. Wallet: debited at once, status new/paid. paystack|stripe: status awaiting_payment/pending until confirm_payment. The same p_idempotency_key returns the same order. Errors (message): invalid_items, invalid_quantity, item_not_found, item_unavailable, mixed_vendors, invalid_modifier, invalid_modifier_selection, vendor_not_found, vendor_unavailable, vendor_closed, below_min_order, address_required, address_not_found, outside_delivery_radius, invalid_payment_method, insufficient_funds, account_suspended.';
revoke execute on function public.place_order(uuid, jsonb, text, uuid, text, text, text) from public, anon;
grant execute on function public.place_order(uuid, jsonb, text, uuid, text, text, text) to authenticated, service_role;

-- ============================================================================
-- Lifecycle
-- ============================================================================

-- The lifecycle graph, independent of who asks.
create function private.order_transition_valid(p_from text, p_to text, p_fulfillment text) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case p_from
    when 'awaiting_payment' then p_to in ('new', 'cancelled')
    when 'new' then p_to in ('preparing', 'cancelled')
    when 'preparing' then p_to in ('ready', 'cancelled')
    when 'ready' then (p_to = 'out_for_delivery' and p_fulfillment = 'delivery') or (p_to = 'completed' and p_fulfillment = 'pickup')
    when 'out_for_delivery' then p_to = 'completed'
    else false
  end;
end
$$;
revoke execute on function private.order_transition_valid(text, text, text) from public, anon, authenticated, service_role;

-- Applies a transition to a locked order with its money effects, history row
-- and stage timestamp. p_refund_to_wallet=false when the provider already
-- returned the money to the card.
create function private.apply_order_transition(
  o public.orders, p_to text, p_reason text, p_actor_id uuid, p_actor_role text, p_refund_to_wallet boolean default true
) returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid;
  earning bigint;
  pay_status text := o.payment_status;
  from_status text := o.status;
begin
  if p_to = 'cancelled' then
    if o.payment_status = 'paid' then
      if p_refund_to_wallet then
        perform private.post_wallet_entry(o.customer_id, o.total, 'order_refund', o.number, 'order:' || o.id || ':refund', o.id);
      end if;
      pay_status := 'refunded';
    elsif o.payment_status in ('pending', 'failed') then
      pay_status := 'cancelled';
    end if;
  elsif p_to = 'completed' then
    select owner_id into owner from public.vendors where id = o.vendor_id;
    earning := o.subtotal + o.delivery_fee - o.commission;
    if earning > 0 then
      perform private.post_wallet_entry(owner, earning, 'order_earning', o.number, 'order:' || o.id || ':earning', o.id);
    end if;
    if o.commission > 0 then
      insert into public.platform_ledger (type, amount, order_id, idempotency_key)
      values ('commission', o.commission, o.id, 'order:' || o.id || ':commission');
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

  insert into public.order_events (order_id, from_status, to_status, actor_id, actor_role, reason)
  values (o.id, from_status, p_to, p_actor_id, p_actor_role, p_reason);
  return o;
end
$$;
revoke execute on function private.apply_order_transition(public.orders, text, text, uuid, text, boolean) from public, anon, authenticated, service_role;

create function public.update_order_status(p_order_id uuid, p_status text, p_reason text default null)
returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  o public.orders;
  reason text := nullif(trim(p_reason), '');
  as_customer boolean;
  as_vendor boolean;
  as_admin boolean := private.is_admin();
  actor_role text;
begin
  select * into o from public.orders where id = p_order_id for update;
  if found then
    as_customer := o.customer_id = uid;
    as_vendor := exists (select 1 from public.vendors v where v.id = o.vendor_id and v.owner_id = uid);
  end if;
  if not found or not (as_customer or as_vendor or as_admin) then
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
  if reason is null and (actor_role = 'admin' or (actor_role = 'vendor' and p_status = 'cancelled')) then
    perform private.fail('reason_required', 'Give a reason for this change.');
  end if;
  if char_length(reason) > 500 then
    perform private.fail('invalid_reason', 'The reason must be at most 500 characters.');
  end if;
  return private.apply_order_transition(o, p_status, reason, uid, actor_role);
end
$$;
comment on function public.update_order_status(uuid, text, text) is 'Moves an order along its lifecycle. Customer: cancel in awaiting_payment|new. Vendor owner: new->preparing->ready->out_for_delivery (delivery) or completed (pickup), out_for_delivery->completed, cancel in new|preparing with a reason. Admin: any valid transition, with a reason. Cancelling a paid order refunds the wallet; completing credits the vendor and books the commission. Errors: order_not_found, invalid_status, invalid_transition, transition_not_allowed, reason_required.';
revoke execute on function public.update_order_status(uuid, text, text) from public, anon;
grant execute on function public.update_order_status(uuid, text, text) to authenticated, service_role;

create function public.cancel_order(p_order_id uuid, p_reason text default null)
returns public.orders
language plpgsql
security definer
set search_path = ''
as $$
begin
  return public.update_order_status(p_order_id, 'cancelled', p_reason);
end
$$;
comment on function public.cancel_order(uuid, text) is 'Cancels an order: update_order_status(p_order_id, ''cancelled'', p_reason) with the same rules and errors.';
revoke execute on function public.cancel_order(uuid, text) from public, anon;
grant execute on function public.cancel_order(uuid, text) to authenticated, service_role;

-- For a scheduler (pg_cron, or an edge function on a timer): cancels card
-- orders still unpaid 30 minutes after they were placed. Returns how many.
-- Expiry waits for an order another transaction holds, so when it returns every
-- overdue order is cancelled; a concurrent run finds the order already
-- cancelled and leaves it.
create function public.expire_unpaid_orders() returns integer
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
comment on function public.expire_unpaid_orders() is 'service_role only: cancels awaiting_payment orders older than 30 minutes (reason payment_timeout, actor system); returns the count.';
revoke execute on function public.expire_unpaid_orders() from public, anon, authenticated;
grant execute on function public.expire_unpaid_orders() to service_role;
