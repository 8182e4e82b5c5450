-- Vendor statements: what a vendor's owner wallet did over a period, per Lagos
-- day, reconciled with the ledger (opening + movements = closing).

create function public.vendor_statement(p_vendor_id uuid, p_from date, p_to date)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  v public.vendors;
  w public.wallets;
  -- Lagos calendar days: the statement's boundaries are local midnights.
  starts timestamptz := (p_from::timestamp at time zone 'Africa/Lagos');
  ends timestamptz := ((p_to + 1)::timestamp at time zone 'Africa/Lagos');
  opening bigint;
  closing bigint;
  days jsonb;
  moved bigint;
begin
  select * into v from public.vendors where id = p_vendor_id;
  if not found or (v.owner_id <> uid and not private.is_admin()) then
    perform private.fail('vendor_not_found', 'This vendor does not exist.', 'P0002');
  end if;
  if p_from is null or p_to is null or p_from > p_to or p_to - p_from > 366 then
    perform private.fail('invalid_period', 'Give a period of at most 366 days, from <= to.');
  end if;
  select * into w from public.wallets where user_id = v.owner_id;

  -- The balance at a moment is the sum of the ledger before it (several rows of
  -- one transaction share created_at, so balance_after of "the last" row is ambiguous).
  opening := coalesce((select sum(t.amount) from public.wallet_transactions t where t.wallet_id = w.id and t.created_at < starts), 0);
  closing := coalesce((select sum(t.amount) from public.wallet_transactions t where t.wallet_id = w.id and t.created_at < ends), 0);

  with day as (
    select d::date as day from generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') d
  ), completed as (
    select (o.completed_at at time zone 'Africa/Lagos')::date as day, count(*) as orders, sum(o.total) as gross
    from public.orders o
    where o.vendor_id = v.id and o.status = 'completed' and o.completed_at >= starts and o.completed_at < ends
    group by 1
  ), borne as (
    select (r.created_at at time zone 'Africa/Lagos')::date as day, sum(r.amount - r.clawback_amount) as refunds_borne
    from public.refunds r join public.orders o on o.id = r.order_id
    where o.vendor_id = v.id and r.borne_by = 'vendor' and r.status <> 'failed' and r.created_at >= starts and r.created_at < ends
    group by 1
  ), commission as (
    select (l.created_at at time zone 'Africa/Lagos')::date as day, sum(l.amount) as commission
    from public.platform_ledger l join public.orders o on o.id = l.order_id
    where o.vendor_id = v.id and l.type in ('commission', 'commission_reversal') and l.created_at >= starts and l.created_at < ends
    group by 1
  ), moves as (
    select (t.created_at at time zone 'Africa/Lagos')::date as day,
           sum(t.amount) filter (where t.type in ('order_earning', 'earning_reversal')) as earnings,
           sum(t.amount) filter (where t.type like 'payout%') as payouts,
           sum(t.amount) filter (where t.type not in ('order_earning', 'earning_reversal') and t.type not like 'payout%') as other,
           sum(t.amount) as net
    from public.wallet_transactions t
    where t.wallet_id = w.id and t.created_at >= starts and t.created_at < ends
    group by 1
  )
  select jsonb_agg(jsonb_build_object(
           'date', day.day,
           'orders', coalesce(c.orders, 0),
           'gross', coalesce(c.gross, 0),
           'refunds_borne', coalesce(b.refunds_borne, 0),
           'commission', coalesce(cm.commission, 0),
           'earnings', coalesce(m.earnings, 0),
           'payouts', coalesce(m.payouts, 0),
           'other', coalesce(m.other, 0),
           'net', coalesce(m.net, 0)) order by day.day),
         coalesce(sum(m.net), 0)
    into days, moved
  from day
  left join completed c on c.day = day.day
  left join borne b on b.day = day.day
  left join commission cm on cm.day = day.day
  left join moves m on m.day = day.day;

  return jsonb_build_object(
    'vendor_id', v.id, 'vendor_name', v.name, 'currency', w.currency, 'from', p_from, 'to', p_to, 'time_zone', 'Africa/Lagos',
    'opening_balance', opening, 'closing_balance', closing, 'days', days,
    'reconciles', opening + moved = closing);
end
$$;
comment on function public.vendor_statement(uuid, date, date) is 'For the vendor''s owner and admins: the owner wallet over p_from..p_to (Lagos days, at most 366): opening balance, then per day completed orders and their gross, refunds the vendor bore, commission (net of reversals), earnings (net of reversals), payouts, other movements (own orders, top-ups...) and the net change, then the closing balance; reconciles says opening + movements = closing. Errors: vendor_not_found (P0002), invalid_period.';
revoke execute on function public.vendor_statement(uuid, date, date) from public, anon;
grant execute on function public.vendor_statement(uuid, date, date) to authenticated;
