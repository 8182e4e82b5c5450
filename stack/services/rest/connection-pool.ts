// A pool of single-connection clients, each lent to one request at a time, so a
// request can pipeline BEGIN, its settings, its statement and COMMIT in one round
// trip (the client only allows explicit transactions on a one-connection client).
import postgres from 'postgres';

export class ConnectionPool {
  private readonly idle: postgres.Sql[];
  private readonly all: postgres.Sql[];
  private readonly waiting: Array<(sql: postgres.Sql) => void> = [];

  constructor(url: string, size: number, applicationName: string) {
    this.all = Array.from({ length: size }, () => {
      const sql = postgres(url, { max: 1, onnotice: () => {}, idle_timeout: 30, fetch_types: false, connection: { application_name: applicationName } });
      // Like PostgREST, every value goes to Postgres as text for the server to type; the client's
      // own serializers (bool, json, …) would re-encode strings the server has typed.
      for (const oid of Object.keys(sql.options.serializers)) delete sql.options.serializers[oid as unknown as number];
      return sql;
    });
    this.idle = [...this.all];
  }

  acquire(): Promise<postgres.Sql> {
    const sql = this.idle.pop();
    return sql ? Promise.resolve(sql) : new Promise((resolve) => this.waiting.push(resolve));
  }

  release(sql: postgres.Sql): void {
    const next = this.waiting.shift();
    if (next) next(sql);
    else this.idle.push(sql);
  }

  async end(): Promise<void> {
    await Promise.all(this.all.map((sql) => sql.end({ timeout: 5 })));
  }
}
