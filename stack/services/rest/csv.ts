// `Accept: text/csv`, built by Postgres as PostgREST builds it: a header line of
// the first row's keys, then each row's record text form without its parentheses,
// so values are Postgres's text output (jsonb's spacing, `t`/`f`, timestamps) and
// are quoted as record_out quotes them (spaces, quotes, commas, parentheses, backslashes).
export function csvBodyExpr(source: string): string {
  const header = `(select coalesce(string_agg(_k, ','), '') from (select json_object_keys(_r)::text as _k from (select row_to_json(_h) as _r from (${source}) as _h limit 1) as _f) as _a)`;
  const rows = `(select coalesce(string_agg(substring(_s::text, 2, length(_s::text) - 2), E'\\n'), '') from (${source}) as _s)`;
  return `(${header} || E'\\n' || ${rows})`;
}
