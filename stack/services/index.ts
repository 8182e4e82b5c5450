// The services the gateway mounts. Supabase APIs the local stack does not
// provide are mounted too, as an explicit 501 answer naming what is missing.
import { createAuthService } from './auth/index.ts';
import { createFunctionsService } from './functions/index.ts';
import { createRealtimeService } from './realtime/index.ts';
import { createRestService } from './rest/index.ts';
import type { Service, ServiceContext } from './service.ts';
import { unimplementedService } from './unimplemented.ts';

export async function createServices(ctx: ServiceContext): Promise<Service[]> {
  return [
    createAuthService(ctx),
    await createRestService(ctx, { extraSchemas: ctx.config.restExtraSchemas }),
    await createRealtimeService(ctx),
    createFunctionsService(ctx),
    unimplementedService('/storage/v1', 'Supabase Storage'),
    unimplementedService('/graphql/v1', 'GraphQL (pg_graphql)'),
  ];
}
