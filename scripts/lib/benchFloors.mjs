// Helper processes for the benchmark's floors, each in its own process like the service it stands in for:
//   http     a bare express server answering a fixed JSON body, with the api's framework settings
//   echo     a trivial amqplib RPC consumer that replies to reply_to with the request body
//   bullmq   a BullMQ worker reporting to its parent when N jobs completed; FLOOR_WORK says what each job does:
//            "empty" nothing, "rpc+insert" a raw direct reply-to RPC to the echo consumer, then a raw pg insert
// Run as `node scripts/lib/benchFloors.mjs <mode>`; configuration comes from the environment.
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { insertFloorRecord, openRawRpc } from './floorWork.mjs';

const require = createRequire(new URL('../../services/api/package.json', import.meta.url));
const mode = process.argv[2];
const send = (message) => process.send?.(message);

if (mode === 'http') {
  const { default: express } = await import(require.resolve('express'));
  const app = express();
  // The api's settings: no x-powered-by, no etag, simple query parser, JSON body parsing with its limit.
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const body = {
    task_id: '00000000-0000-4000-8000-000000000000',
    task_status: 'Success',
    outcome: { result: 'HELLO WORLD', operation: 'uppercase', input_type: 'string', processed_at: new Date().toISOString(), processing_ms: 0.01 },
  };
  app.post('/api/v1/data/process', express.json({ limit: Number(process.env.BODY_LIMIT_BYTES ?? 1_048_576), strict: false }), (_request, response) => {
    response.json(body);
  });
  const server = createServer(app);
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => send({ ready: true, port: server.address().port }));
} else if (mode === 'echo') {
  const { connect } = await import(require.resolve('amqplib'));
  const connection = await connect(process.env.RABBITMQ_URL, { noDelay: true });
  const channel = await connection.createChannel();
  const queue = process.env.FLOOR_QUEUE;
  await channel.assertQueue(queue, { durable: true });
  await channel.prefetch(Number(process.env.PROCESSOR_PREFETCH ?? 64));
  await channel.consume(queue, (message) => {
    if (!message) return;
    channel.sendToQueue(message.properties.replyTo, message.content, { correlationId: message.properties.correlationId, contentType: 'application/json' });
    channel.ack(message);
  });
  send({ ready: true });
  process.on('message', async (message) => {
    if (message === 'stop') {
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close().catch(() => undefined);
      process.exit(0);
    }
  });
} else if (mode === 'bullmq') {
  const { Worker } = await import(require.resolve('bullmq'));
  const target = Number(process.env.FLOOR_JOBS);
  let completed = 0;
  const work = process.env.FLOOR_WORK === 'rpc+insert' ? await rpcAndInsert() : { run: async () => null, close: async () => undefined };
  const worker = new Worker(process.env.FLOOR_QUEUE, work.run, {
    connection: { host: process.env.REDIS_HOST, port: Number(process.env.REDIS_PORT), maxRetriesPerRequest: null },
    prefix: process.env.FLOOR_PREFIX,
    concurrency: Number(process.env.WORKER_CONCURRENCY ?? 32),
  });
  worker.on('completed', () => {
    completed += 1;
    if (completed === target) send({ done: true, at: Date.now() });
  });
  // A floor whose jobs fail and retry measures the retries' back-off, not BullMQ: the bench stops on it.
  worker.on('failed', (_job, error) => send({ failed: error.message }));
  await worker.waitUntilReady();
  send({ ready: true });
  process.on('message', async (message) => {
    if (message === 'stop') {
      await worker.close().catch(() => undefined);
      await work.close().catch(() => undefined);
      process.exit(0);
    }
  });
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}

/**
 * Flowgate's per-task work done raw, for the BullMQ chain floor: the same RPC body to the echo consumer
 * over one channel with direct reply-to (replies matched by correlation id), then one single-row insert
 * from a pg Pool of the services' size.
 */
async function rpcAndInsert() {
  const { connect } = await import(require.resolve('amqplib'));
  const { default: pg } = await import(createRequire(new URL('../../services/common/package.json', import.meta.url)).resolve('pg'));
  const connection = await connect(process.env.RABBITMQ_URL, { noDelay: true });
  const rpcCall = await openRawRpc(connection, process.env.FLOOR_RPC_QUEUE);
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 20) });
  let inserted = 0;
  return {
    run: async () => {
      await rpcCall();
      await insertFloorRecord(pool, process.env.FLOOR_ID_SERIES, ++inserted);
      return null;
    },
    close: async () => {
      await connection.close();
      await pool.end();
    },
  };
}
