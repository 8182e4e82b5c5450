// The contract between the gateway and each API service it mounts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StackConfig } from '../config.ts';

export interface ServiceContext {
  config: StackConfig;
  log: (line: string) => void;
}

/** What the gateway learnt about the caller before handing the request on. */
export interface GatewayRequest {
  /** Path below the mount point, starting with `/` (query string excluded). */
  path: string;
  url: URL;
  /** The `apikey` the caller presented (header or query), already checked, or null on open routes. */
  apiKey: string | null;
  /** Role of the API key (`anon` or `service_role`), or null on open routes. */
  apiKeyRole: string | null;
}

export interface ComponentHealth {
  ok: boolean;
  detail?: string;
}

export interface Service {
  /** Mount point below the gateway, e.g. `/rest/v1`. */
  readonly mount: string;
  /** Paths (below the mount) that need no API key, as in Supabase's gateway. */
  readonly openPaths?: (path: string, method: string) => boolean;
  handle(req: IncomingMessage, res: ServerResponse, gw: GatewayRequest): Promise<void> | void;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, gw: GatewayRequest): void;
  /** Reported at /health; absent for APIs the stack does not provide. */
  health?(): Promise<ComponentHealth>;
  close(): Promise<void>;
}
