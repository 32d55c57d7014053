import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createDatabase, ensureDatabaseExists, migrateToLatest } from '@flowgate/common';
import { stopSharedSystems } from './system.js';
import { DATABASE_NAME, DATABASE_URL, namesCreated, POSTGRES_ADMIN_URL, RABBITMQ_URL, REDIS_URL, RUN_PREFIX } from './testEnv.js';

/** Creates this run's database before any test. */
export async function mochaGlobalSetup(): Promise<void> {
  await ensureDatabaseExists(DATABASE_URL);
  const db = createDatabase({ url: DATABASE_URL, poolMax: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

/** Removes everything this run created: processes, database, queues and exchanges, Redis keys. */
export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedSystems();

  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE_NAME}" WITH (FORCE)`).finally(() => admin.end());

  const connection = await amqp.connect(RABBITMQ_URL);
  for (const name of namesCreated()) {
    for (const remove of [
      (channel: amqp.Channel) => channel.deleteQueue(name),
      (channel: amqp.Channel) => channel.deleteQueue(`${name}.dlq`),
      (channel: amqp.Channel) => channel.deleteExchange(name),
    ]) {
      // Each delete gets its own channel: a failed one closes the channel it ran on.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await remove(channel).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  }
  await connection.close();

  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${RUN_PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
