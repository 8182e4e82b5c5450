-- Local development data. Applied once by `supabase db push --include-seed`
-- (and again after `npm run db:reset`).
--
-- A small Lagos: an admin, three customers with addresses and wallet money, six
-- vendors (five active, one awaiting approval) with hours, menus and add-ons,
-- and orders in several states, all placed and moved through the product's own
-- functions. Users sign in with the test OTP 123456 (supabase/config.toml):
--   2348000000001 admin (Tunde)        2348000000011..16 vendor owners
--   2348000000002 Ada, 03 Bayo, 04 Chioma (customers)
-- Mama Cass Kitchen and Shawarma Hub have no opening hours, so they take orders
-- at any time of day (handy for demos and tests); the others keep real hours.

-- ============================================================================
-- Users, as GoTrue creates them for a phone sign-up (user + phone identity).
-- The auth.users trigger gives each a profile and an NGN wallet.
-- ============================================================================
insert into auth.users (
  instance_id, id, aud, role, phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data,
  created_at, updated_at, last_sign_in_at, confirmation_token, recovery_token, email_change_token_new, email_change
)
select '00000000-0000-0000-0000-000000000000', u.id::uuid, 'authenticated', 'authenticated', u.phone, now(),
       '{"provider": "phone", "providers": ["phone"]}', '{}', now(), now(), null, '', '', '', ''
from (values
  ('00000000-0000-4000-a000-348000000001', '2348000000001'),
  ('00000000-0000-4000-a000-348000000002', '2348000000002'),
  ('00000000-0000-4000-a000-348000000003', '2348000000003'),
  ('00000000-0000-4000-a000-348000000004', '2348000000004'),
  ('00000000-0000-4000-a000-348000000011', '2348000000011'),
  ('00000000-0000-4000-a000-348000000012', '2348000000012'),
  ('00000000-0000-4000-a000-348000000013', '2348000000013'),
  ('00000000-0000-4000-a000-348000000014', '2348000000014'),
  ('00000000-0000-4000-a000-348000000015', '2348000000015'),
  ('00000000-0000-4000-a000-348000000016', '2348000000016')
) as u (id, phone);

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'phone', u.phone, 'email_verified', false, 'phone_verified', true),
       'phone', now(), now(), now()
from auth.users u where u.id::text like '00000000-0000-4000-a000-%';

update public.profiles p set full_name = n.full_name, role = coalesce(n.role, p.role)
from (values
  ('00000000-0000-4000-a000-348000000001', 'Tunde Bakare', 'admin'),
  ('00000000-0000-4000-a000-348000000002', 'Ada Okonkwo', null),
  ('00000000-0000-4000-a000-348000000003', 'Bayo Adeyemi', null),
  ('00000000-0000-4000-a000-348000000004', 'Chioma Eze', null),
  ('00000000-0000-4000-a000-348000000011', 'Cassandra Oyelaran', null),
  ('00000000-0000-4000-a000-348000000012', 'Musa Abdullahi', null),
  ('00000000-0000-4000-a000-348000000013', 'Kemi Adebayo', null),
  ('00000000-0000-4000-a000-348000000014', 'Rami Haddad', null),
  ('00000000-0000-4000-a000-348000000015', 'Funmi Ogunleye', null),
  ('00000000-0000-4000-a000-348000000016', 'Eno Bassey', null)
) as n (id, full_name, role)
where p.id = n.id::uuid;

insert into public.addresses (id, user_id, label, line1, city, state, lat, lng, instructions, is_default) values
  ('00000000-0000-4000-e000-000000000021', '00000000-0000-4000-a000-348000000002', 'Home', '14 Adeola Odeku Street, Victoria Island', 'Lagos', 'Lagos', 6.4310, 3.4190, 'Blue gate, call on arrival', true),
  ('00000000-0000-4000-e000-000000000022', '00000000-0000-4000-a000-348000000002', 'Office', '2 Kingsway Road, Ikoyi', 'Lagos', 'Lagos', 6.4510, 3.4330, 'Reception on the ground floor', false),
  ('00000000-0000-4000-e000-000000000031', '00000000-0000-4000-a000-348000000003', 'Home', '21 Herbert Macaulay Way, Yaba', 'Lagos', 'Lagos', 6.5080, 3.3770, null, true),
  ('00000000-0000-4000-e000-000000000041', '00000000-0000-4000-a000-348000000004', 'Home', '5 Admiralty Way, Lekki Phase 1', 'Lagos', 'Lagos', 6.4470, 3.4720, 'Flat 3B', true);

