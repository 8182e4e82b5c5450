-- Bounded input: a length check on every user-writable text column that had
-- none, and "not found" errors that reach clients as HTTP 404.

-- ============================================================================
-- Not found is a 4xx
-- ============================================================================

-- PostgREST answers P0002 (no_data_found), like every P0 code but P0001, with
-- HTTP 500. `PT404` is PostgREST's way to choose the status from SQL: it answers
-- 404 and passes the code on. Every caller of private.fail that means "not
-- found" passes P0002, so the one helper translates it and the released
-- functions keep their text.
create or replace function private.fail(p_code text, p_detail text, p_errcode text default 'P0001') returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = case when p_errcode = 'P0002' then 'PT404' else p_errcode end,
    message = p_code, detail = p_detail;
end
$$;
comment on function private.fail(text, text, text) is 'The one error helper: raises p_code as the message (clients branch on it) and p_detail as the human detail. SQLSTATE P0001 (HTTP 400) by default; "not found" (P0002) is raised as PT404 (HTTP 404 through PostgREST); 42501 is HTTP 401/403.';

-- ============================================================================
-- Length checks
-- ============================================================================

alter table public.profiles
  add constraint profiles_full_name_length check (char_length(full_name) <= 100);

-- Tags: at most 20, 500 characters in all (they are copied into search_text).
alter table public.vendors
  add constraint vendors_cuisines_bounded check (cardinality(cuisines) <= 20 and char_length(array_to_string(cuisines, ',')) <= 500),
  add constraint vendors_slug_length check (char_length(slug) <= 100);

-- Reasons reach these columns through RPCs (update_order_status, admin_adjust_wallet).
alter table public.order_events
  add constraint order_events_reason_length check (char_length(reason) <= 500);
alter table public.wallet_transactions
  add constraint wallet_transactions_note_length check (char_length(note) <= 500);
