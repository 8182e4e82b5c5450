// pg_cron in the local stack: the extension's SQL API (the stand-in in
// stack/extensions) and the scheduler that runs its jobs (stack/services/background/cron.ts).
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformSql, serviceSql } from '../helpers/db.ts';
import { stackEnv } from '../helpers/env.ts';

const sql = serviceSql();
// Tests that act as other roles create them as the platform superuser, which may set role to any.
const admin = platformSql();
const tag = randomUUID().slice(0, 8);
const scheduled: string[] = [];

/** Waits for `probe` to return a truthy value (each job here runs at least every second or two). */
async function waitFor<T>(probe: () => Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function schedule(name: string, spec: string, command: string): Promise<string> {
  const [{ id }] = await sql`select cron.schedule(${name}, ${spec}, ${command}) as id`;
  scheduled.push(name);
  return id;
}

async function runs(jobid: string) {
  return sql`select status, return_message, username, start_time, end_time from cron.job_run_details where jobid = ${jobid} order by runid`;
}

function firstRun(jobid: string, status: 'succeeded' | 'failed') {
  return waitFor(async () => (await runs(jobid)).find((r) => r.status === status), `a ${status} run of job ${jobid}`);
}

beforeAll(async () => {
  await sql`create schema if not exists cron_probe`;
  await sql`create table if not exists cron_probe.seen (job text not null, who text not null, at timestamptz not null default clock_timestamp())`;
});

afterAll(async () => {
  for (const name of scheduled) await sql`select cron.unschedule(${name})`.catch(() => {});
});

describe('pg_cron SQL API', () => {
  it('is created by the migrations as on Supabase, with postgres granted the cron schema', async () => {
    const [ext] = await sql`select extversion, extnamespace::regnamespace::text as schema from pg_extension where extname = 'pg_cron'`;
    expect(ext).toEqual({ extversion: '1.6', schema: 'pg_catalog' });
    const cols = await sql`select column_name, data_type from information_schema.columns where table_schema = 'cron' and table_name = 'job' order by ordinal_position`;
    expect(cols.map((c) => c.column_name)).toEqual(['jobid', 'schedule', 'command', 'nodename', 'nodeport', 'database', 'username', 'active', 'jobname']);
    const details = await sql`select column_name from information_schema.columns where table_schema = 'cron' and table_name = 'job_run_details' order by ordinal_position`;
    expect(details.map((c) => c.column_name)).toEqual(['jobid', 'runid', 'job_pid', 'database', 'username', 'command', 'status', 'return_message', 'start_time', 'end_time']);
    const [g] = await sql`
      select has_schema_privilege('postgres', 'cron', 'usage') as postgres_usage,
             has_schema_privilege('anon', 'cron', 'usage') as anon_usage,
             has_schema_privilege('authenticated', 'cron', 'usage') as authenticated_usage`;
    expect(g).toEqual({ postgres_usage: true, anon_usage: false, authenticated_usage: false });
    const fns = await sql`select p.oid::regprocedure::text as sig from pg_proc p where pronamespace = 'cron'::regnamespace and left(proname, 1) <> '_' order by 1`;
    expect(fns.map((f) => f.sig)).toEqual([
      'cron.alter_job(bigint,text,text,text,text,boolean)',
      'cron.job_cache_invalidate()',
      'cron.schedule(text,text)',
      'cron.schedule(text,text,text)',
      'cron.schedule_in_database(text,text,text,text,text,boolean)',
      'cron.unschedule(bigint)',
      'cron.unschedule(text)',
    ]);
  });

  it('refuses invalid schedules with pg_cron\'s error', async () => {
    for (const bad of ['x', '* * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 8', '0 seconds', '60 seconds', '5-1 * * * *', '*/0 * * * *', '*/99999999999 * * * *', '1 * * * * *', 'jan * * * *']) {
      const err = await sql`select cron.schedule(${`bad-${tag}`}, ${bad}, 'select 1')`.catch((e) => e);
      expect(err, bad).toMatchObject({ code: '22023', message: `invalid schedule: ${bad}` });
      expect(err.hint).toContain('[1-59] seconds');
    }
    expect(await sql`select count(*)::int as n from cron.job where jobname = ${`bad-${tag}`}`).toEqual([{ n: 0 }]);
    await expect(sql`select cron.schedule(null, '* * * * *', 'select 1')`).rejects.toThrow('job_name can not be NULL');
  });

  it('matches cron schedules in UTC as cron does', async () => {
    const cases: Array<[string, string, boolean]> = [
      ['* * * * *', '2026-12-01 10:07:00+00', true],
      ['*/5 * * * *', '2026-12-01 10:05:59+00', true],
      ['*/5 * * * *', '2026-12-01 10:06:00+00', false],
      ['0 8 * * 1', '2026-11-30 08:00:00+00', true], // Monday 08:00 UTC
      ['0 8 * * 1', '2026-11-30 09:00:00+01', true], // the same instant, written in Lagos time
      ['0 8 * * mon', '2026-12-01 08:00:00+00', false], // Tuesday
      ['0 0 * * 7', '2026-11-29 00:00:00+00', true], // 7 is Sunday
      ['0 0 * * sun', '2026-11-29 00:00:00+00', true],
      ['0 12 $ * *', '2026-11-30 12:00:00+00', true], // last day of November
      ['0 12 $ * *', '2026-11-29 12:00:00+00', false],
      ['30 2 1-3,15 jan-mar *', '2026-02-15 02:30:00+00', true],
      ['30 2 1-3,15 jan-mar *', '2026-04-15 02:30:00+00', false],
      ['0 0 13 * 5', '2026-11-13 00:00:00+00', true], // both day fields restricted: either matches (Friday 13th)
      ['0 0 13 * 5', '2026-11-20 00:00:00+00', true], // a Friday
      ['0 0 13 * 5', '2026-11-19 00:00:00+00', false],
      ['10-20/5 * * * *', '2026-12-01 00:15:00+00', true],
      ['10-20/5 * * * *', '2026-12-01 00:25:00+00', false],
      ['@daily', '2026-12-01 00:00:00+00', true],
      ['@hourly', '2026-12-01 05:01:00+00', false],
    ];
    for (const [spec, at, expected] of cases) {
      const [{ m }] = await sql`select cron._schedule_matches(${spec}, ${at}::timestamptz) as m`;
      expect(m, `${spec} at ${at}`).toBe(expected);
    }
  });

  it('re-scheduling a name updates that job; unschedule by id and by name', async () => {
    const name = `resched-${tag}`;
    const id = await schedule(name, '0 3 * * *', 'select 1');
    const again = await schedule(name, '0 4 * * *', 'select 2');
    expect(again).toBe(id);
    expect(await sql`select schedule, command, active, username from cron.job where jobid = ${id}`).toEqual([
      { schedule: '0 4 * * *', command: 'select 2', active: true, username: 'postgres' },
    ]);
    expect(await sql`select cron.unschedule(${name}) as ok`).toEqual([{ ok: true }]);
    await expect(sql`select cron.unschedule(${name})`).rejects.toThrow(`could not find valid entry for job '${name}'`);
    const [{ id: unnamed }] = await sql`select cron.schedule('0 5 * * *', 'select 3') as id`;
    expect(await sql`select jobname from cron.job where jobid = ${unnamed}`).toEqual([{ jobname: null }]);
    expect(await sql`select cron.unschedule(${unnamed}::bigint) as ok`).toEqual([{ ok: true }]);
    await expect(sql`select cron.unschedule(${unnamed}::bigint)`).rejects.toThrow(`could not find valid entry for job ${unnamed}`);
  });

  it('alter_job changes only what it is given', async () => {
    const id = await schedule(`alter-${tag}`, '0 3 * * *', 'select 1');
    await sql`select cron.alter_job(${id}, schedule => '*/10 * * * *')`;
    await sql`select cron.alter_job(job_id => ${id}, active => false)`;
    expect(await sql`select schedule, command, active from cron.job where jobid = ${id}`).toEqual([{ schedule: '*/10 * * * *', command: 'select 1', active: false }]);
    await expect(sql`select cron.alter_job(${id})`).rejects.toThrow('no updates specified');
    await expect(sql`select cron.alter_job(${id}, schedule => 'nope')`).rejects.toThrow('invalid schedule: nope');
    await expect(sql`select cron.alter_job(-1, command => 'select 1')`).rejects.toThrow('Job -1 does not exist or you don\'t own it');
  });
});

describe('pg_cron scheduler', () => {
  it('runs a seconds job and records success and failure; a failing job does not stop another', async () => {
    const ok = await schedule(`ok-${tag}`, '1 seconds', `insert into cron_probe.seen (job, who) values ('ok-${tag}', current_user)`);
    const bad = await schedule(`bad-${tag}`, '1 seconds', 'select 1/0');
    const okRuns = await waitFor(async () => ((await runs(ok)).filter((r) => r.status === 'succeeded').length >= 2 ? runs(ok) : null), 'two runs of the good job');
    expect(okRuns[0]).toMatchObject({ status: 'succeeded', return_message: 'INSERT 0 1', username: 'postgres' });
    expect(okRuns[0].end_time.getTime()).toBeGreaterThanOrEqual(okRuns[0].start_time.getTime());
    const badRuns = await waitFor(async () => ((await runs(bad)).length >= 2 ? runs(bad) : null), 'two runs of the failing job');
    expect(badRuns[0]).toMatchObject({ status: 'failed', return_message: 'ERROR:  division by zero\n' });
    expect(await sql`select count(*)::int as n from cron_probe.seen where job = ${`ok-${tag}`}`.then(([r]) => r.n)).toBeGreaterThanOrEqual(2);

    // Deactivated, the good job stops while the failing one goes on.
    await sql`select cron.alter_job(${ok}, active => false)`;
    const settled = await waitFor(async () => ((await runs(ok)).every((r) => r.status === 'succeeded' || r.status === 'failed') ? (await runs(ok)).length : 0), 'the last run to end');
    const badBefore = (await runs(bad)).length;
    await waitFor(async () => (await runs(bad)).length >= badBefore + 2, 'two more runs of the failing job');
    expect((await runs(ok)).length).toBe(settled);
  });

  it('reports the last statement of a multi-statement command, as pg_cron does', async () => {
    const id = await schedule(`multi-${tag}`, '1 seconds', 'select 1; select g from generate_series(1, 3) g');
    const run = await firstRun(id, 'succeeded');
    expect(run.return_message).toBe('3 rows');
    await sql`select cron.unschedule(${id}::bigint)`;
  });

  it('runs a job as its owner: a non-superuser sees its own role and only its own jobs', async () => {
    const role = `cron_owner_${tag}`;
    await admin.unsafe(`create role ${role} login nosuperuser noinherit password 'x'`);
    await admin.unsafe(`grant usage on schema cron to ${role}; grant usage on schema cron_probe to ${role}; grant insert on cron_probe.seen to ${role}`);
    const name = `owner-${tag}`;
    const id = await admin.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      const [{ id }] = await tx`select cron.schedule(${name}, '1 seconds', ${`insert into cron_probe.seen (job, who) values ('${name}', current_user || '/' || session_user)`}) as id`;
      // Row security: the role sees its own job, not postgres's.
      const visible = await tx`select username from cron.job`;
      expect(visible).toEqual([{ username: role }]);
      return id;
    });
    // As pg_cron: alter_job is revoked from public; a role needs it granted.
    await expect(admin.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      await tx`select cron.alter_job(${id}, active => false)`;
    })).rejects.toThrow('permission denied for function alter_job');
    const [seen] = await waitFor(() => admin`select who from cron_probe.seen where job = ${name}`.then((r) => (r.length ? r : null)), 'the owner job to run');
    expect(seen.who).toBe(`${role}/${role}`);
    expect((await runs(id))[0].username).toBe(role);
    // Another role cannot unschedule it.
    const other = `cron_other_${tag}`;
    await admin.unsafe(`create role ${other} login nosuperuser; grant usage on schema cron to ${other}`);
    await expect(admin.begin(async (tx) => {
      await tx.unsafe(`set local role ${other}`);
      await tx`select cron.unschedule(${id}::bigint)`;
    })).rejects.toThrow(`could not find valid entry for job ${id}`);
    await admin`select cron.unschedule(${id}::bigint)`;
    await admin`delete from cron.job_run_details where username in (${role}, ${other})`;
    await admin.unsafe(`revoke all on schema cron, cron_probe from ${role}, ${other}; revoke all on cron_probe.seen from ${role}; drop role ${role}; drop role ${other}`);
  });

  it('a job whose owner cannot log in fails with the login error', async () => {
    const role = `cron_nologin_${tag}`;
    await admin.unsafe(`create role ${role} nologin; grant usage on schema cron to ${role}`);
    const id = await admin.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      const [{ id }] = await tx`select cron.schedule('1 seconds', 'select 1') as id`;
      return id;
    });
    const run = await firstRun(id, 'failed');
    expect(run.return_message).toBe(`role "${role}" is not permitted to log in`);
    await admin`select cron.unschedule(${id}::bigint)`;
    await admin`delete from cron.job_run_details where username = ${role}`;
    await admin.unsafe(`revoke all on schema cron from ${role}; drop role ${role}`);
  });

  it('a job row written past cron.schedule runs only where its owner may connect', async () => {
    const role = `cron_direct_${tag}`;
    const db = `cron_probe_${tag}`;
    await admin.unsafe(`create role ${role} login nosuperuser; grant usage on schema cron to ${role}`);
    await admin.unsafe(`create database ${db}`);
    await admin.unsafe(`revoke connect on database ${db} from public`);
    try {
      const [denied, missing] = await admin.begin(async (tx) => {
        await tx.unsafe(`set local role ${role}`);
        // Inserted directly (cron.job's policy allows one's own rows), skipping cron.schedule's checks.
        const [a] = await tx`insert into cron.job (schedule, command, database) values ('1 seconds', 'select 1', ${db}) returning jobid`;
        const [b] = await tx`insert into cron.job (schedule, command, database) values ('1 seconds', 'select 1', 'no_such_database') returning jobid`;
        return [a.jobid, b.jobid];
      });
      expect((await firstRun(denied, 'failed')).return_message).toBe(`permission denied for database "${db}"`);
      expect((await firstRun(missing, 'failed')).return_message).toBe('database "no_such_database" does not exist');
      await admin`delete from cron.job where jobid in (${denied}, ${missing})`;
      // Nor can a role write a job for someone else.
      await expect(admin.begin(async (tx) => {
        await tx.unsafe(`set local role ${role}`);
        await tx`insert into cron.job (schedule, command, username) values ('1 seconds', 'select 1', 'postgres')`;
      })).rejects.toThrow('new row violates row-level security policy');
    } finally {
      await admin`delete from cron.job_run_details where username = ${role}`;
      await admin.unsafe(`drop database ${db} with (force)`);
      await admin.unsafe(`revoke all on schema cron from ${role}; drop role ${role}`);
    }
  });

  it('runs one instance of a job at a time', async () => {
    const id = await schedule(`slow-${tag}`, '1 seconds', 'select pg_sleep(1.5)');
    const done = await waitFor(async () => {
      const r = (await runs(id)).filter((x) => x.status === 'succeeded');
      return r.length >= 3 ? r : null;
    }, 'three runs of the slow job', 30_000);
    for (let i = 1; i < done.length; i++) {
      expect(done[i].start_time.getTime()).toBeGreaterThanOrEqual(done[i - 1].end_time.getTime());
    }
    await sql`select cron.unschedule(${id}::bigint)`;
  });

  it('the scheduler holds no connection as a job owner between runs', async () => {
    const db = postgres(stackEnv().dbUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await db`select application_name, count(*)::int as n from pg_stat_activity where application_name in ('pg_cron', 'pg_cron scheduler', 'pg_net worker') group by 1`;
      const byName = Object.fromEntries(rows.map((r) => [r.application_name, r.n]));
      // The scheduler: at most a LISTEN connection and a query connection.
      expect(byName['pg_cron scheduler'] ?? 0).toBeLessThanOrEqual(2);
    } finally {
      await db.end();
    }
  });
});
