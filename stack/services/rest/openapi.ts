// `GET /rest/v1/`: a Swagger 2.0 description of the exposed schema for tools,
// built from the schema cache (tables, views, columns and functions).
import type { Column, SchemaCache } from './schema-cache.ts';

function property(col: Column): Record<string, unknown> {
  const t = col.typeName;
  const type = /^(int2|int4|int8)$/.test(t) ? 'integer' : /^(float4|float8|numeric)$/.test(t) ? 'number' : t === 'bool' ? 'boolean' : t.startsWith('_') ? 'array' : /^json/.test(t) ? undefined : 'string';
  return { format: col.type, ...(type ? { type } : {}), ...(col.default ? { default: col.default } : {}) };
}

export function openApi(cache: SchemaCache, schema: string, apiUrl: string): Record<string, unknown> {
  const url = new URL(apiUrl);
  const paths: Record<string, unknown> = { '/': { get: { tags: ['Introspection'], summary: 'OpenAPI description (this document)', responses: { 200: { description: 'OK' } } } } };
  const definitions: Record<string, unknown> = {};
  for (const table of cache.tables.values()) {
    if (table.schema !== schema) continue;
    const ops: Record<string, unknown> = { get: { tags: [table.name], responses: { 200: { description: 'OK' }, 206: { description: 'Partial Content' } } } };
    if (table.insertable) {
      ops.post = { tags: [table.name], responses: { 201: { description: 'Created' } } };
      ops.patch = { tags: [table.name], responses: { 204: { description: 'No Content' } } };
      ops.delete = { tags: [table.name], responses: { 204: { description: 'No Content' } } };
    }
    paths[`/${table.name}`] = ops;
    definitions[table.name] = {
      type: 'object',
      required: table.columns.filter((c) => !c.nullable && c.default === null).map((c) => c.name),
      properties: Object.fromEntries(table.columns.map((c) => [c.name, property(c)])),
    };
  }
  for (const overloads of cache.routines.values()) {
    const routine = overloads[0];
    if (routine.schema !== schema) continue;
    paths[`/rpc/${routine.name}`] = {
      post: {
        tags: ['(rpc) ' + routine.name],
        parameters: [{ in: 'body', name: 'args', required: true, schema: { type: 'object', properties: Object.fromEntries(routine.args.map((a) => [a.name, { format: a.type }])) } }],
        responses: { 200: { description: 'OK' } },
      },
    };
  }
  return {
    swagger: '2.0',
    info: { title: 'Rambini local stack (PostgREST-compatible)', version: '12' },
    host: url.host,
    basePath: '/rest/v1',
    schemes: [url.protocol.replace(':', '')],
    consumes: ['application/json', 'application/vnd.pgrst.object+json', 'text/csv'],
    produces: ['application/json', 'application/vnd.pgrst.object+json', 'text/csv'],
    paths,
    definitions,
  };
}
