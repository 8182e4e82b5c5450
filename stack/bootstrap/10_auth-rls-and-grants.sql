-- As on hosted Supabase: every table of `auth` has row level security enabled (with
-- no policies, so only its owner supabase_auth_admin, roles that bypass RLS and
-- security definer functions owned by them see rows), and service_role has no
-- privileges on them: the API roles reach Auth's data only through Auth's API or
-- definer functions. 2_auth.sql granted select to service_role; this takes it back.
do $$
declare
  t record;
begin
  for t in select c.oid::regclass as rel from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'auth' and c.relkind in ('r', 'p') loop
    execute format('alter table %s enable row level security', t.rel);
    execute format('revoke all on table %s from service_role', t.rel);
  end loop;
end
$$;
revoke all on all sequences in schema auth from service_role;