-- Wallet money arrives as it would in production: a succeeded Paystack top-up
-- credited through the ledger.
insert into public.payments (id, provider, reference, purpose, user_id, amount, currency, status, provider_payment_id, paid_at) values
  ('00000000-0000-4000-f000-000000000002', 'paystack', 'rb_seed_topup_ada', 'wallet_topup', '00000000-0000-4000-a000-348000000002', 3000000, 'NGN', 'succeeded', '4099260516', now()),
  ('00000000-0000-4000-f000-000000000003', 'paystack', 'rb_seed_topup_bayo', 'wallet_topup', '00000000-0000-4000-a000-348000000003', 2500000, 'NGN', 'succeeded', '4099260517', now());
select private.post_wallet_entry(p.user_id, p.amount, 'topup', p.reference, 'payment:' || p.id, null, p.id)
from public.payments p where p.reference like 'rb_seed_topup_%';

-- ============================================================================
-- Vendors
-- ============================================================================
insert into public.vendors (id, owner_id, name, slug, description, phone, address_line, cuisines, status, commission_rate,
                            lat, lng, delivery_radius_km, base_delivery_fee, min_order_amount, prep_time_minutes, is_open, rating, rating_count) values
  ('00000000-0000-4000-b000-000000000011', '00000000-0000-4000-a000-348000000011', 'Mama Cass Kitchen', 'mama-cass-kitchen',
   'Party jollof, fried rice and ofada the way Lagos likes it.', '+2348000000011', '1 Akin Adesola Street, Victoria Island',
   '{Nigerian,Rice}', 'active', 0.15, 6.4281, 3.4219, 10, 50000, 150000, 25, true, 4.6, 212),
  ('00000000-0000-4000-b000-000000000012', '00000000-0000-4000-a000-348000000012', 'Suya Central', 'suya-central',
   'Northern-style suya, kilishi and grilled chicken off the fire.', '+2348000000012', '12 Admiralty Way, Lekki Phase 1',
   '{Grills,Suya,Northern}', 'active', 0.12, 6.4474, 3.4723, 8, 60000, 100000, 20, true, 4.8, 530),
  ('00000000-0000-4000-b000-000000000013', '00000000-0000-4000-a000-348000000013', 'Amala Sky', 'amala-sky',
   'Amala, ewedu and gbegiri with assorted meat, plus pounded yam and egusi.', '+2348000000013', '9 Bode Thomas Street, Surulere',
   '{Nigerian,Yoruba,Swallow}', 'active', 0.15, 6.4969, 3.3553, 10, 40000, 0, 30, true, 4.4, 98),
  ('00000000-0000-4000-b000-000000000014', '00000000-0000-4000-a000-348000000014', 'Shawarma Hub', 'shawarma-hub',
   'Chicken and beef shawarma, wraps and loaded fries.', '+2348000000014', '40 Herbert Macaulay Way, Yaba',
   '{Lebanese,Shawarma,Fast food}', 'active', 0.15, 6.5095, 3.3711, 12, 50000, 0, 15, true, 4.3, 341),
  ('00000000-0000-4000-b000-000000000015', '00000000-0000-4000-a000-348000000015', 'Buka Express', 'buka-express',
   'Efo riro, ofada stew and home-style buka plates in Ikeja GRA.', '+2348000000015', '7 Isaac John Street, Ikeja GRA',
   '{Nigerian,Buka}', 'active', 0.15, 6.5833, 3.3589, 7, 45000, 120000, 25, true, 4.1, 57),
  ('00000000-0000-4000-b000-000000000016', '00000000-0000-4000-a000-348000000016', 'Calabar Pot', 'calabar-pot',
   'Edikang ikong, afang and seafood okra from Cross River.', '+2348000000016', '15 Fola Osibo Road, Lekki Phase 1',
   '{Nigerian,Efik,Soups}', 'pending', 0.15, 6.4420, 3.4650, 10, 50000, 200000, 35, false, null, 0);

