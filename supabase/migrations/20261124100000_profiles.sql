-- Identity: one profile per Supabase Auth user, created by a trigger on auth.users.

create schema if not exists private;
comment on schema private is 'Helpers, triggers and privileged functions; not exposed through the API.';
revoke all on schema private from public;

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  phone text unique,
  full_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.profiles is 'One row per user (auth.users), created automatically at sign-up.';
comment on column public.profiles.id is 'The user id (auth.users.id).';
comment on column public.profiles.phone is 'The user''s phone number in E.164 form (with +), copied from auth.users.';
comment on column public.profiles.full_name is 'Display name chosen by the user.';
comment on column public.profiles.created_at is 'When the profile was created.';
comment on column public.profiles.updated_at is 'When the profile last changed.';

alter table public.profiles enable row level security;

create policy "Users read their own profile" on public.profiles
  for select to authenticated using ((select auth.uid()) = id);
create policy "Users update their own profile" on public.profiles
  for update to authenticated using ((select auth.uid()) = id) with check ((select auth.uid()) = id);

-- Creates the profile for a new auth user. Definer: the auth service inserts users
-- as its own role, which has no rights on public tables.
create function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, phone)
  values (new.id, case when coalesce(new.phone, '') = '' then null else '+' || new.phone end);
  return new;
end
$$;
revoke execute on function private.handle_new_user() from public, anon, authenticated;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function private.handle_new_user();

-- Keeps profiles.phone equal to the Auth phone when a user changes number
-- (GoTrue updates auth.users.phone once the new number is verified).
create function private.handle_user_phone_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles
  set phone = case when coalesce(new.phone, '') = '' then null else '+' || new.phone end
  where id = new.id;
  return null;
end
$$;
revoke execute on function private.handle_user_phone_change() from public, anon, authenticated;

create trigger on_auth_user_phone_changed
  after update of phone on auth.users
  for each row
  when (old.phone is distinct from new.phone)
  execute function private.handle_user_phone_change();
