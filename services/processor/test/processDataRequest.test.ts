import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import {
  AmqpConnection,
  createLogger,
  createMetrics,
  MalformedRequestError,
  TaskEventPublisher,
  type RpcHandler,
  type TaskEvent,
} from '@flowgate/common';
import { createProcessDataRequest } from '../src/processDataRequest.js';
import { eventually } from '../../../test/support/http.js';
import { RABBITMQ_URL, uniqueName } from '../../../test/support/testEnv.js';

/**
 * The handler runs in-process, its events go through a real TaskEventPublisher
 * to a real topic exchange, and a queue bound to it shows what was emitted.
 */
describe('processor RPC handler', () => {
  const logger = createLogger({ service: 'processor-test', level: 'silent' });
  const queue = uniqueName('processor_handler');
  let connection: AmqpConnection;
  let events: TaskEventPublisher;
  let observer: amqp.ChannelModel;
  let observed: TaskEvent[];
  let handler: RpcHandler;
  let metrics: ReturnType<typeof createMetrics>;

  before(async () => {
    const exchange = uniqueName('processor_events');
    const eventQueue = uniqueName('processor_events_seen');
    observer = await amqp.connect(RABBITMQ_URL);
    const channel = await observer.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(eventQueue, { exclusive: true });
    await channel.bindQueue(eventQueue, exchange, '#');
    observed = [];
    await channel.consume(eventQueue, (message) => message && observed.push(...(JSON.parse(message.content.toString()) as TaskEvent[])), { noAck: true });

    connection = await AmqpConnection.open({ url: RABBITMQ_URL, connectionName: 'processor-test', logger });
    await connection.waitUntilConnected(5_000);
    events = new TaskEventPublisher({ connection, exchange, service: 'processor', logger });
    metrics = createMetrics('processor-test');
    handler = createProcessDataRequest({ events, metrics });
  });

  after(async () => {
    await events.close();
    await connection.close();
    await observer.close();
  });

  beforeEach(() => {
    observed.length = 0;
  });

  const context = (correlationId = randomUUID()) => ({ correlationId, headers: {}, queue });
  const eventsFor = (correlationId: string, count: number) =>
    eventually(async () => {
      const matching = observed.filter((event) => event.correlation_id === correlationId);
      return matching.length >= count ? matching : undefined;
    }, 5_000, 20);

  it('replies with the outcome and emits receiver start and end events', async () => {
    const taskId = randomUUID();
    const call = context();
    const before = Date.now();
    const reply = (await handler({ task_id: taskId, payload: 'hello world', description: 'uppercase', task_type: 'data' }, call)) as {
      outcome: Record<string, unknown>;
      error?: unknown;
    };
    assert.equal(reply.error, undefined);
    assert.equal(reply.outcome.result, 'HELLO WORLD');
    assert.equal(reply.outcome.operation, 'uppercase');
    assert.equal(reply.outcome.input_type, 'string');
    assert.ok(Date.parse(reply.outcome.processed_at as string) >= before - 1);
    assert.equal(typeof reply.outcome.processing_ms, 'number');
    assert.ok((reply.outcome.processing_ms as number) >= 0);

    const emitted = await eventsFor(call.correlationId, 2);
    assert.deepEqual(
      emitted.map((event) => event.event),
      ['start', 'end'],
    );
    for (const event of emitted) {
      assert.equal(event.task_id, taskId);
      assert.equal(event.service_name, 'processor');
      assert.equal(event.queue_name, queue);
      assert.equal(event.description, 'uppercase');
    }
    assert.notEqual(emitted[0]!.event_id, emitted[1]!.event_id);
  });

  it('replies with an error naming the supported operations and emits an error event', async () => {
    const call = context();
    const reply = (await handler({ task_id: randomUUID(), payload: 42, description: 'uppercase', task_type: 'data' }, call)) as {
      outcome?: unknown;
      error: { type: string; detail: string; supported_operations: string[] };
    };
    assert.equal(reply.outcome, undefined);
    assert.equal(reply.error.type, 'unsupported-operation');
    assert.deepEqual(reply.error.supported_operations, ['square', 'double', 'negate', 'abs', 'echo']);

    const emitted = await eventsFor(call.correlationId, 2);
    assert.deepEqual(
      emitted.map((event) => event.event),
      ['start', 'error'],
    );
    assert.equal(emitted[1]!.description, reply.error.detail);
  });

  it('replies with a non-finite-result error on overflow, without supported_operations', async () => {
    const reply = (await handler({ task_id: randomUUID(), payload: 1e308, description: 'square', task_type: 'data' }, context())) as {
      error: { type: string; supported_operations?: unknown };
    };
    assert.equal(reply.error.type, 'non-finite-result');
    assert.equal('supported_operations' in reply.error, false);
  });

  it('throws MalformedRequestError for requests that can never be handled, and emits nothing', async () => {
    const deep: unknown[] = [];
    let cursor = deep;
    for (let i = 0; i < 10_000; i++) cursor = (cursor[0] = []) as unknown[];
    const malformed: unknown[] = [
      'not an object',
      null,
      { payload: 'x', description: 'uppercase', task_type: 'data' },
      { task_id: 't', description: 'uppercase', task_type: 'data' },
      { task_id: 't', payload: 'x', description: 'explode', task_type: 'data' },
      { task_id: 't', payload: 'x', description: 'uppercase', task_type: 'other' },
      { task_id: 't', payload: deep, description: 'sort', task_type: 'data' },
    ];
    const call = context();
    for (const [index, body] of malformed.entries()) {
      await assert.rejects(handler(body, call), MalformedRequestError, `malformed request #${index}`);
    }
    // A well-formed request afterwards proves the publisher is live, so silence above is real.
    await handler({ task_id: 't', payload: 'x', description: 'echo', task_type: 'data' }, call);
    const emitted = await eventsFor(call.correlationId, 2);
    assert.equal(emitted.length, 2);
  });

  it('records server duration by operation and outcome', async () => {
    await handler({ task_id: randomUUID(), payload: [3, 1], description: 'sort', task_type: 'data' }, context());
    const text = await metrics.registry.getSingleMetricAsString('flowgate_rpc_server_duration_seconds');
    assert.match(text, new RegExp(`_count\\{[^}]*queue="${queue}",operation="sort",outcome="success"[^}]*\\} 1`));
  });
});
