// What one Flowgate request does, done raw, shared by the benchmark's floors: the RPC request body the
// api and the worker send, and the single-row insert of a finished record.

/** The processor request of the seed example, as Flowgate sends it. */
const RPC_BODY = Buffer.from(JSON.stringify({ task_id: '6f1c1f1e-8b1a-4c5e-9a55-3f0d7f3f9a10', payload: 'hello world', description: 'uppercase', task_type: 'data' }));

/**
 * A raw direct reply-to RPC client on `connection` (amqplib): one channel, one reply consumer, replies
 * matched by correlation id. Returns `call()`, which sends RPC_BODY to `queue` and resolves on the reply.
 */
export async function openRawRpc(connection, queue) {
  const channel = await connection.createChannel();
  const pending = new Map();
  let nextId = 0;
  await channel.consume('amq.rabbitmq.reply-to', (message) => {
    pending.get(message.properties.correlationId)?.();
    pending.delete(message.properties.correlationId);
  }, { noAck: true });
  return () =>
    new Promise((resolve) => {
      const correlationId = String(++nextId);
      pending.set(correlationId, resolve);
      channel.publish('', queue, RPC_BODY, { correlationId, replyTo: 'amq.rabbitmq.reply-to', expiration: '10000', contentType: 'application/json' });
    });
}

/**
 * Inserts one finished record into bench_floor_records (a copy of data_records with its indexes).
 * `series` (four hex digits) keeps the task ids of different floors and rounds apart in the shared
 * table: a repeated id would fail on the unique index.
 */
export function insertFloorRecord(pool, series, id) {
  return pool.query({
    // Named, so each connection prepares it once: the best a raw node-postgres client does (pgbench -M prepared).
    name: 'bench_floor_insert',
    text: `INSERT INTO bench_floor_records (task_id, mode, payload, description, task_status, outcome, error)
     VALUES ($1, 'sync', $2::jsonb, 'uppercase', 'Success', $3::jsonb, NULL)`,
    values: [
      `00000000-0000-4000-${series}-${String(id).padStart(12, '0')}`,
      '"hello world"',
      JSON.stringify({ result: 'HELLO WORLD', operation: 'uppercase', input_type: 'string', processed_at: new Date().toISOString(), processing_ms: 0.01 }),
    ],
  });
}
