// Notifications whose deliveries a test sends (or claims) itself. The database
// starts notify right after every commit that queues deliveries, so a test that
// wants the rows for itself queues them held back (not due) in the same
// transaction and waits for that after-commit call to be answered; then it
// makes them due when it is ready.
import { randomUUID } from 'node:crypto';
import { serviceSql } from './db.ts';

export interface HeldNotification {
  id: string;
  title: string;
  /** Delivery id by channel. */
  deliveries: Record<string, string>;
}

export async function waitFor(check: () => Promise<boolean>, what = 'the condition'): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function notifyHeld(userId: string, type: string, count = 1, body = 'Your order is on its way.'): Promise<HeldNotification[]> {
  const sql = serviceSql();
  const { made, request } = await sql.begin(async (tx) => {
    const titles = Array.from({ length: count }, () => `T ${randomUUID().slice(0, 8)}`);
    const notes = await tx`insert into public.notifications (user_id, type, title, body, data)
      select ${userId}, ${type}, t, ${body}, ${tx.json({ order_number: 'R-1042', total: 250000 })}
      from unnest(${titles}::text[]) with ordinality as x (t, i) order by i returning id, title`;
    const rows = await tx`update public.notification_deliveries set next_attempt_at = now() + interval '1 hour'
      where notification_id = any(${notes.map((n) => n.id)}::uuid[]) returning id, channel, notification_id`;
    // The request the insert queued names the new rows (pg_net sends it after commit).
    const [req] = rows.length ? await tx`select id from net.http_request_queue where convert_from(body, 'utf8') like ${`%${rows[0].id}%`}` : [];
    return {
      request: req?.id as string | undefined,
      made: notes.map((n) => ({
        id: n.id as string,
        title: n.title as string,
        deliveries: Object.fromEntries(rows.filter((r) => r.notification_id === n.id).map((r) => [r.channel, r.id])),
      })),
    };
  });
  if (request) await waitFor(async () => (await sql`select 1 from net._http_response where id = ${request}`).length > 0, 'the after-commit notify call');
  return made;
}

export function makeDue(ids: string[]) {
  return serviceSql()`update public.notification_deliveries set next_attempt_at = now() where id = any(${ids}::uuid[])`;
}
