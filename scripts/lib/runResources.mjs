// Removes what one run of a script made on the shared servers: its database, its RabbitMQ queues
// (with their dead-letter queues) and exchanges, and its Redis keys. Used by the benchmark and the
// dashboard renderer, so neither leaves anything behind, even after Ctrl-C.
import { createRequire } from 'node:module';
import { ROOT } from './prerequisites.mjs';

const require = createRequire(`${ROOT}services/common/package.json`);

/**
 * @param {object} run
 * @param {string} run.databaseUrl   the run's own database (dropped)
 * @param {string} run.rabbitmqUrl
 * @param {string[]} run.queues      queues to delete, each with its `.dlq`
 * @param {string[]} run.exchanges
 * @param {string} run.redisUrl
 * @param {string} run.redisPrefix   every key starting with it is removed
 * @param {(message: string) => void} [log]
 */
export async function removeRunResources(run, log = console.error) {
  const amqp = require('amqplib');
  const { Redis } = require('ioredis');
  const pg = require('pg');
  try {
    const connection = await amqp.connect(run.rabbitmqUrl);
    for (const remove of [
      ...run.queues.flatMap((queue) => [(channel) => channel.deleteQueue(queue), (channel) => channel.deleteQueue(`${queue}.dlq`)]),
      ...run.exchanges.map((exchange) => (channel) => channel.deleteExchange(exchange)),
    ]) {
      // A failed delete closes its channel, so each gets its own.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await remove(channel).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    await connection.close();
  } catch (error) {
    log(`rabbitmq cleanup failed: ${error.message}`);
  }
  try {
    const redis = new Redis(run.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${run.redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  } catch (error) {
    log(`redis cleanup failed: ${error.message}`);
  }
  try {
    const target = new URL(run.databaseUrl);
    const name = decodeURIComponent(target.pathname.slice(1));
    const admin = new URL(run.databaseUrl);
    admin.pathname = '/postgres';
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
    await client.end();
  } catch (error) {
    log(`postgres cleanup failed: ${error.message}`);
  }
}
