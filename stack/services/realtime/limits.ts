// Supabase Realtime's limits, with its defaults (config/runtime.exs:
// TENANT_MAX_CHANNELS_PER_CLIENT, TENANT_MAX_JOINS_PER_SECOND,
// TENANT_MAX_EVENTS_PER_SECOND, CLIENT_PRESENCE_MAX_CALLS / _WINDOW_MS), its
// error texts and its way of counting (RateCounter: the average per second over
// the last minute, in 5 s ticks). Realtime counts joins and events per project;
// here they are counted per socket, so one client's flood never refuses another's.

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

/**
 * Realtime's RateCounter: counts per 5 s tick, keeps the last 12 ticks, and is
 * triggered while their average per second exceeds `limit` (judged at each tick,
 * so a short burst passes and a sustained flood is stopped within seconds).
 */
export class RateCounter {
  private readonly ticks: number[] = [];
  private current = 0;
  private tickEnds = 0;
  private triggered = false;

  constructor(private readonly limit: number, private readonly tickMs = 5000, private readonly maxTicks = 12) {}

  /** Counts one event; false while the limit is triggered. */
  add(now = Date.now()): boolean {
    this.advance(now);
    this.current += 1;
    return !this.triggered;
  }

  private advance(now: number): void {
    if (this.tickEnds === 0 || now - this.tickEnds > this.tickMs * this.maxTicks) {
      // First use, or idle for longer than the window: nothing left to average.
      this.ticks.length = 0;
      this.current = 0;
      this.triggered = false;
      this.tickEnds = now + this.tickMs;
      return;
    }
    while (now >= this.tickEnds) {
      this.ticks.unshift(this.current);
      this.ticks.length = Math.min(this.ticks.length, this.maxTicks);
      this.current = 0;
      this.tickEnds += this.tickMs;
      const avg = this.ticks.reduce((a, b) => a + b, 0) / this.ticks.length / (this.tickMs / 1000);
      this.triggered = avg > this.limit;
    }
  }
}

/** Realtime's per-client presence limit: `max` calls per window, the window starting at the first call. */
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
