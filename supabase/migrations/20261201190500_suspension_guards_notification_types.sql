-- Suspended users write nothing (20261201140000_suspension_at_once.sql): the
-- same restrictive guards on the per-type notification preferences, which came
-- in a migration that sorts before the helper.
create policy "Only active users insert" on public.notification_type_preferences
  as restrictive for insert to authenticated with check ((select private.is_active_user()));
create policy "Only active users update" on public.notification_type_preferences
  as restrictive for update to authenticated using (true) with check ((select private.is_active_user()));
create policy "Only active users delete" on public.notification_type_preferences
  as restrictive for delete to authenticated using ((select private.is_active_user()));
