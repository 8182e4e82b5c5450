// A second /rest/v1 on the test run's database, behind its own gateway, logging
// in as its own role: as running a second PostgREST whose in-database
// configuration (the login role's `pgrst.*` settings) differs from the shared
// stack's, without changing what other test files see.
import type { SupabaseClient } from '@supabase/supabase-js';
import { loadConfig } from '../../stack/config.ts';
import { createGateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createRestService } from '../../stack/services/rest/index.ts';
import { serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';
import { SCHEMA } from './fixture.ts';

export interface PrivateRest {
  url: string;
  client(): SupabaseClient<any, any, any>;
  fetch(path: string, init?: RequestInit & { headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/** Creates login role `role` like `authenticator` with `settings` (`pgrst.*` names), and serves /rest/v1 as it. */
export async function startPrivateRest(role: string, settings: Record<string, string>): Promise<PrivateRest> {
  const sql = serviceSql();
  await sql.unsafe(`drop role if exists ${role}`).catch(() => {});
  await sql.unsafe(`create role ${role} login noinherit password 'postgres'`);
  await sql.unsafe(`grant anon, authenticated, service_role to ${role}`);
  for (const [name, value] of Object.entries(settings)) await sql.unsafe(`alter role ${role} set ${name} = '${value.replace(/'/g, "''")}'`);
  const env = stackEnv();
  const config = loadConfig({ apiPort: await freePort(), dbPort: Number(new URL(env.dbUrl).port) });
  const rest = await createRestService({ config, log: () => {} }, { extraSchemas: [SCHEMA], loginRole: role });
  const gateway = createGateway(config, [rest], async () => ({ ok: true }), () => {});
  await new Promise<void>((resolve) => gateway.server.listen(config.apiPort, config.host, resolve));
  return {
    url: config.apiUrl,
    client: () => testClient({ url: config.apiUrl, key: config.keys.serviceRoleKey, db: { schema: SCHEMA } }),
    fetch: (path, init = {}) =>
      fetch(`${config.apiUrl}/rest/v1${path}`, {
        ...init,
        headers: { apikey: config.keys.serviceRoleKey, authorization: `Bearer ${config.keys.serviceRoleKey}`, 'accept-profile': SCHEMA, 'content-profile': SCHEMA, ...init.headers },
      }),
    async close() {
      await gateway.close();
      await rest.close();
      await sql.unsafe(`drop role if exists ${role}`).catch(() => {});
    },
  };
}
