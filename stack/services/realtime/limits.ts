// Supabase Realtime's per-client limits, with its defaults (config/runtime.exs:
// TENANT_MAX_CHANNELS_PER_CLIENT, TENANT_MAX_JOINS_PER_SECOND,
// TENANT_MAX_EVENTS_PER_SECOND, CLIENT_PRESENCE_MAX_CALLS / _WINDOW_MS) and its
// error texts. Realtime counts joins and events per project; here they are
// counted per socket, so one client's flood never refuses or delays another's.

export const MAX_CHANNELS_PER_CLIENT = 100;
export const MAX_JOINS_PER_SECOND = 100;
export const MAX_EVENTS_PER_SECOND = 100;
export const PRESENCE_MAX_CALLS = 5;
export const PRESENCE_WINDOW_MS = 30_000;
/** postgres_changes bindings in one join: Realtime has no such bound; ours keeps a join's checks short. */
export const MAX_BINDINGS_PER_JOIN = 100;

export const TOO_MANY_CHANNELS = 'ChannelRateLimitReached: Too many channels';
export const TOO_MANY_JOINS = 'ClientJoinRateLimitReached: Too many joins per second';
export const TOO_MANY_EVENTS = 'Too many messages per second';
export const TOO_MANY_PRESENCE_CALLS = 'Client presence rate limit exceeded';
export const TOO_MANY_BINDINGS = `InvalidJoinPayload: at most ${MAX_BINDINGS_PER_JOIN} postgres_changes bindings per channel`;

/** Counts calls in a fixed window; `hit` is false once `max` calls were made in the current one. */
export class RateWindow {
  private count = 0;
  private resetAt = 0;

  constructor(private readonly max: number, private readonly windowMs: number) {}

  hit(now = Date.now()): boolean {
    if (now >= this.resetAt) {
      this.count = 0;
      this.resetAt = now + this.windowMs;
    }
    this.count += 1;
    return this.count <= this.max;
  }
}
