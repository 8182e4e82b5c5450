-- Platform bootstrap 9: the checks Realtime runs when a postgres_changes
-- binding is subscribed (its subscription table's insert trigger), so that a
-- binding Realtime refuses is refused here with the same message: filter and
-- `select` columns the role may select, values of the column's type, `in`
-- lists of at most 100, `is` keywords, and operators the column's type has.
-- `filters` is a JSON array of {column_name, op, value} as the stack parsed them.
create function realtime.local_stack_check_subscription(entity regclass, role text, filters jsonb, selected text[])
returns void
language plpgsql
as $$
declare
  col_names text[] := coalesce(
    (select array_agg(a.attname::text order by a.attnum) from pg_catalog.pg_attribute a
     where a.attrelid = entity and a.attnum > 0 and not a.attisdropped
       and pg_catalog.has_column_privilege(role, a.attrelid, a.attnum, 'SELECT')),
    '{}');
  f record;
  col_type regtype;
  n int;
  c text;
begin
  for f in select * from jsonb_to_recordset(filters) as x(column_name text, op text, value text) loop
    if not f.column_name = any(col_names) then
      raise exception 'invalid column for filter %', f.column_name;
    end if;
    select atttypid::regtype into col_type from pg_catalog.pg_attribute where attrelid = entity and attname = f.column_name;
    if f.op = 'in' then
      execute format('select cardinality(%L::%s)', f.value, col_type::text || '[]') into n;
      if coalesce(n, 0) > 100 then
        raise exception 'too many values for `in` filter. Maximum 100';
      end if;
    elsif f.op = 'is' then
      if f.value not in ('null', 'true', 'false', 'unknown') then
        raise exception 'invalid value for is filter: must be null, true, false, or unknown';
      end if;
      if f.value <> 'null' and col_type <> 'boolean'::regtype then
        raise exception 'is % filter requires a boolean column, got %', f.value, col_type::text;
      end if;
    elsif f.op in ('like', 'ilike') then
      if not exists (select 1 from pg_catalog.pg_operator where oprname = '~~' and oprleft = col_type) then
        raise exception 'operator % requires a text-compatible column type, got %', f.op, col_type::text;
      end if;
    elsif f.op in ('match', 'imatch') then
      if not exists (select 1 from pg_catalog.pg_operator
                     where oprname = case f.op when 'imatch' then '~*' else '~' end
                       and oprleft = col_type and oprright = col_type and oprresult = 'boolean'::regtype) then
        raise exception 'operator % requires a text-compatible column type, got %', f.op, col_type::text;
      end if;
      begin
        perform '' ~ f.value;
      exception when others then
        raise exception 'invalid regular expression for % filter: %', f.op, sqlerrm;
      end;
    else
      -- eq, neq, lt, lte, gt, gte, isdistinct: the value must be of the column's type.
      execute format('select %L::%s', f.value, col_type::text);
    end if;
  end loop;
  foreach c in array coalesce(selected, '{}') loop
    if not c = any(col_names) then
      raise exception 'invalid column for select %', c;
    end if;
  end loop;
end
$$;

revoke all on function realtime.local_stack_check_subscription(regclass, text, jsonb, text[]) from public;
