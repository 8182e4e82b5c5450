-- The menu currency is the platform's too: wallets are NGN, so a vendor must
-- not price its menu (and so its orders) in another currency by itself.

create or replace function private.vendors_guard() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  privileged boolean := current_user not in ('anon', 'authenticated') or private.is_admin();
begin
  if tg_op = 'INSERT' then
    if not privileged then
      new.status := 'pending';
      new.commission_rate := 0.15;
      new.rating := null;
      new.rating_count := 0;
      new.currency := 'NGN';
    end if;
    if new.slug is null then
      new.slug := trim(both '-' from regexp_replace(lower(new.name), '[^a-z0-9]+', '-', 'g')) || '-' || substr(replace(new.id::text, '-', ''), 1, 6);
    end if;
  elsif not privileged and (
    new.status is distinct from old.status or new.commission_rate is distinct from old.commission_rate
    or new.owner_id is distinct from old.owner_id or new.slug is distinct from old.slug
    or new.rating is distinct from old.rating or new.rating_count is distinct from old.rating_count
    or new.currency is distinct from old.currency
  ) then
    perform private.fail('protected_column', 'Only the platform may change status, commission, owner, slug, rating or currency.', '42501');
  end if;
  new.search_text := lower(new.name || ' ' || array_to_string(new.cuisines, ' '));
  new.updated_at := now();
  return new;
end
$$;
