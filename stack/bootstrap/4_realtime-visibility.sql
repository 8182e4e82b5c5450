-- Platform bootstrap 4: row visibility for postgres_changes, checked as each
-- subscriber (role and JWT claims) the way Realtime's walrus does, but for
-- many subscribers and many rows in one call: `query` selects which of `keys`
-- (a JSON array of primary-key tuples) the current role can see. A subscriber
-- whose check raises gets its error back; the others are unaffected.
create function realtime.local_stack_visible(query text, keys jsonb, subscribers jsonb)
returns table (subscriber int, visible jsonb, error text)
language plpgsql
as $$
declare
  s jsonb;
begin
  for s in select value from jsonb_array_elements(subscribers) loop
    subscriber := (s->>'i')::int;
    visible := null;
    error := null;
    begin
      perform set_config('role', s->>'role', true),
              set_config('request.jwt.claims', (s->'claims')::text, true),
              set_config('request.jwt.claim.sub', coalesce(s->'claims'->>'sub', ''), true),
              set_config('request.jwt.claim.role', s->>'role', true);
      execute query into visible using keys;
      perform set_config('role', 'none', true);
    exception when others then
      -- The subtransaction's rollback also restores the role and claims.
      error := sqlstate || ': ' || sqlerrm;
    end;
    return next;
  end loop;
end
$$;

revoke all on function realtime.local_stack_visible(text, jsonb, jsonb) from public;
