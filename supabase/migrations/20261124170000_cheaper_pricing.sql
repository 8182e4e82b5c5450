-- Cheaper pricing, same rules, errors and precedence:
-- - each line's modifier list is read from the JSON once (the CTE is
--   materialized) instead of once per expression that uses it;
-- - uuids and quantities are checked with pg_input_is_valid instead of regular
--   expressions (it also accepts the other spellings Postgres casts to uuid).
create or replace function private.price_order(p_customer_id uuid, p_vendor_id uuid, p_items jsonb, p_fulfillment text, p_address_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
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
  with req as materialized (
    select t.pos::integer as pos, (t.e ->> 'menu_item_id')::uuid as item_id, (t.e ->> 'quantity')::integer as qty,
           m.mods, m.distinct_mods
    from jsonb_array_elements(p_items) with ordinality as t (e, pos)
    cross join lateral (
      select coalesce(array_agg(x::uuid), '{}') as mods, count(distinct x) as distinct_mods
      from jsonb_array_elements_text(case when jsonb_typeof(t.e -> 'modifier_ids') = 'array' then t.e -> 'modifier_ids' end) x
    ) m
  ),
  lines as (
    select l.pos, l.qty, mi.id, mi.name, mi.price, m.mod_json, m.mod_total,
           case
             when mi.id is null then 'item_not_found'
             when mi.vendor_id <> v.id then 'mixed_vendors'
             when not mi.is_available then 'item_unavailable'
             when cardinality(l.mods) <> l.distinct_mods then 'invalid_modifier'
             when m.mod_count <> cardinality(l.mods) then 'invalid_modifier'
             when g.name is not null then 'invalid_modifier_selection'
           end as err,
           case
             when mi.id is null then 'An item in the order does not exist.'
             when mi.vendor_id <> v.id then 'All items in an order must come from the same vendor.'
             when not mi.is_available then format('%s is not available right now.', mi.name)
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