-- Africa/Lagos hours; weekday 0 = Sunday.
insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at)
select v.vendor_id::uuid, d, v.opens::time, v.closes::time
from (values
  ('00000000-0000-4000-b000-000000000012', '16:00', '24:00'),
  ('00000000-0000-4000-b000-000000000013', '08:00', '20:00'),
  ('00000000-0000-4000-b000-000000000015', '09:00', '21:00'),
  ('00000000-0000-4000-b000-000000000016', '11:00', '22:00')
) as v (vendor_id, opens, closes)
cross join generate_series(0, 6) as d
where not (v.vendor_id = '00000000-0000-4000-b000-000000000013' and d = 0);  -- Amala Sky rests on Sundays
insert into public.vendor_hours (vendor_id, weekday, opens_at, closes_at) values
  ('00000000-0000-4000-b000-000000000012', 0, '00:00', '02:00');  -- Suya Central's Saturday night runs past midnight

-- ============================================================================
-- Menus
-- ============================================================================
insert into public.menu_categories (id, vendor_id, name, sort_order) values
  ('00000000-0000-4000-c100-000000000111', '00000000-0000-4000-b000-000000000011', 'Rice', 1),
  ('00000000-0000-4000-c100-000000000112', '00000000-0000-4000-b000-000000000011', 'Sides', 2),
  ('00000000-0000-4000-c100-000000000121', '00000000-0000-4000-b000-000000000012', 'Suya', 1),
  ('00000000-0000-4000-c100-000000000122', '00000000-0000-4000-b000-000000000012', 'Grills', 2),
  ('00000000-0000-4000-c100-000000000131', '00000000-0000-4000-b000-000000000013', 'Swallow', 1),
  ('00000000-0000-4000-c100-000000000141', '00000000-0000-4000-b000-000000000014', 'Shawarma', 1),
  ('00000000-0000-4000-c100-000000000142', '00000000-0000-4000-b000-000000000014', 'Sides and drinks', 2),
  ('00000000-0000-4000-c100-000000000151', '00000000-0000-4000-b000-000000000015', 'Plates', 1),
  ('00000000-0000-4000-c100-000000000161', '00000000-0000-4000-b000-000000000016', 'Soups', 1);

