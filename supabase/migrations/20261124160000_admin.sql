-- Admin RPCs (vendor and user status, wallet adjustments, announcements) and
-- reporting views for Studio in the non-exposed `admin` schema.

create function private.require_admin() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if auth.uid() is null then
    perform private.fail('not_authenticated', 'Sign in first.', '42501');
  end if;
  if not private.is_admin() then
    perform private.fail('forbidden', 'Only admins may do this.', '42501');
  end if;
  return auth.uid();
end
$$;
revoke execute on function private.require_admin() from public, anon, authenticated, service_role;

create function private.require_reason(p_reason text) returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if nullif(trim(p_reason), '') is null then
    perform private.fail('reason_required', 'Give a reason for this change.');
  end if;
  if char_length(p_reason) > 500 then
    perform private.fail('invalid_reason', 'The reason must be at most 500 characters.');
  end if;
  return trim(p_reason);
end
$$;
revoke execute on function private.require_reason(text) from public, anon, authenticated, service_role;

create function public.admin_set_vendor_status(p_vendor_id uuid, p_status text, p_reason text default null)
returns public.vendors
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  v public.vendors;
  reason text;
begin
  if p_status is null or p_status not in ('pending', 'active', 'suspended') then
    perform private.fail('invalid_status', 'A vendor status is pending, active or suspended.');
  end if;
  reason := case when p_status = 'active' then nullif(trim(p_reason), '') else private.require_reason(p_reason) end;
  update public.vendors set status = p_status where id = p_vendor_id returning * into v;
  if not found then
    perform private.fail('vendor_not_found', 'This vendor does not exist.', 'P0002');
  end if;
  insert into public.notifications (user_id, type, title, body, data)
  values (v.owner_id, 'account', format('%s is now %s', v.name, p_status),
          coalesce('Reason: ' || reason, case when p_status = 'active' then 'You can now receive orders.' else '' end),
          jsonb_build_object('vendor_id', v.id, 'status', p_status, 'by', admin_id));
  return v;
end
$$;
comment on function public.admin_set_vendor_status(uuid, text, text) is 'Admin only: sets a vendor pending, active or suspended (reason required except to activate) and notifies the owner.';
revoke execute on function public.admin_set_vendor_status(uuid, text, text) from public, anon;
grant execute on function public.admin_set_vendor_status(uuid, text, text) to authenticated;

create function public.admin_set_user_status(p_user_id uuid, p_status text, p_reason text default null)
returns public.profiles
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  p public.profiles;
  reason text := private.require_reason(p_reason);
begin
  if p_status is null or p_status not in ('active', 'suspended') then
    perform private.fail('invalid_status', 'A user status is active or suspended.');
  end if;
  if p_user_id = admin_id and p_status = 'suspended' then
    perform private.fail('cannot_suspend_self', 'Admins cannot suspend themselves.');
  end if;
  update public.profiles set status = p_status where id = p_user_id returning * into p;
  if not found then
    perform private.fail('user_not_found', 'This user does not exist.', 'P0002');
  end if;
  -- Auth refuses sign-in and token refresh for banned users.
  update auth.users set banned_until = case when p_status = 'suspended' then 'infinity'::timestamptz end, updated_at = now()
  where id = p_user_id;
  insert into public.notifications (user_id, type, title, body, data)
  values (p_user_id, 'account', case when p_status = 'suspended' then 'Your account is suspended' else 'Your account is active again' end,
          'Reason: ' || reason, jsonb_build_object('status', p_status, 'by', admin_id));
  return p;
end
$$;
comment on function public.admin_set_user_status(uuid, text, text) is 'Admin only: suspends (auth.users.banned_until = infinity, so Auth refuses sign-in and refresh) or reactivates (banned_until = null) a user, with a reason.';
revoke execute on function public.admin_set_user_status(uuid, text, text) from public, anon;
grant execute on function public.admin_set_user_status(uuid, text, text) to authenticated;

create function public.admin_adjust_wallet(p_user_id uuid, p_amount bigint, p_reason text)
returns public.wallet_transactions
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  reason text := private.require_reason(p_reason);
begin
  if p_amount is null or p_amount = 0 or abs(p_amount) > 100000000 then
    perform private.fail('invalid_amount', 'The adjustment must be non-zero and at most 100000000 kobo either way.');
  end if;
  if not exists (select 1 from public.wallets where user_id = p_user_id) then
    perform private.fail('user_not_found', 'This user has no wallet.', 'P0002');
  end if;
  return private.post_wallet_entry(p_user_id, p_amount, 'admin_adjustment', reason,
                                   'admin:' || gen_random_uuid(), null, null, reason, admin_id);
end
$$;
comment on function public.admin_adjust_wallet(uuid, bigint, text) is 'Admin only: credits (positive) or debits (negative) a user''s wallet through the ledger with a reason; refused with insufficient_funds if the balance would go negative.';
revoke execute on function public.admin_adjust_wallet(uuid, bigint, text) from public, anon;
grant execute on function public.admin_adjust_wallet(uuid, bigint, text) to authenticated;

