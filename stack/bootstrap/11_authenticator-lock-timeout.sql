-- Platform bootstrap 11: hosted Supabase gives PostgREST's login role a lock
-- timeout besides its statement timeout, so a request waiting on a row lock
-- gives up after 8 s instead of holding a pooled connection.
alter role authenticator set lock_timeout = '8s';