insert into public.menu_items (id, vendor_id, category_id, name, description, price, is_available, sort_order) values
  ('00000000-0000-4000-c000-000000001101', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c100-000000000111', 'Party jollof rice', 'Smoky firewood jollof, one portion.', 250000, true, 1),
  ('00000000-0000-4000-c000-000000001102', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c100-000000000111', 'Fried rice', 'With liver, shrimps and mixed vegetables.', 260000, true, 2),
  ('00000000-0000-4000-c000-000000001103', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c100-000000000111', 'Ofada rice and ayamase', 'Local rice with green pepper stew and assorted meat.', 350000, false, 3),
  ('00000000-0000-4000-c000-000000001104', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c100-000000000112', 'Dodo (fried plantain)', 'Sweet ripe plantain.', 80000, true, 1),
  ('00000000-0000-4000-c000-000000001105', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c100-000000000112', 'Moi moi', 'Steamed bean pudding with egg.', 70000, true, 2),
  ('00000000-0000-4000-c000-000000001201', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c100-000000000121', 'Beef suya', 'Thin-sliced beef in yaji spice, per stick pack.', 150000, true, 1),
  ('00000000-0000-4000-c000-000000001202', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c100-000000000121', 'Chicken suya', 'Boneless chicken in yaji.', 180000, true, 2),
  ('00000000-0000-4000-c000-000000001203', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c100-000000000121', 'Kilishi', 'Dried spiced beef, 100 g.', 200000, true, 3),
  ('00000000-0000-4000-c000-000000001204', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c100-000000000122', 'Asun', 'Peppered grilled goat meat.', 300000, true, 1),
  ('00000000-0000-4000-c000-000000001301', '00000000-0000-4000-b000-000000000013', '00000000-0000-4000-c100-000000000131', 'Amala, ewedu and gbegiri', 'Yam flour swallow with jute leaf and bean soups.', 200000, true, 1),
  ('00000000-0000-4000-c000-000000001302', '00000000-0000-4000-b000-000000000013', '00000000-0000-4000-c100-000000000131', 'Pounded yam and egusi', 'Melon seed soup with spinach.', 300000, true, 2),
  ('00000000-0000-4000-c000-000000001401', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c100-000000000141', 'Chicken shawarma', 'Grilled chicken, garlic sauce, cabbage, in pita.', 350000, true, 1),
  ('00000000-0000-4000-c000-000000001402', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c100-000000000141', 'Beef shawarma', 'Spiced beef, tahini, in pita.', 380000, true, 2),
  ('00000000-0000-4000-c000-000000001403', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c100-000000000142', 'Loaded fries', 'Fries with chicken, cheese and pepper sauce.', 250000, true, 1),
  ('00000000-0000-4000-c000-000000001404', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c100-000000000142', 'Chapman', 'The Lagos fruit punch, 50 cl.', 120000, true, 2),
  ('00000000-0000-4000-c000-000000001501', '00000000-0000-4000-b000-000000000015', '00000000-0000-4000-c100-000000000151', 'Efo riro and semo', 'Spinach stew with assorted meat.', 220000, true, 1),
  ('00000000-0000-4000-c000-000000001502', '00000000-0000-4000-b000-000000000015', '00000000-0000-4000-c100-000000000151', 'White rice and ofada stew', 'With boiled egg.', 180000, true, 2),
  ('00000000-0000-4000-c000-000000001601', '00000000-0000-4000-b000-000000000016', '00000000-0000-4000-c100-000000000161', 'Edikang ikong', 'Vegetable soup with periwinkle, with fufu.', 450000, true, 1),
  ('00000000-0000-4000-c000-000000001602', '00000000-0000-4000-b000-000000000016', '00000000-0000-4000-c100-000000000161', 'Seafood okra', 'Okra with prawns, crab and fish, with eba.', 550000, true, 2);

insert into public.modifier_groups (id, vendor_id, menu_item_id, name, min_select, max_select, sort_order) values
  ('00000000-0000-4000-c200-000000001101', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c000-000000001101', 'Protein', 1, 1, 1),
  ('00000000-0000-4000-c200-000000001102', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c000-000000001101', 'Extras', 0, 3, 2),
  ('00000000-0000-4000-c200-000000001201', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c000-000000001201', 'Pepper level', 1, 1, 1),
  ('00000000-0000-4000-c200-000000001301', '00000000-0000-4000-b000-000000000013', '00000000-0000-4000-c000-000000001301', 'Meat', 0, 2, 1),
  ('00000000-0000-4000-c200-000000001401', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c000-000000001401', 'Size', 1, 1, 1),
  ('00000000-0000-4000-c200-000000001402', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c000-000000001401', 'Add-ons', 0, 2, 2);

insert into public.modifiers (id, vendor_id, group_id, name, price_delta, is_available, sort_order) values
  ('00000000-0000-4000-c300-000000011011', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c200-000000001101', 'Fried chicken', 80000, true, 1),
  ('00000000-0000-4000-c300-000000011012', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c200-000000001101', 'Beef', 60000, true, 2),
  ('00000000-0000-4000-c300-000000011013', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c200-000000001101', 'Turkey', 120000, true, 3),
  ('00000000-0000-4000-c300-000000011021', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c200-000000001102', 'Dodo', 30000, true, 1),
  ('00000000-0000-4000-c300-000000011022', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c200-000000001102', 'Moi moi', 40000, true, 2),
  ('00000000-0000-4000-c300-000000011023', '00000000-0000-4000-b000-000000000011', '00000000-0000-4000-c200-000000001102', 'Coleslaw', 20000, true, 3),
  ('00000000-0000-4000-c300-000000012011', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c200-000000001201', 'Mild', 0, true, 1),
  ('00000000-0000-4000-c300-000000012012', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c200-000000001201', 'Hot', 0, true, 2),
  ('00000000-0000-4000-c300-000000012013', '00000000-0000-4000-b000-000000000012', '00000000-0000-4000-c200-000000001201', 'Extra hot', 0, true, 3),
  ('00000000-0000-4000-c300-000000013011', '00000000-0000-4000-b000-000000000013', '00000000-0000-4000-c200-000000001301', 'Assorted meat', 100000, true, 1),
  ('00000000-0000-4000-c300-000000013012', '00000000-0000-4000-b000-000000000013', '00000000-0000-4000-c200-000000001301', 'Goat meat', 120000, true, 2),
  ('00000000-0000-4000-c300-000000013013', '00000000-0000-4000-b000-000000000013', '00000000-0000-4000-c200-000000001301', 'Panla fish', 150000, false, 3),
  ('00000000-0000-4000-c300-000000014011', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c200-000000001401', 'Regular', 0, true, 1),
  ('00000000-0000-4000-c300-000000014012', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c200-000000001401', 'Jumbo', 150000, true, 2),
  ('00000000-0000-4000-c300-000000014021', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c200-000000001402', 'Extra sausage', 50000, true, 1),
  ('00000000-0000-4000-c300-000000014022', '00000000-0000-4000-b000-000000000014', '00000000-0000-4000-c200-000000001402', 'Cheese', 70000, true, 2);

-- ============================================================================
-- Orders, placed and moved by the product functions as each user would
-- (the JWT claims are set for the session, then cleared).
-- ============================================================================
create function pg_temp.act_as(p_user uuid) returns void language sql as $$
  select set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, false)
$$;
create function pg_temp.advance(p_key text, p_statuses text[]) returns void language plpgsql as $$
declare
  s text;
begin
  foreach s in array p_statuses loop
    perform public.update_order_status((select id from public.orders where idempotency_key = p_key), s);
  end loop;
end
$$;

-- Ada: jollof to her home, delivered.
select pg_temp.act_as('00000000-0000-4000-a000-348000000002');
select public.place_order('00000000-0000-4000-b000-000000000011',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001101", "quantity": 2, "modifier_ids": ["00000000-0000-4000-c300-000000011011", "00000000-0000-4000-c300-000000011021"]},
    {"menu_item_id": "00000000-0000-4000-c000-000000001105", "quantity": 1}]',
  'delivery', '00000000-0000-4000-e000-000000000021', 'wallet', 'Please add extra pepper sauce', 'seed-ada-1');
select pg_temp.act_as('00000000-0000-4000-a000-348000000011');
select pg_temp.advance('seed-ada-1', array['preparing', 'ready', 'out_for_delivery', 'completed']);

-- Bayo: shawarma for pickup, being prepared.
select pg_temp.act_as('00000000-0000-4000-a000-348000000003');
select public.place_order('00000000-0000-4000-b000-000000000014',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001401", "quantity": 2, "modifier_ids": ["00000000-0000-4000-c300-000000014012", "00000000-0000-4000-c300-000000014022"]},
    {"menu_item_id": "00000000-0000-4000-c000-000000001404", "quantity": 2}]',
  'pickup', null, 'wallet', null, 'seed-bayo-1');
select pg_temp.act_as('00000000-0000-4000-a000-348000000014');
select pg_temp.advance('seed-bayo-1', array['preparing']);

-- Bayo: fried rice for pickup, cancelled by him and refunded to his wallet.
select pg_temp.act_as('00000000-0000-4000-a000-348000000003');
select public.place_order('00000000-0000-4000-b000-000000000011',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001102", "quantity": 1}]',
  'pickup', null, 'wallet', null, 'seed-bayo-2');
select public.cancel_order(id, 'Ordered from the wrong account') from public.orders where idempotency_key = 'seed-bayo-2';

-- Ada: shawarma to her office, on its way.
select pg_temp.act_as('00000000-0000-4000-a000-348000000002');
select public.place_order('00000000-0000-4000-b000-000000000014',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001402", "quantity": 1},
    {"menu_item_id": "00000000-0000-4000-c000-000000001403", "quantity": 1}]',
  'delivery', '00000000-0000-4000-e000-000000000022', 'wallet', null, 'seed-ada-2');
select pg_temp.act_as('00000000-0000-4000-a000-348000000014');
select pg_temp.advance('seed-ada-2', array['preparing', 'ready', 'out_for_delivery']);

-- Chioma: pays by Paystack; the webhook has confirmed it, so the vendor sees a new order.
select pg_temp.act_as('00000000-0000-4000-a000-348000000004');
select public.place_order('00000000-0000-4000-b000-000000000011',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001101", "quantity": 1, "modifier_ids": ["00000000-0000-4000-c300-000000011013"]}]',
  'delivery', '00000000-0000-4000-e000-000000000041', 'paystack', null, 'seed-chioma-1');
select public.confirm_payment('paystack', 'seed-evt-1', p.reference, p.amount, p.currency, '4099260600')
from public.orders o, lateral public.begin_payment(o.customer_id, 'paystack', o.id) p
where o.idempotency_key = 'seed-chioma-1';

-- Chioma: a Stripe order still waiting for payment.
select public.place_order('00000000-0000-4000-b000-000000000011',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001102", "quantity": 1}, {"menu_item_id": "00000000-0000-4000-c000-000000001104", "quantity": 2}]',
  'delivery', '00000000-0000-4000-e000-000000000041', 'stripe', 'Gate code 4411', 'seed-chioma-2');

-- Bayo: shawarma for pickup with a tip, picked up, and reviewed.
select pg_temp.act_as('00000000-0000-4000-a000-348000000003');
select public.place_order('00000000-0000-4000-b000-000000000014',
  '[{"menu_item_id": "00000000-0000-4000-c000-000000001401", "quantity": 1, "modifier_ids": ["00000000-0000-4000-c300-000000014011"]}]',
  'pickup', null, 'wallet', null, 'seed-bayo-3', p_tip => 30000);
select pg_temp.act_as('00000000-0000-4000-a000-348000000014');
select pg_temp.advance('seed-bayo-3', array['preparing', 'ready', 'completed']);

-- Reviews of the completed orders (Mama Cass Kitchen and Shawarma Hub), and a reply.
select pg_temp.act_as('00000000-0000-4000-a000-348000000002');
select public.review_order(id, 5, 'Best party jollof on the Island, still hot on arrival.') from public.orders where idempotency_key = 'seed-ada-1';
select pg_temp.act_as('00000000-0000-4000-a000-348000000003');
select public.review_order(id, 4, 'Generous shawarma; a little heavy on the garlic sauce.') from public.orders where idempotency_key = 'seed-bayo-3';
select pg_temp.act_as('00000000-0000-4000-a000-348000000014');
select public.reply_to_review(r.id, 'Thank you, Bayo! Ask for light sauce next time.')
from public.reviews r join public.orders o on o.id = r.order_id where o.idempotency_key = 'seed-bayo-3';

-- Ada's favourite.
select pg_temp.act_as('00000000-0000-4000-a000-348000000002');
insert into public.favourite_vendors (user_id, vendor_id) values ('00000000-0000-4000-a000-348000000002', '00000000-0000-4000-b000-000000000011');

select set_config('request.jwt.claims', '', false);

insert into public.notification_preferences (user_id, push_enabled, sms_enabled) values
  ('00000000-0000-4000-a000-348000000002', true, true),
  ('00000000-0000-4000-a000-348000000011', true, true);

-- ============================================================================
-- Checkout v2: coupons, stock, a closure
-- ============================================================================
-- WELCOME10: 10% off anywhere (platform-funded), up to NGN 1,000, once per customer.
-- CASS500: NGN 500 off at Mama Cass Kitchen from NGN 3,000 (vendor-funded), 100 uses.
insert into public.coupons (code, kind, value, max_discount, min_subtotal, per_customer_limit, max_redemptions, vendor_id, funded_by) values
  ('WELCOME10', 'percent', 10, 100000, 0, 1, null, null, 'platform'),
  ('CASS500', 'fixed', 50000, null, 300000, 2, 100, '00000000-0000-4000-b000-000000000011', 'vendor');

-- Mama Cass Kitchen counts its moi moi: 12 portions left.
update public.menu_items set stock = 12 where id = '00000000-0000-4000-c000-000000001105';

-- Amala Sky closes for a family event next week (Lagos days).
insert into public.vendor_closures (vendor_id, starts_at, ends_at, reason)
select '00000000-0000-4000-b000-000000000013',
       (date_trunc('day', now() at time zone 'Africa/Lagos') + interval '7 days') at time zone 'Africa/Lagos',
       (date_trunc('day', now() at time zone 'Africa/Lagos') + interval '9 days') at time zone 'Africa/Lagos',
       'Family event: back in two days';

-- Ratings come from visible reviews only: the figures typed into the vendor rows above give way to them.
select private.refresh_vendor_rating(id) from public.vendors where id::text like '00000000-0000-4000-b000-%';
