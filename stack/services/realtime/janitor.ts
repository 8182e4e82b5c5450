// Realtime's janitor for realtime.messages: one partition per UTC day, created
// from yesterday to today+3 (at start and every 4 hours, as Realtime does when
// it connects to a project and on its janitor schedule), and partitions older
// than 72 hours dropped, which deletes their messages.
import type postgres from 'postgres';

/** Realtime's JANITOR_SCHEDULE_TIMER_IN_MS default. */
export const JANITOR_INTERVAL_MS = 4 * 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

const isoDate = (t: number) => new Date(t).toISOString().slice(0, 10);
const partitionName = (date: string) => `messages_${date.replaceAll('-', '_')}`;

/** Drops expired partitions and creates the current ones; `now` is a parameter so a day change can be tested. */
export async function maintainMessagePartitions(sql: postgres.Sql, now: Date = new Date()): Promise<void> {
  const limit = isoDate(now.getTime() - 72 * 60 * 60_000);
  const partitions = await sql<{ name: string }[]>`
    select child.relname as name from pg_inherits
    join pg_class parent on parent.oid = pg_inherits.inhparent
    join pg_class child on child.oid = pg_inherits.inhrelid
    join pg_namespace n on n.oid = parent.relnamespace
    where n.nspname = 'realtime' and parent.relname = 'messages'`;
  for (const { name } of partitions) {
    const m = /^messages_(\d{4})_(\d\d)_(\d\d)$/.exec(name);
    if (m && `${m[1]}-${m[2]}-${m[3]}` < limit) await sql.unsafe(`drop table if exists realtime.${name}`);
  }
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let day = -1; day <= 3; day++) {
    const from = isoDate(today + day * DAY_MS);
    const to = isoDate(today + (day + 1) * DAY_MS);
    const name = partitionName(from);
    await sql
      .begin(async (tx) => {
        await tx.unsafe(`create table if not exists realtime.${name} partition of realtime.messages for values from ('${from}') to ('${to}')`);
        await tx.unsafe(`alter table realtime.${name} owner to supabase_realtime_admin`);
      })
      .catch((err: { code?: string }) => {
        // Created meanwhile by another stack on this database.
        if (err.code !== '42P07' && err.code !== '23505') throw err;
      });
  }
}
