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
