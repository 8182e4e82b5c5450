// pg_cron's background worker, in the stack's process. Every second it starts
// the active jobs of cron.job that are due: '[1-59] seconds' jobs when that
// long has passed since their last start, cron schedules once at the start of
// each matching UTC minute (matched by cron._schedule_matches, the same SQL that
// validates schedules). Each run gets its own connection, with the session
// authorization of the job's owner (username), and is logged in
// cron.job_run_details as pg_cron logs it. One run of a job at a time: a run
// due while the previous one is still going starts when it ends (pg_cron
// queues it too). A failing job records its error and nothing else stops.
import postgres from 'postgres';
import type { StackConfig } from '../../config.ts';

/** Advisory lock class for "this job is running", so two schedulers on one database never overlap a job. */
const RUN_LOCK_CLASS = 0x63726f6e; // 'cron'
/**
 * Jobs are reloaded on cron.job's NOTIFY; this poll is the safety net for a
 * notification missed (e.g. a job scheduled while the LISTEN connection was
 * still being set up), so such a job waits seconds, not a minute.
 */
const RELOAD_MS = 5_000;

interface Job {
  jobid: string;
  command: string;
  username: string;
  database: string;
  /** Seconds of an interval schedule, or null for a cron schedule. */
  every: number | null;
  valid: boolean;
}

interface JobState {
  running: boolean;
  pending: boolean;
  lastStart: number;
}

export interface CronScheduler {
  close(): Promise<void>;
}

