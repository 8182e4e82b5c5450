// `npm run db:reset`: rebuilds the local database from the platform bootstrap,
// the migrations and the seed. Works whether or not `npm start` is running: a
// running stack is reset in place and told to reload its schema cache.
import { StackError, loadConfig } from '../stack/index.ts';
import { rm } from 'node:fs/promises';
import { OldClusterError, adminSql, assertPlatformSuperuser, prepareDatabase, resetDatabase } from '../stack/database.ts';
import { startPostgres } from '../stack/postgres.ts';

const log = (line: string) => console.log(`  ${line}`);
const config = loadConfig();

async function runningStackAnswers(): Promise<boolean> {
  const sql = adminSql(config, 'template1');
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

try {
  const started = performance.now();
  if (await runningStackAnswers()) {
    console.log(`Resetting the running stack's database (${config.dbUrl})...`);
    await resetDatabase(config, log);
    const sql = adminSql(config);
    await sql`notify pgrst, 'reload schema'`;
    await sql.end();
  } else {
    console.log(`Resetting the local database in ${config.dataDir}...`);
    let pg = await startPostgres({ dataDir: config.dataDir, port: config.dbPort, host: config.host, log });
    try {
      if (!pg.created) {
        // A cluster from an older stack cannot be brought to hosted's roles: make a new one.
        const old = await assertPlatformSuperuser(config).then(() => false, (err) => {
          if (err instanceof OldClusterError) return true;
          throw err;
        });
        if (old) {
          log('the cluster was made by an older stack (postgres was its superuser): making a new one');
          await pg.stop();
          await rm(config.dataDir, { recursive: true, force: true });
          pg = await startPostgres({ dataDir: config.dataDir, port: config.dbPort, host: config.host, log });
        }
      }
      if (!pg.created) await resetDatabase(config, log);
      else await prepareDatabase(config, log);
    } finally {
      await pg.stop();
    }
  }
  console.log(`Database reset in ${((performance.now() - started) / 1000).toFixed(2)} s.`);
  process.exit(0);
} catch (err) {
  console.error(err instanceof StackError ? `error: ${err.message}\nhint:  ${err.hint}` : `error: ${(err as Error).stack ?? err}`);
  process.exit(1);
}
