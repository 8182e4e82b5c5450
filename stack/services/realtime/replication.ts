// The change feed: logical replication with Postgres's built-in `pgoutput`
// plugin (wal2json is not part of embedded Postgres) from a permanent slot.
// The slot keeps every committed change until we confirm it, and we confirm a
// transaction only after it has been dispatched, so a dropped connection or a
// restart of this service resumes exactly where dispatch stopped.
import postgres from 'postgres';

export interface Column {
  name: string;
  typeOid: number;
  /** Part of the replica identity (the primary key unless identity is full). */
  key: boolean;
}

export interface Relation {
  id: number;
  schema: string;
  table: string;
  /** `d` default (primary key), `f` full, `n` nothing, `i` index. */
  replicaIdentity: string;
  columns: Column[];
}

/** Column values in Postgres text format; unchanged TOAST values are absent. */
export type Tuple = Record<string, string | null>;

export interface Change {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  relation: Relation;
  record: Tuple | null;
  /** Replica-identity columns (or the whole row with identity full) before the change. */
  old: Tuple | null;
}

export interface Transaction {
  endLsn: bigint;
  commitTime: Date;
  changes: Change[];
}

export interface ReplicationOptions {
  dbUrl: string;
  slot: string;
  publication: string;
  /** Called with transactions in commit order; the next call waits for this one. */
  onTransactions: (txs: Transaction[]) => Promise<void>;
  log: (line: string) => void;
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
/** Decoded transactions waiting for dispatch before we stop reading the stream. */
const MAX_QUEUED = 5000;

class Reader {
  offset = 0;
  constructor(private buf: Buffer) {}
  u8() {
    return this.buf[this.offset++];
  }
  i16() {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  i32() {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u32() {
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u64() {
    const v = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  cstring() {
    const end = this.buf.indexOf(0, this.offset);
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }
  bytes(n: number) {
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
}

/** With `keyOnly` (an old 'K' tuple), the columns outside the replica identity, which pgoutput sends as NULLs, are left out. */
function readTuple(r: Reader, relation: Relation, keyOnly = false): Tuple {
  const n = r.i16();
  const tuple: Tuple = {};
  for (let i = 0; i < n; i++) {
    const kind = String.fromCharCode(r.u8());
    const column = relation.columns[i];
    const name = column?.name ?? `column${i}`;
    const value = kind === 't' || kind === 'b' ? r.bytes(r.i32()) : null;
    if (keyOnly && !column?.key) continue;
    if (kind === 'n' || value !== null) tuple[name] = value;
    // 'u': an unchanged TOASTed value that pgoutput does not send.
  }
  return tuple;
}

export class ReplicationStream {
  private sql: postgres.Sql | null = null;
  private stream: import('node:stream').Duplex | null = null;
  private stopped = false;
  private current: Transaction | null = null;
  private relations = new Map<number, Relation>();
  private queue: Transaction[] = [];
  private working = false;
  /** End of the last transaction dispatched (or position known to hold nothing for us). */
  private processed = 0n;
  /** Position up to which the server has sent everything (from keepalives). */
  private serverSent = 0n;
  private retryTimer: NodeJS.Timeout | null = null;
  private feedbackTimer: NodeJS.Timeout | null = null;
  private live = false;

  constructor(private opts: ReplicationOptions) {}

  get isLive(): boolean {
    return this.live;
  }

  /** Creates the slot if it is missing (so changes from now on are kept), then streams. */
  async start(admin: postgres.Sql): Promise<void> {
    const [existing] = await admin`select 1 from pg_replication_slots where slot_name = ${this.opts.slot}`;
    if (!existing) await admin`select pg_create_logical_replication_slot(${this.opts.slot}, 'pgoutput')`;
    await this.connect();
    this.feedbackTimer = setInterval(() => this.sendFeedback(false), 2000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.feedbackTimer) clearInterval(this.feedbackTimer);
    this.sendFeedback(false);
    const sql = this.sql;
    this.sql = null;
    this.stream?.destroy();
    // The replication query never finishes by itself: waiting for it only delays
    // the stop (by end's whole timeout), so the connection is closed at once.
    await sql?.end({ timeout: 0 }).catch(() => {});
  }

  private async connect(): Promise<void> {
    const sql = postgres(this.opts.dbUrl, {
      max: 1,
      fetch_types: false,
      idle_timeout: undefined,
      max_lifetime: null,
      onnotice: () => {},
      connection: { replication: 'database', application_name: 'stack_realtime' } as Record<string, string>,
    });
    this.sql = sql;
    // postgres.js types the copy stream as Writable; it is a Duplex (CopyBoth).
    const stream = (await sql.unsafe(`START_REPLICATION SLOT ${this.opts.slot} LOGICAL 0/0 (proto_version '1', publication_names '${this.opts.publication}')`).writable()) as unknown as import('node:stream').Duplex;
    this.stream = stream;
    this.live = true;
    this.current = null;
    stream.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (err) {
        this.opts.log(`realtime: cannot decode replication message: ${(err as Error).message}`);
      }
    });
    const reconnect = () => {
      if (this.stream !== stream) return;
      this.live = false;
      this.stream = null;
      void sql.end({ timeout: 1 }).catch(() => {});
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => {
        this.connect().catch((err: Error) => {
          this.opts.log(`realtime: replication reconnect failed: ${err.message}`);
          reconnect();
        });
      }, 500);
    };
    stream.on('error', reconnect);
    stream.on('close', reconnect);
  }

  private onData(chunk: Buffer): void {
    if (chunk[0] === 0x6b) {
      // Primary keepalive: walEnd, clock, reply-requested.
      this.serverSent = chunk.readBigUInt64BE(1);
      this.sendFeedback(chunk[17] === 1);
      return;
    }
    // XLogData ('w'); its header's WAL end may lie beyond what was sent, so only
    // keepalives tell us how far the server has decoded.
    if (chunk[0] !== 0x77) return;
    this.onMessage(new Reader(chunk.subarray(25)));
  }

  private onMessage(r: Reader): void {
    const tag = String.fromCharCode(r.u8());
    switch (tag) {
      case 'B': {
        r.u64();
        const micros = r.u64();
        this.current = { endLsn: 0n, commitTime: new Date(PG_EPOCH_MS + Number(micros / 1000n)), changes: [] };
        return;
      }
      case 'C': {
        r.u8();
        r.u64();
        const endLsn = r.u64();
        const tx = this.current;
        this.current = null;
        if (!tx) return;
        tx.endLsn = endLsn;
        // After a reconnect the server resends what we had not confirmed yet.
        if (endLsn <= this.processed) return;
        this.queue.push(tx);
        // Backpressure: postgres.js stops reading the socket once the paused
        // stream's buffer is full, and the walsender waits; nothing is dropped.
        if (this.queue.length >= MAX_QUEUED && this.stream && !this.stream.isPaused()) this.stream.pause();
        void this.work();
        return;
      }
      case 'R': {
        const id = r.u32();
        const schema = r.cstring();
        const table = r.cstring();
        const replicaIdentity = String.fromCharCode(r.u8());
        const n = r.i16();
        const columns: Column[] = [];
        for (let i = 0; i < n; i++) {
          const flags = r.u8();
          const name = r.cstring();
          const typeOid = r.u32();
          r.i32();
          columns.push({ name, typeOid, key: (flags & 1) === 1 });
        }
        this.relations.set(id, { id, schema, table, replicaIdentity, columns });
        return;
      }
      case 'I':
      case 'U':
      case 'D': {
        const relation = this.relations.get(r.u32());
        if (!relation || !this.current) return;
        let old: Tuple | null = null;
        let record: Tuple | null = null;
        let part = String.fromCharCode(r.u8());
        if (part === 'K' || part === 'O') {
          old = readTuple(r, relation, part === 'K');
          if (tag === 'U') part = String.fromCharCode(r.u8());
        }
        if (part === 'N') record = readTuple(r, relation);
        const type = tag === 'I' ? 'INSERT' : tag === 'U' ? 'UPDATE' : 'DELETE';
        this.current.changes.push({ type, relation, record, old });
        return;
      }
      default:
        // Type ('Y'), Origin ('O') and Truncate ('T') carry nothing we deliver.
        return;
    }
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, 500);
        if (this.queue.length < MAX_QUEUED / 2 && this.stream?.isPaused()) this.stream.resume();
        try {
          await this.opts.onTransactions(batch);
        } catch (err) {
          this.opts.log(`realtime: dispatch failed: ${(err as Error).stack ?? err}`);
        }
        this.processed = batch[batch.length - 1].endLsn;
      }
    } finally {
      this.working = false;
    }
  }

  /** Confirms what was dispatched; when idle, everything the server has sent. */
  private sendFeedback(reply: boolean): void {
    const stream = this.stream;
    if (!stream || stream.destroyed) return;
    const idle = !this.working && this.queue.length === 0 && this.current === null;
    if (idle && this.serverSent > this.processed) this.processed = this.serverSent;
    if (this.processed === 0n && !reply) return;
    const msg = Buffer.alloc(34);
    msg[0] = 0x72; // 'r': standby status update
    msg.writeBigUInt64BE(this.processed, 1);
    msg.writeBigUInt64BE(this.processed, 9);
    msg.writeBigUInt64BE(this.processed, 17);
    msg.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
    msg[33] = 0;
    stream.write(msg);
  }
}