export function startCronScheduler(config: StackConfig, log: (line: string) => void): CronScheduler {
  const sql = postgres(config.adminDbUrl, { max: 1, idle_timeout: 30, onnotice: () => {}, connection: { application_name: 'pg_cron scheduler' } });
  let closed = false;
  let jobs: Job[] = [];
  let dirty = true;
  let recovered = false;
  let lastReload = 0;
  let lastMinute = Math.floor(Date.now() / 60_000);
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  const states = new Map<string, JobState>();
  const runs = new Set<Promise<void>>();

  const report = (err: unknown) => {
    const e = err as postgres.PostgresError;
    if (e.code === '42P01' || e.code === '3F000' || e.code === '42883') return; // pg_cron not created (yet)
    if (!closed && e.message !== lastError) log(`pg_cron scheduler: ${e.message}`);
    lastError = e.message;
  };

  async function reload(): Promise<void> {
    const rows = await sql<Job[]>`
      select jobid, command, username, database, cron._interval_seconds(schedule) as every, schedule
      from cron.job where active order by jobid`;
    const next: Job[] = [];
    for (const row of rows as unknown as Array<Job & { schedule: string }>) {
      let valid = row.every !== null;
      if (!valid) {
        // Rows written past cron.schedule may hold a bad schedule: skip that job, as pg_cron does.
        valid = await sql`select cron._validate_schedule(${row.schedule})`.then(() => true, () => false);
        if (!valid) log(`pg_cron scheduler: invalid pg_cron schedule for job ${row.jobid}: ${row.schedule}`);
      }
      next.push({ jobid: row.jobid, command: row.command, username: row.username, database: row.database, every: row.every, valid });
    }
    jobs = next;
    dirty = false;
    lastReload = Date.now();
    if (!recovered) {
      // As pg_cron at start: runs a previous process left unfinished are failed.
      await sql`update cron.job_run_details set status = 'failed', return_message = 'server restarted' where status in ('starting', 'running')`;
      recovered = true;
    }
  }

  async function tick(): Promise<void> {
    if (dirty || Date.now() - lastReload > RELOAD_MS) await reload();
    const now = Date.now();
    const due: Job[] = [];
    for (const job of jobs) {
      if (job.every === null) continue;
      const state = states.get(job.jobid);
      // 50 ms of slack: ticks are aligned to the second but timers fire a little late or early.
      if (!state || now - state.lastStart >= job.every * 1000 - 50) due.push(job);
    }
    const minute = Math.floor(now / 60_000);
    if (minute !== lastMinute) {
      lastMinute = minute;
      const cronJobs = jobs.filter((j) => j.every === null && j.valid).map((j) => j.jobid);
      if (cronJobs.length) {
        const matching = await sql<{ jobid: string }[]>`
          select jobid from cron.job
          where jobid = any(${cronJobs}::bigint[]) and active and cron._schedule_matches(schedule, to_timestamp(${minute * 60}))`;
        const ids = new Set(matching.map((m) => m.jobid));
        due.push(...jobs.filter((j) => ids.has(j.jobid)));
      }
    }
    for (const job of due) start(job, now);
  }

  function start(job: Job, now: number): void {
    let state = states.get(job.jobid);
    if (!state) states.set(job.jobid, (state = { running: false, pending: false, lastStart: 0 }));
    if (state.running) {
      if (job.every === null) state.pending = true;
      return;
    }
    state.running = true;
    state.lastStart = now;
    const run = runJob(job)
      .catch(report)
      .finally(() => {
        state.running = false;
        runs.delete(run);
        if (state.pending && !closed) {
          state.pending = false;
          start(job, Date.now());
        }
      });
    runs.add(run);
  }

  async function runJob(job: Job): Promise<void> {
    const [{ runid }] = await sql<{ runid: string }[]>`
      insert into cron.job_run_details (jobid, database, username, command, status)
      values (${job.jobid}, ${job.database}, ${job.username}, ${job.command}, 'starting')
      returning runid`;
    const finish = (status: 'succeeded' | 'failed', message: string) =>
      sql`update cron.job_run_details set status = ${status}, return_message = ${message}, end_time = now() where runid = ${runid}`;
    // What logging in as the owner would check (pg_cron's worker does log in as the owner), since the
    // run connection below is a superuser's: rows written into cron.job directly skip cron.schedule's checks.
    const [role] = await sql<{ rolcanlogin: boolean; connect: boolean | null }[]>`
      select r.rolcanlogin, (select has_database_privilege(r.oid, d.oid, 'CONNECT') from pg_database d where d.datname = ${job.database}) as connect
      from pg_roles r where r.rolname = ${job.username}`;
    if (!role) return void (await finish('failed', `role "${job.username}" does not exist`));
    if (!role.rolcanlogin) return void (await finish('failed', `role "${job.username}" is not permitted to log in`));
    if (role.connect === null) return void (await finish('failed', `database "${job.database}" does not exist`));
    if (!role.connect) return void (await finish('failed', `permission denied for database "${job.database}"`));

    const url = config.adminDbUrl.replace(/\/[^/?]*$/, `/${encodeURIComponent(job.database)}`);
    const conn = postgres(url, { max: 1, idle_timeout: 0, onnotice: () => {}, connection: { application_name: 'pg_cron' } });
    try {
      const [{ locked, pid }] = await conn`select pg_try_advisory_lock(${RUN_LOCK_CLASS}, ${Number(job.jobid) | 0}) as locked, pg_backend_pid() as pid`;
      if (!locked) return void (await finish('failed', 'job is already running'));
      await conn`set session authorization ${conn(job.username)}`;
      await sql`update cron.job_run_details set status = 'running', job_pid = ${pid}, start_time = now() where runid = ${runid}`;
      let message: string;
      try {
        const result = await conn.unsafe(job.command).simple();
        message = commandStatus(result);
      } catch (err) {
        await finish('failed', errorMessage(err));
        return;
      }
      await finish('succeeded', message);
    } finally {
      await conn.end({ timeout: 1 });
    }
  }

  const loop = async () => {
    if (closed) return;
    try {
      await tick();
      lastError = '';
    } catch (err) {
      dirty = true;
      report(err);
    }
    if (!closed) timer = setTimeout(loop, 1000 - (Date.now() % 1000));
  };

  const listening = sql
    .listen('cron_job_cache_invalidate', () => (dirty = true), () => (dirty = true))
    .catch((err: Error) => {
      if (!closed) log(`pg_cron scheduler: cannot listen: ${err.message}`);
      return null;
    });
  timer = setTimeout(loop, 1000 - (Date.now() % 1000));

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.race([Promise.allSettled([...runs]), new Promise((r) => setTimeout(r, 2000))]);
      await (await listening)?.unlisten().catch(() => {});
      await sql.end({ timeout: 1 });
    },
  };
}

/** What pg_cron records for a successful run: the last statement's "N rows", or its command tag. */
function commandStatus(result: unknown): string {
  const results = (Array.isArray(result) && Array.isArray(result[0]) && 'command' in (result[0] as object) ? result : [result]) as Array<postgres.RowList<postgres.Row[]>>;
  const last = results[results.length - 1];
  const { command, count } = last as unknown as { command: string; count: number };
  if (!command) return '0 rows';
  if (command === 'SELECT' || last.columns?.length) {
    const n = last.length;
    return `${n} ${n === 1 ? 'row' : 'rows'}`;
  }
  if (command === 'INSERT') return `INSERT 0 ${count}`;
  if (['UPDATE', 'DELETE', 'MERGE', 'COPY', 'MOVE', 'FETCH'].includes(command)) return `${command} ${count}`;
  return command;
}

/** libpq's PQresultErrorMessage for a failed statement: severity, message, detail and hint lines. */
function errorMessage(err: unknown): string {
  const e = err as postgres.PostgresError;
  if (!e.severity) return String(e.message ?? err);
  let text = `${e.severity}:  ${e.message}\n`;
  if (e.detail) text += `DETAIL:  ${e.detail}\n`;
  if (e.hint) text += `HINT:  ${e.hint}\n`;
  return text;
}