create function public.admin_broadcast(p_title text, p_body text, p_audience text default 'all')
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  admin_id uuid := private.require_admin();
  n integer;
begin
  if nullif(trim(p_title), '') is null or char_length(p_title) > 200 or p_body is null or char_length(p_body) > 2000 then
    perform private.fail('invalid_message', 'A title (1 to 200 characters) and a body (at most 2000) are required.');
  end if;
  if p_audience is null or p_audience not in ('all', 'customers', 'vendors') then
    perform private.fail('invalid_audience', 'The audience is all, customers or vendors.');
  end if;
  perform realtime.send(jsonb_build_object('title', p_title, 'body', p_body, 'audience', p_audience, 'at', now()),
                        'announcement', 'announcements', true);
  insert into public.notifications (user_id, type, title, body, data)
  select p.id, 'announcement', trim(p_title), p_body, jsonb_build_object('audience', p_audience, 'by', admin_id)
  from public.profiles p
  where p.status = 'active'
    and (p_audience = 'all' or (p_audience = 'customers' and p.role = 'customer') or (p_audience = 'vendors' and p.role = 'vendor'));
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function public.admin_broadcast(text, text, text) is 'Admin only: sends an announcement on the announcements topic and to the inbox of every active user in the audience (all, customers or vendors). Returns how many users got it.';
revoke execute on function public.admin_broadcast(text, text, text) from public, anon;
grant execute on function public.admin_broadcast(text, text, text) to authenticated;

-- ============================================================================
-- Reports for Studio (schema admin: not exposed through the API)
-- ============================================================================

create schema if not exists admin;
comment on schema admin is 'Reporting views for admins in Supabase Studio; not exposed through the API.';
revoke all on schema admin from public;

create view admin.daily_sales with (security_invoker = true) as
select (o.created_at at time zone 'Africa/Lagos')::date as day,
       count(*) as orders,
       count(*) filter (where o.status = 'completed') as completed,
       count(*) filter (where o.status = 'cancelled') as cancelled,
       coalesce(sum(o.total) filter (where o.status = 'completed'), 0) as completed_total,
       coalesce(sum(o.commission) filter (where o.status = 'completed'), 0) as commission
from public.orders o
group by 1
order by 1 desc;
comment on view admin.daily_sales is 'Orders per Lagos calendar day: counts, completed sales and commission (minor units).';

create view admin.commission_by_vendor with (security_invoker = true) as
select v.id as vendor_id, v.name, v.commission_rate,
       count(o.id) filter (where o.status = 'completed') as completed_orders,
       coalesce(sum(o.subtotal) filter (where o.status = 'completed'), 0) as completed_subtotal,
       coalesce(sum(o.commission) filter (where o.status = 'completed'), 0) as commission
from public.vendors v
left join public.orders o on o.vendor_id = v.id
group by v.id, v.name, v.commission_rate
order by commission desc;
comment on view admin.commission_by_vendor is 'Commission earned per vendor on completed orders (minor units).';

create view admin.orders_by_status with (security_invoker = true) as
select status, payment_status, count(*) as orders, coalesce(sum(total), 0) as total
from public.orders
group by status, payment_status
order by status, payment_status;
comment on view admin.orders_by_status is 'How many orders (and how much money) sit in each status.';

-- Money is conserved when what customers paid (wallet debits for orders plus
-- card payments for orders) equals vendor earnings + platform commission +
-- refunds (to wallets and to cards) + money held for orders still in progress,
-- and every wallet balance equals the sum of its ledger.
create view admin.money_conservation with (security_invoker = true) as
with paid as (
  select
    (select coalesce(-sum(amount), 0) from public.wallet_transactions where type = 'order_payment') as wallet_paid,
    (select coalesce(sum(amount), 0) from public.payments where purpose = 'order' and status in ('succeeded', 'refunded')) as card_paid,
    (select coalesce(sum(amount), 0) from public.wallet_transactions where type = 'order_earning') as vendor_earnings,
    (select coalesce(sum(amount), 0) from public.platform_ledger where type = 'commission') as commission,
    (select coalesce(sum(amount), 0) from public.wallet_transactions where type = 'order_refund') as wallet_refunds,
    (select coalesce(sum(refunded_amount), 0) from public.payments where purpose = 'order') as card_refunds,
    (select coalesce(sum(total), 0) from public.orders where payment_status = 'paid' and status not in ('completed', 'cancelled')) as in_progress,
    (select count(*) from public.wallets w
      where w.balance <> (select coalesce(sum(t.amount), 0) from public.wallet_transactions t where t.wallet_id = w.id)) as wallets_off_ledger
)
select *,
       wallet_paid + card_paid as customer_paid,
       vendor_earnings + commission + wallet_refunds + card_refunds + in_progress as accounted_for,
       wallet_paid + card_paid = vendor_earnings + commission + wallet_refunds + card_refunds + in_progress
         and wallets_off_ledger = 0 as balanced
from paid;
comment on view admin.money_conservation is 'One row: customer_paid must equal accounted_for (vendor earnings + commission + refunds + in progress) and every wallet must match its ledger; balanced says whether both hold.';
