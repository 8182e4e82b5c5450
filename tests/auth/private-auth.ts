// A second Auth instance on the test run's database, behind its own gateway,
// with config.toml settings changed for one test file: as running GoTrue with
// other environment. Its rate limits and hook are its own, so tests that
// exhaust a limit or point the Send SMS hook at a test server disturb nobody.
import type { SupabaseClient } from '@supabase/supabase-js';
import { loadConfig, type Toml } from '../../stack/config.ts';
import { createGateway } from '../../stack/gateway.ts';
import { freePort } from '../../stack/postgres.ts';
import { createAuthService } from '../../stack/services/auth/index.ts';
import { stackEnv } from '../helpers/env.ts';
import { testClient } from '../helpers/supabase.ts';

export interface PrivateAuth {
  url: string;
  anonKey: string;
  serviceRoleKey: string;
  client(): SupabaseClient;
  admin(): SupabaseClient;
  close(): Promise<void>;
}

/** Starts Auth with `[auth]` settings patched by `patch` (applied to a copy of config.toml); `log` gets its log lines. */
export async function startPrivateAuth(patch: (auth: Toml) => void, log: (line: string) => void = () => {}): Promise<PrivateAuth> {
  const env = stackEnv();
  const dbPort = Number(new URL(env.dbUrl).port);
  const config = loadConfig({ apiPort: await freePort(), dbPort });
  config.toml = structuredClone(config.toml);
  patch(config.toml.auth);
  const auth = createAuthService({ config, log });
  const gateway = createGateway(config, [auth], async () => ({ ok: true }), log);
  await new Promise<void>((resolve) => gateway.server.listen(config.apiPort, config.host, resolve));
  const options = { url: config.apiUrl, auth: { detectSessionInUrl: false } };
  return {
    url: config.apiUrl,
    anonKey: config.keys.anonKey,
    serviceRoleKey: config.keys.serviceRoleKey,
    client: () => testClient({ ...options, key: config.keys.anonKey }),
    admin: () => testClient({ ...options, key: config.keys.serviceRoleKey }),
    async close() {
      await gateway.close();
      await auth.close();
    },
  };
}
