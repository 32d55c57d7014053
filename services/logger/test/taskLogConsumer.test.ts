import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import {
  AmqpConnection,
  createDatabase,
  createLogger,
  createMetrics,
  createTaskLogsRepository,
  type Database,
  type TaskEvent,
} from '@flowgate/common';
import { TaskLogConsumer } from '../src/taskLogConsumer.js';
import { eventually } from '../../../test/support/http.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';
import { DATABASE_URL, RABBITMQ_URL, uniqueName } from '../../../test/support/testEnv.js';

const logger = createLogger({ service: 'logger-test', level: 'silent' });

/** A consumer on its own exchange and queue, writing through `db`; everything it opened is closed by `stop`. */
async function startConsumer(db: Database, options: { batchSize: number; flushIntervalMs: number; exchange: string; queue: string }) {
  const connection = await AmqpConnection.open({ url: RABBITMQ_URL, connectionName: 'logger-test', logger, maxReconnectDelayMs: 300 });
  const metrics = createMetrics('logger-test');
  const consumer = new TaskLogConsumer({ connection, ...options, repository: createTaskLogsRepository(db), logger, metrics });
  consumer.start();
  await eventually(async () => consumer.isReady || undefined, 5_000, 20);
  return {
    consumer,
    metrics,
    /** Abrupt: like a crash, whatever is unacked goes back to the queue. */
    crash: () => connection.close(),
    stop: async () => {
      await consumer.stop();
      await connection.close();
    },
  };
}

