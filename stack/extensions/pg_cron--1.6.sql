-- Local stand-in for pg_cron 1.6: the schema, tables, columns, defaults,
-- grants, row security and functions of citusdata/pg_cron (pg_cron.sql plus its
-- upgrade scripts up to 1.6), written in SQL instead of C. The stack's
-- scheduler (stack/services/background/cron.ts) reads cron.job and writes
-- cron.job_run_details as pg_cron's background worker does.
--
-- Differences, because SQL functions cannot see their caller's role the way
-- pg_cron's C functions do: the functions are security invoker and rely on the
-- policies on cron.job, so everyone may insert/update/delete their own rows of
-- cron.job (pg_cron grants only select). Helpers whose names start with `_` are
-- local additions (pg_cron parses schedules in C).

\echo Use "CREATE EXTENSION pg_cron" to load this file. \quit

create schema cron;
create sequence cron.jobid_seq;

create table cron.job (
  jobid bigint primary key default pg_catalog.nextval('cron.jobid_seq'),
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport int not null default pg_catalog.inet_server_port(),
  database text not null default pg_catalog.current_database(),
  username text not null default current_user,
  active boolean not null default 'true',
  jobname text,
  constraint jobname_username_uniq unique (jobname, username)
);
grant select on cron.job to public;
-- Local difference (see the header): pg_cron writes through C functions instead.
grant insert, update, delete on cron.job to public;
alter table cron.job enable row level security;
create policy cron_job_policy on cron.job using (username operator(pg_catalog.=) current_user);

create sequence cron.runid_seq;
create table cron.job_run_details (
  jobid bigint,
  runid bigint primary key default pg_catalog.nextval('cron.runid_seq'),
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);
grant select on cron.job_run_details to public;
grant delete on cron.job_run_details to public;
alter table cron.job_run_details enable row level security;
create policy cron_job_run_details_policy on cron.job_run_details using (username operator(pg_catalog.=) current_user);

grant select on sequence cron.runid_seq to public;
grant select, usage on sequence cron.jobid_seq to public;

select pg_catalog.pg_extension_config_dump('cron.job', '');
select pg_catalog.pg_extension_config_dump('cron.jobid_seq', '');
select pg_catalog.pg_extension_config_dump('cron.job_run_details', '');
select pg_catalog.pg_extension_config_dump('cron.runid_seq', '');

