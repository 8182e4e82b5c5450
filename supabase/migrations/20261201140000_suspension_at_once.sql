-- Suspension takes effect at once. An access token stays valid until it
-- expires (up to `jwt_expiry`), so banning the user in Auth alone left a
-- suspended user writing for up to an hour. Now:
--   * every write policy is paired with a restrictive one that asks
--     private.is_active_user(), so no insert, update or delete by a suspended
--     user passes RLS, whatever the permissive policies allow;
--   * every write RPC asks the same helper (through private.require_active_user);
--   * admin_set_user_status(…, 'suspended') ends the user's sessions (and with
--     them their refresh tokens) in the same transaction.
--
-- New tables: after their write policies, add the three restrictive policies
-- below for each command they allow (a test checks every exposed table).

-- ============================================================================
-- The helper
-- ============================================================================

-- True when the caller has a profile whose status is active. Definer: reads
-- profiles without going through its policies. plpgsql so it is never inlined
-- into a policy and always runs as its owner.
create function private.is_active_user() returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from public.profiles p where p.id = auth.uid() and p.status = 'active');
end
$$;
comment on function private.is_active_user() is 'True when auth.uid() is a user whose profile is active (not suspended). Policies call it as (select private.is_active_user()).';
revoke execute on function private.is_active_user() from public, anon;
grant execute on function private.is_active_user() to authenticated, service_role;

-- The raising form for RPCs, now in terms of the helper so both agree on what active means.
create or replace function private.require_active_user() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    perform private.fail('not_authenticated', 'Sign in first.', '42501');
  end if;
  if not exists (select 1 from public.profiles where id = uid) then
    perform private.fail('not_authenticated', 'This account does not exist.', '42501');
  end if;
  if not private.is_active_user() then
    perform private.fail('account_suspended', 'This account is suspended.', '42501');
  end if;
  return uid;
end
$$;
revoke execute on function private.require_active_user() from public, anon, authenticated, service_role;

-- ============================================================================
-- Restrictive write policies on every table users write
-- ============================================================================

-- Insert: the new row is refused (42501). Update: the rows stay visible to the
-- permissive policies, so the change is refused with 42501 rather than matching
-- nothing. Delete: nothing matches.
do $$
declare
  t text;
  cmds text[];
begin
  for t, cmds in
    select * from (values
      ('profiles', array['update']),
      ('addresses', array['insert', 'update', 'delete']),
      ('vendors', array['insert', 'update', 'delete']),
      ('vendor_hours', array['insert', 'update', 'delete']),
      ('menu_categories', array['insert', 'update', 'delete']),
      ('menu_items', array['insert', 'update', 'delete']),
      ('modifier_groups', array['insert', 'update', 'delete']),
      ('modifiers', array['insert', 'update', 'delete']),
      ('notifications', array['update']),
      ('notification_preferences', array['insert', 'update', 'delete']),
      ('device_tokens', array['insert', 'update', 'delete'])
    ) as v(t, cmds)
  loop
    if 'insert' = any (cmds) then
      execute format('create policy "Only active users insert" on public.%I as restrictive for insert to authenticated with check ((select private.is_active_user()))', t);
    end if;
    if 'update' = any (cmds) then
      execute format('create policy "Only active users update" on public.%I as restrictive for update to authenticated using (true) with check ((select private.is_active_user()))', t);
    end if;
    if 'delete' = any (cmds) then
      execute format('create policy "Only active users delete" on public.%I as restrictive for delete to authenticated using ((select private.is_active_user()))', t);
    end if;
  end loop;
end
$$;

-- ============================================================================
-- Write RPCs
-- ============================================================================

-- The only user write RPC that did not ask require_active_user yet.
create or replace function public.mark_notifications_read(p_ids uuid[] default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_active_user();
  n integer;
begin
  update public.notifications set read_at = now()
  where user_id = uid and read_at is null and (p_ids is null or id = any (p_ids));
  get diagnostics n = row_count;
  return n;
end
$$;

-- ============================================================================
-- Suspension signs the user out everywhere
-- ============================================================================

create or replace function public.admin_set_user_status(p_user_id uuid, p_status text, p_reason text default null)
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
  if p_status = 'suspended' then
    -- As GoTrue's global logout: the sessions go, and their refresh tokens with them (on delete cascade).
    delete from auth.sessions where user_id = p_user_id;
  end if;
  insert into public.notifications (user_id, type, title, body, data)
  values (p_user_id, 'account', case when p_status = 'suspended' then 'Your account is suspended' else 'Your account is active again' end,
          'Reason: ' || reason, jsonb_build_object('status', p_status, 'by', admin_id));
  return p;
end
$$;
comment on function public.admin_set_user_status(uuid, text, text) is 'Admin only: suspends (auth.users.banned_until = infinity, every session and refresh token ended, writes refused at once by RLS) or reactivates (banned_until = null) a user, with a reason.';