describe('logger: task events into task_logs', () => {
  let db: Database;
  let observer: amqp.ChannelModel;
  let channel: amqp.Channel;
  let exchange: string;
  let queue: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    db = createDatabase({ url: DATABASE_URL, poolMax: 4, logger });
    observer = await amqp.connect(RABBITMQ_URL);
    channel = await observer.createChannel();
  });

  after(async () => {
    await observer.close();
    await db.destroy();
  });

  beforeEach(() => {
    exchange = uniqueName('logger_events');
    queue = uniqueName('logger_logs');
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function consumer(options: { batchSize: number; flushIntervalMs: number }, database = db) {
    const started = await startConsumer(database, { ...options, exchange, queue });
    cleanups.push(started.stop);
    return started;
  }

  const newEvent = (correlationId: string, index: number): TaskEvent => ({
    event_id: randomUUID(),
    correlation_id: correlationId,
    task_id: randomUUID(),
    service_name: 'api',
    queue_name: 'data_queue',
    event: 'start',
    description: `step ${index}`,
    created_at: new Date().toISOString(),
  });

  const publish = (event: unknown) =>
    channel.publish(exchange, 'api.start', Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)), { persistent: true });

  const rowsFor = async (correlationId: string) =>
    db('task_logs').where({ correlation_id: correlationId }).select('event_id', 'description').orderBy('description');

  const waitForRows = (correlationId: string, count: number, timeoutMs = 10_000) =>
    eventually(async () => {
      const rows = await rowsFor(correlationId);
      return rows.length >= count ? rows : undefined;
    }, timeoutMs, 25);

  it('flushes a batch as soon as it is full', async () => {
    const { metrics } = await consumer({ batchSize: 5, flushIntervalMs: 60_000 });
    const correlationId = randomUUID();
    for (let index = 0; index < 5; index++) publish(newEvent(correlationId, index));
    const rows = await waitForRows(correlationId, 5);
    assert.equal(rows.length, 5);
    assert.match(await metrics.registry.getSingleMetricAsString('flowgate_task_events_written_total'), / 5$/m);
  });

  it('flushes a partial batch after the interval', async () => {
    await consumer({ batchSize: 1_000, flushIntervalMs: 100 });
    const correlationId = randomUUID();
    for (let index = 0; index < 3; index++) publish(newEvent(correlationId, index));
    const rows = await waitForRows(correlationId, 3);
    assert.deepEqual(
      rows.map((row) => row.description),
      ['step 0', 'step 1', 'step 2'],
    );
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined), 5_000, 25);
  });

  it('drains a backlog of many-event messages in batch-sized inserts, past the parameter limit of one statement', async () => {
    // As after an outage: 60 messages of 200 events (12,000 events, 96,000 values) wait before the consumer starts.
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${queue}.dlq` } });
    await channel.bindQueue(queue, exchange, '#');
    const correlationId = randomUUID();
    for (let message = 0; message < 60; message++) {
      publish(Array.from({ length: 200 }, (_, index) => newEvent(correlationId, message * 200 + index)));
    }
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 60 ? true : undefined), 5_000, 25);
    const { metrics } = await consumer({ batchSize: 500, flushIntervalMs: 50 });
    await waitForRows(correlationId, 12_000, 30_000);
    assert.equal((await rowsFor(correlationId)).length, 12_000);
    const batches = await metrics.registry.getSingleMetricAsString('flowgate_task_event_batch_duration_seconds');
    assert.doesNotMatch(batches, /outcome="error"[^\n]*_count|_count\{[^}]*outcome="error"[^}]*\} [1-9]/, 'no insert failed');
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined), 5_000, 25);
  });

  describe('through a Postgres outage (TCP proxy in front of the real server)', () => {
    let proxy: TcpProxy;
    let proxiedDb: Database;

    beforeEach(async () => {
      const target = new URL(DATABASE_URL);
      proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
      proxiedDb = createDatabase({ url: proxy.rewrite(DATABASE_URL), poolMax: 2, connectTimeoutMs: 300, logger });
    });

    afterEach(async () => {
      await proxiedDb.destroy();
      await proxy.close();
    });

    it('keeps events unacked while inserts fail and writes each exactly once after recovery', async () => {
      const { metrics } = await consumer({ batchSize: 4, flushIntervalMs: 50 }, proxiedDb);
      proxy.cut();
      const correlationId = randomUUID();
      for (let index = 0; index < 10; index++) publish(newEvent(correlationId, index));
      await eventually(
        async () => ((await metrics.registry.getSingleMetricAsString('flowgate_task_event_batch_duration_seconds')).match(/_count\{[^}]*outcome="error"[^}]*\} [1-9]/) ? true : undefined),
        10_000,
        25,
      );
      assert.equal((await rowsFor(correlationId)).length, 0);

      proxy.restore();
      const rows = await waitForRows(correlationId, 10);
      await sleep(300);
      const settled = await rowsFor(correlationId);
      assert.equal(settled.length, 10);
      assert.equal(new Set(settled.map((row) => row.event_id)).size, 10);
      assert.equal(rows.length, 10);
      await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined), 5_000, 25);
    });

    it('loses nothing when it crashes mid-outage: the unacked events return to the queue for the next consumer', async () => {
      const first = await startConsumer(proxiedDb, { batchSize: 4, flushIntervalMs: 50, exchange, queue });
      proxy.cut();
      const correlationId = randomUUID();
      for (let index = 0; index < 10; index++) publish(newEvent(correlationId, index));
      await eventually(
        async () => ((await first.metrics.registry.getSingleMetricAsString('flowgate_task_event_batch_duration_seconds')).includes('outcome="error"') ? true : undefined),
        10_000,
        25,
      );
      await first.crash();
      await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 10 ? true : undefined), 5_000, 25);
      assert.equal((await rowsFor(correlationId)).length, 0);

      proxy.restore();
      await consumer({ batchSize: 4, flushIntervalMs: 50 }, proxiedDb);
      await waitForRows(correlationId, 10);
      await sleep(200);
      assert.equal((await rowsFor(correlationId)).length, 10);
    });
  });

  it('dead-letters malformed events and keeps storing good ones', async () => {
    await consumer({ batchSize: 10, flushIntervalMs: 50 });
    const correlationId = randomUUID();
    const bad = [
      '{not json',
      JSON.stringify({ ...newEvent(correlationId, 0), event: 'exploded' }),
      JSON.stringify({ ...newEvent(correlationId, 1), event_id: 'not-a-uuid' }),
      JSON.stringify({ ...newEvent(correlationId, 2), description: 'has a \u0000 NUL' }),
    ];
    for (const body of bad) publish(body);
    publish(newEvent(correlationId, 3));

    const rows = await waitForRows(correlationId, 1);
    assert.deepEqual(
      rows.map((row) => row.description),
      ['step 3'],
    );
    const deadLettered = await eventually(async () => {
      const state = await channel.checkQueue(`${queue}.dlq`);
      return state.messageCount >= bad.length ? state.messageCount : undefined;
    }, 5_000, 25);
    assert.equal(deadLettered, bad.length);
  });

  it('stores a redelivered or republished event once', async () => {
    await consumer({ batchSize: 3, flushIntervalMs: 50 });
    const correlationId = randomUUID();
    const event = newEvent(correlationId, 0);
    publish(event);
    await waitForRows(correlationId, 1);
    publish(event);
    publish(event);
    const marker = newEvent(correlationId, 1);
    publish(marker);
    await waitForRows(correlationId, 2);
    await eventually(async () => ((await channel.checkQueue(queue)).messageCount === 0 ? true : undefined), 5_000, 25);
    await sleep(200);
    const rows = await rowsFor(correlationId);
    assert.deepEqual(
      rows.map((row) => row.event_id),
      [event.event_id, marker.event_id],
    );
  });

  it('dead-letters an event Postgres refuses without holding back the rest of its batch', async () => {
    // A schema of our own whose task_logs refuses one description: a real constraint, not a stub.
    const schema = uniqueName('logger_schema').toLowerCase();
    await db.raw(`CREATE SCHEMA "${schema}"`);
    cleanups.push(() => db.raw(`DROP SCHEMA "${schema}" CASCADE`));
    await db.raw(`CREATE TABLE "${schema}".task_logs (LIKE public.task_logs INCLUDING ALL, CHECK (description <> 'poison'))`);
    const scopedUrl = new URL(DATABASE_URL);
    scopedUrl.searchParams.set('options', `-c search_path=${schema}`);
    const scopedDb = createDatabase({ url: scopedUrl.toString(), poolMax: 2, logger });
    cleanups.push(() => scopedDb.destroy());

    await consumer({ batchSize: 5, flushIntervalMs: 50 }, scopedDb);
    const correlationId = randomUUID();
    const events = [0, 1, 2, 3, 4].map((index) => newEvent(correlationId, index));
    events[2]!.description = 'poison';
    for (const event of events) publish(event);

    const stored = await eventually(async () => {
      const rows = await scopedDb('task_logs').where({ correlation_id: correlationId }).orderBy('description').pluck('description');
      return rows.length >= 4 ? rows : undefined;
    }, 10_000, 25);
    assert.deepEqual(stored, ['step 0', 'step 1', 'step 3', 'step 4']);
    const deadLettered = await eventually(async () => {
      const message = await channel.get(`${queue}.dlq`, { noAck: true });
      return message ? (JSON.parse(message.content.toString()) as TaskEvent) : undefined;
    }, 5_000, 25);
    assert.equal(deadLettered.event_id, events[2]!.event_id);
    assert.equal((await channel.checkQueue(queue)).messageCount, 0);
  });
});