-- Schedules: pg_cron's '[1-59] seconds', or five cron fields (minute hour
-- day-of-month month day-of-week) with lists, ranges, steps, names, `$` for the
-- last day of the month and the @hourly/@daily/... macros, evaluated in UTC
-- (pg_cron's default cron.timezone, GMT).

/* Seconds of an interval schedule ('10 seconds'), or null for a cron schedule. */
create function cron._interval_seconds(schedule text) returns integer
language sql immutable strict set search_path = ''
as $$
  select case when m[1]::bigint between 1 and 59 then m[1]::integer end
  from pg_catalog.regexp_match(pg_catalog.lower(schedule), '^\s*([0-9]{1,9})\s*seconds?\s*$') m
$$;

/* The values one cron field allows, or null when the field is malformed. */
create function cron._field_values(field text, lo integer, hi integer, names text[]) returns integer[]
language plpgsql immutable strict set search_path = ''
as $$
declare
  part text;
  m text[];
  a integer;
  b integer;
  step integer;
  result integer[] := '{}';
begin
  foreach part in array pg_catalog.string_to_array(pg_catalog.lower(field), ',') loop
    m := pg_catalog.regexp_match(part, '^(\*|([0-9a-z$]+)(-([0-9a-z]+))?)(/([0-9]+))?$');
    if m is null then return null; end if;
    if m[1] = '*' then
      a := lo; b := hi;
    else
      a := case when m[2] ~ '^[0-9]{1,4}$' then m[2]::integer
                when m[2] = '$' and hi = 31 then 32
                else pg_catalog.array_position(names, m[2]) - 1 + lo end;
      b := case when m[4] is null then a
                when m[4] ~ '^[0-9]{1,4}$' then m[4]::integer
                else pg_catalog.array_position(names, m[4]) - 1 + lo end;
      if a is null or b is null then return null; end if;
      if a = 32 then
        if m[4] is not null or m[6] is not null then return null; end if;
        result := result || 32;
        continue;
      end if;
      -- A single value with a step runs from it to the end of the range.
      if m[4] is null and m[6] is not null then b := hi; end if;
    end if;
    step := coalesce(m[6]::integer, 1);
    if a < lo or b > hi or a > b or step < 1 then return null; end if;
    result := result || array(select pg_catalog.generate_series(a, b, step));
  end loop;
  return result;
end
$$;

/* Whether a cron schedule fires in the minute of `ts` (UTC); raises on an invalid schedule. */
create function cron._schedule_matches(schedule text, ts timestamptz) returns boolean
language plpgsql immutable strict set search_path = ''
as $$
declare
  spec text := pg_catalog.lower(pg_catalog.btrim(schedule));
  f text[];
  t timestamp := pg_catalog.timezone('UTC', ts);
  minutes integer[];
  hours integer[];
  doms integer[];
  months integer[];
  dows integer[];
  dom_ok boolean;
  dow_ok boolean;
begin
  spec := case spec when '@yearly' then '0 0 1 1 *' when '@annually' then '0 0 1 1 *'
                    when '@monthly' then '0 0 1 * *' when '@weekly' then '0 0 * * 0'
                    when '@daily' then '0 0 * * *' when '@midnight' then '0 0 * * *'
                    when '@hourly' then '0 * * * *' else spec end;
  f := pg_catalog.regexp_split_to_array(spec, '\s+');
  if pg_catalog.array_length(f, 1) is distinct from 5 then
    raise exception 'invalid schedule: %', schedule using errcode = '22023', hint = 'Use cron format (e.g. 5 4 * * *), or interval format ''[1-59] seconds''';
  end if;
  minutes := cron._field_values(f[1], 0, 59, '{}');
  hours := cron._field_values(f[2], 0, 23, '{}');
  doms := cron._field_values(f[3], 1, 31, '{}');
  months := cron._field_values(f[4], 1, 12, '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}');
  dows := cron._field_values(f[5], 0, 7, '{sun,mon,tue,wed,thu,fri,sat}');
  if minutes is null or hours is null or doms is null or months is null or dows is null then
    raise exception 'invalid schedule: %', schedule using errcode = '22023', hint = 'Use cron format (e.g. 5 4 * * *), or interval format ''[1-59] seconds''';
  end if;
  dom_ok := pg_catalog.date_part('day', t)::integer = any (doms)
            or (32 = any (doms) and pg_catalog.date_part('day', t + interval '1 day') = 1);
  dow_ok := pg_catalog.date_part('dow', t)::integer = any (dows)
            or (pg_catalog.date_part('dow', t) = 0 and 7 = any (dows));
  return pg_catalog.date_part('minute', t)::integer = any (minutes)
     and pg_catalog.date_part('hour', t)::integer = any (hours)
     and pg_catalog.date_part('month', t)::integer = any (months)
     -- As in cron: when both day fields are restricted, either may match.
     and case when f[3] like '*%' or f[5] like '*%' then dom_ok and dow_ok else dom_ok or dow_ok end;
end
$$;

create function cron._validate_schedule(schedule text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if cron._interval_seconds(schedule) is null then
    perform cron._schedule_matches(schedule, pg_catalog.now());
  end if;
end
$$;

create function cron._check_can_run(p_username text, p_database text) returns void
language plpgsql stable set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = p_username) then
    raise exception 'role "%" does not exist', p_username;
  end if;
  if not exists (select from pg_catalog.pg_database where datname = p_database) then
    raise exception 'database "%" does not exist', p_database;
  end if;
  if not pg_catalog.has_database_privilege(p_username, p_database, 'CONNECT') then
    raise exception 'User % does not have CONNECT privilege on %', p_username, p_database;
  end if;
end
$$;

create function cron.schedule(schedule text, command text) returns bigint
language plpgsql strict set search_path = ''
as $$
#variable_conflict use_column
declare
  v_jobid bigint;
begin
  perform cron._validate_schedule($1);
  perform cron._check_can_run(current_user, pg_catalog.current_database());
  insert into cron.job (schedule, command, nodename, nodeport, database, username, active)
  values ($1, $2, 'localhost', pg_catalog.inet_server_port(), pg_catalog.current_database(), current_user, true)
  returning jobid into v_jobid;
  return v_jobid;
end
$$;
comment on function cron.schedule(text, text) is 'schedule a pg_cron job';

create function cron.schedule(job_name text, schedule text, command text) returns bigint
language plpgsql set search_path = ''
as $$
#variable_conflict use_column
declare
  v_jobid bigint;
begin
  if $1 is null then raise exception 'job_name can not be NULL'; end if;
  if $2 is null then raise exception 'schedule can not be NULL'; end if;
  if $3 is null then raise exception 'command can not be NULL'; end if;
  perform cron._validate_schedule($2);
  perform cron._check_can_run(current_user, pg_catalog.current_database());
  -- As pg_cron: scheduling an existing name of the same user replaces its schedule and command.
  insert into cron.job (schedule, command, nodename, nodeport, database, username, active, jobname)
  values ($2, $3, 'localhost', pg_catalog.inet_server_port(), pg_catalog.current_database(), current_user, true, $1)
  on conflict on constraint jobname_username_uniq
  do update set schedule = excluded.schedule, command = excluded.command, database = excluded.database
  returning jobid into v_jobid;
  return v_jobid;
end
$$;
comment on function cron.schedule(text, text, text) is 'schedule a pg_cron job';

create function cron.schedule_in_database(job_name text, schedule text, command text, database text, username text default null, active boolean default 'true')
returns bigint
language plpgsql set search_path = ''
as $$
#variable_conflict use_column
declare
  v_user text := coalesce($5, current_user);
  v_jobid bigint;
begin
  if $1 is null then raise exception 'job_name can not be NULL'; end if;
  if $2 is null then raise exception 'schedule can not be NULL'; end if;
  if $3 is null then raise exception 'command can not be NULL'; end if;
  if $5 is not null and not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
    raise exception 'must be superuser to create a job for another role';
  end if;
  perform cron._validate_schedule($2);
  perform cron._check_can_run(v_user, $4);
  insert into cron.job (schedule, command, nodename, nodeport, database, username, active, jobname)
  values ($2, $3, 'localhost', pg_catalog.inet_server_port(), $4, v_user, coalesce($6, true), $1)
  on conflict on constraint jobname_username_uniq
  do update set schedule = excluded.schedule, command = excluded.command, database = excluded.database
  returning jobid into v_jobid;
  return v_jobid;
end
$$;
comment on function cron.schedule_in_database(text, text, text, text, text, boolean) is 'schedule a pg_cron job';
revoke all on function cron.schedule_in_database(text, text, text, text, text, boolean) from public;

create function cron.unschedule(job_id bigint) returns boolean
language plpgsql strict set search_path = ''
as $$
begin
  delete from cron.job where jobid = $1;
  if not found then
    raise exception 'could not find valid entry for job %', $1;
  end if;
  return true;
end
$$;
comment on function cron.unschedule(bigint) is 'unschedule a pg_cron job';

create function cron.unschedule(job_name text) returns boolean
language plpgsql strict set search_path = ''
as $$
begin
  delete from cron.job where jobname = $1 and username = current_user;
  if not found then
    raise exception 'could not find valid entry for job ''%''', $1;
  end if;
  return true;
end
$$;
comment on function cron.unschedule(text) is 'unschedule a pg_cron job';

create function cron.alter_job(job_id bigint, schedule text default null, command text default null, database text default null, username text default null, active boolean default null)
returns void
language plpgsql set search_path = ''
as $$
#variable_conflict use_column
declare
  v_super boolean := (select rolsuper from pg_catalog.pg_roles where rolname = current_user);
begin
  if $1 is null then raise exception 'job_id can not be NULL'; end if;
  if $5 is not null and not v_super then
    raise exception 'must be superuser to alter username';
  end if;
  if $2 is null and $3 is null and $4 is null and $5 is null and $6 is null then
    raise exception 'no updates specified'
      using hint = 'You must specify at least one job attribute to change when calling alter_job';
  end if;
  if $2 is not null then perform cron._validate_schedule($2); end if;
  if $4 is not null or $5 is not null then
    perform cron._check_can_run(coalesce($5, current_user), coalesce($4, pg_catalog.current_database()));
  end if;
  update cron.job
     set schedule = coalesce($2, schedule), command = coalesce($3, command), database = coalesce($4, database),
         username = coalesce($5, username), active = coalesce($6, active)
   where jobid = $1 and (v_super or username = current_user);
  if not found then
    raise exception 'Job % does not exist or you don''t own it', $1;
  end if;
end
$$;
comment on function cron.alter_job(bigint, text, text, text, text, boolean) is 'Alter the job identified by job_id. Any option left as NULL will not be modified.';
revoke all on function cron.alter_job(bigint, text, text, text, text, boolean) from public;

-- pg_cron's worker reloads its job list when cron.job changes; the stack's scheduler listens for this.
create function cron.job_cache_invalidate() returns trigger
language plpgsql set search_path = ''
as $$
begin
  perform pg_catalog.pg_notify('cron_job_cache_invalidate', '');
  return null;
end
$$;
comment on function cron.job_cache_invalidate() is 'invalidate job cache';

create trigger cron_job_cache_invalidate
  after insert or update or delete or truncate on cron.job
  for statement execute procedure cron.job_cache_invalidate();
