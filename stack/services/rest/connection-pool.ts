// A pool of single-connection clients, each lent to one request at a time, so a
// request can pipeline BEGIN, its settings, its statement and COMMIT in one round
// trip (the client only allows explicit transactions on a one-connection client).
//
// Fair between callers: one caller (a user, or an address for anonymous
// requests) holds all but RESERVED of the connections, and waiting requests are
// served one caller at a time in turn, so one user's slow queries (a regex
// filter running to the statement timeout) queue behind each other instead of
// holding every connection, while a lone caller keeps nearly the whole pool.
import postgres from 'postgres';

/** Connections one caller can never take: they stay free for everyone else. */
const RESERVED = 2;

export class ConnectionPool {
  private readonly idle: postgres.Sql[];
  private readonly all: postgres.Sql[];
  /** Waiting requests per caller, in arrival order; the map's order is the turn order. */
  private readonly waiting = new Map<string, Array<(sql: postgres.Sql) => void>>();
  private readonly held = new Map<string, number>();
  readonly perCaller: number;

  constructor(private readonly url: string, size: number, private readonly applicationName: string) {
    this.all = Array.from({ length: size }, () => this.client());
    this.idle = [...this.all];
    this.perCaller = Math.max(1, size - RESERVED);
  }

  private client(): postgres.Sql {
    const sql = postgres(this.url, { max: 1, onnotice: () => {}, idle_timeout: 30, fetch_types: false, connection: { application_name: this.applicationName } });
    // Like PostgREST, every value goes to Postgres as text for the server to type; the client's
    // own serializers (bool, json, …) would re-encode strings the server has typed.
    for (const oid of Object.keys(sql.options.serializers)) delete sql.options.serializers[oid as unknown as number];
    return sql;
  }

  acquire(caller: string): Promise<postgres.Sql> {
    if ((this.held.get(caller) ?? 0) < this.perCaller && !this.waiting.has(caller)) {
      const sql = this.idle.pop();
      if (sql) {
        this.take(caller);
        return Promise.resolve(sql);
      }
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(caller);
      if (queue) queue.push(resolve);
      else this.waiting.set(caller, [resolve]);
    });
  }

  release(caller: string, sql: postgres.Sql): void {
    const left = (this.held.get(caller) ?? 1) - 1;
    if (left > 0) this.held.set(caller, left);
    else this.held.delete(caller);
    this.idle.push(sql);
    this.dispatch();
  }

  /**
   * Gives back a client whose connection was lost, and puts a new one in its
   * place: postgres.js would reconnect the old one with the lost connection's
   * last query and error still on it, and fail or stall the next request.
   */
  replace(caller: string, sql: postgres.Sql): void {
    const fresh = this.client();
    this.all[this.all.indexOf(sql)] = fresh;
    sql.end({ timeout: 0 }).catch(() => {});
    this.release(caller, fresh);
  }

  /** Lends idle connections to waiting callers under their share, each in turn. */
  private dispatch(): void {
    for (const [caller, queue] of this.waiting) {
      if (this.idle.length === 0) return;
      if ((this.held.get(caller) ?? 0) >= this.perCaller) continue;
      const next = queue.shift()!;
      // The caller goes to the back of the turn order.
      this.waiting.delete(caller);
      if (queue.length) this.waiting.set(caller, queue);
      this.take(caller);
      next(this.idle.pop()!);
    }
  }

  private take(caller: string): void {
    this.held.set(caller, (this.held.get(caller) ?? 0) + 1);
  }

  async end(): Promise<void> {
    await Promise.all(this.all.map((sql) => sql.end({ timeout: 5 })));
  }
}
