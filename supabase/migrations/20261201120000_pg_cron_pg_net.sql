-- Scheduled jobs (pg_cron) and HTTP calls from the database (pg_net), created
-- as Supabase's docs create them. Hosted Supabase grants `postgres` the use of
-- schemas cron and net when they are created; the local stack does the same.
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists pg_net with schema extensions;
