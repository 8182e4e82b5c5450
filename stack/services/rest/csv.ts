// `Accept: text/csv`: the JSON rows rendered as CSV with a header line, as PostgREST does.
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(jsonArray: string | null): string {
  const rows = JSON.parse(jsonArray ?? '[]') as Array<Record<string, unknown>> | Record<string, unknown>;
  const list = Array.isArray(rows) ? rows : [rows];
  if (list.length === 0) return '';
  const columns = Object.keys(list[0]);
  return [columns.map(cell).join(','), ...list.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n');
}
