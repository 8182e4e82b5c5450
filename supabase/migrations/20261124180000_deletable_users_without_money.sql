-- A user with no money history can be deleted (Auth's admin delete, GDPR
-- requests): their empty wallet goes with them. A wallet with ledger rows still
-- blocks the deletion (wallet_transactions restricts), so money never vanishes;
-- such users are suspended instead.
alter table public.wallets drop constraint wallets_user_id_fkey;
alter table public.wallets
  add constraint wallets_user_id_fkey foreign key (user_id) references public.profiles (id) on delete cascade;
comment on column public.wallets.user_id is 'Owner of the wallet. Deleting the user deletes an unused wallet; a wallet with ledger rows blocks the deletion.';
