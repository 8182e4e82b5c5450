// The services the gateway mounts. A service that is not built yet is an
// explicit 501 answer naming what is missing.
import { createAuthService } from './auth/index.ts';
import { createFunctionsService } from './functions/index.ts';
import { createRealtimeService } from './realtime/index.ts';
import { createRestService } from './rest/index.ts';
import type { Service, ServiceContext } from './service.ts';

export async function createServices(_ctx: ServiceContext): Promise<Service[]> {
  return [
    createAuthService(_ctx),
    await createRestService(_ctx, { extraSchemas: _ctx.config.restExtraSchemas }),
    await createRealtimeService(_ctx),
    createFunctionsService(_ctx),
  ];
}
