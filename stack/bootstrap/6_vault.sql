-- Platform bootstrap 6: Supabase Vault, which every hosted project has
-- (extension supabase_vault in schema vault), with what hosted grants postgres.
-- The extension is the stand-in in stack/extensions (no encryption).
create schema if not exists vault;
create extension if not exists supabase_vault with schema vault;
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets to postgres with grant option;
grant select on vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret(text, text, text, uuid) to postgres with grant option;
grant execute on function vault.update_secret(uuid, text, text, text, uuid) to postgres with grant option;
