-- Payment starts are bounded: each one inserts a pending payment and makes the
-- payments function call the provider on the merchant's key, so a user may have
-- at most 5 pending payments started in the last 10 minutes. begin_payment
-- returns an existing live payment without inserting, so retries are not counted.

create function private.limit_payment_starts() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- One user's starts are counted one at a time, so parallel starts cannot all
  -- see the same count; the lock ends with the transaction.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('payment_starts:' || new.user_id::text, 0));
  if (select count(*) from public.payments
      where user_id = new.user_id and status = 'pending' and created_at > pg_catalog.now() - interval '10 minutes') >= 5 then
    perform private.fail('too_many_requests', 'Too many payments started: at most 5 pending payments in 10 minutes. Finish or wait for one of them.', 'PT429');
  end if;
  return new;
end
$$;
comment on function private.limit_payment_starts() is 'Before a pending payment is inserted: refuses it with too_many_requests (PT429, HTTP 429) when the user already has 5 pending payments started in the last 10 minutes.';
revoke execute on function private.limit_payment_starts() from public, anon, authenticated;

create trigger payments_limit_starts
  before insert on public.payments
  for each row when (new.status = 'pending')
  execute function private.limit_payment_starts();

-- The count reads payments_user_id_created_at_idx.

comment on function public.begin_payment(uuid, text, uuid, bigint) is 'Contract (service_role only, for the payments edge function): starts the payment for order p_order_id owned by p_user_id in awaiting_payment with provider = its payment_method, or returns the live (pending) one; or creates a wallet top-up of p_topup_amount (10000..50000000 kobo). Amount and currency come from the database. At most 5 pending payments started per user in 10 minutes. Errors: invalid_provider, invalid_payment_request, order_not_found (PT404), order_not_awaiting_payment, payment_method_mismatch, invalid_amount, account_suspended (42501), too_many_requests (PT429).';
comment on function public.set_payment_provider_data(uuid, text, jsonb) is 'Contract (service_role only): stores the provider''s id and client data (authorization_url, access_code or client_secret) after initializing with the provider, so begin_payment''s retry can return the same values. Error: payment_not_found (PT404).';
