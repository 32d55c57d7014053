import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type amqp from 'amqplib';
import type { AmqpConnection } from '../src/amqp/connection.js';
import { TaskEventPublisher } from '../src/amqp/taskEventPublisher.js';
import type { TaskEvent } from '../src/contracts.js';
import { RABBITMQ_URL, uniqueName } from '../../../test/support/testEnv.js';
import type { TcpProxy } from '../../../test/support/tcpProxy.js';
import { openConnection, openObserver, rabbitProxy, silentLogger, until } from './support/amqp.js';

describe('TaskEventPublisher over real RabbitMQ', () => {
  let proxy: TcpProxy;
  let connection: AmqpConnection;
  let observer: amqp.ChannelModel;
  let exchange: string;
  /** One entry per event, with the message it travelled in. */
  let received: Array<{ event: TaskEvent; routingKey: string; messageId: string; persistent: boolean; message: number }>;
  let messages: number;
  let publisher: TaskEventPublisher;

  beforeEach(async () => {
    exchange = uniqueName('events');
    proxy = await rabbitProxy();
    observer = await openObserver();
    const channel = await observer.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    received = [];
    messages = 0;
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        messages += 1;
        for (const event of JSON.parse(message.content.toString()) as TaskEvent[]) {
          received.push({
            event,
            routingKey: message.fields.routingKey,
            messageId: message.properties.messageId,
            persistent: message.properties.deliveryMode === 2,
            message: messages,
          });
        }
      },
      { noAck: true },
    );
    connection = await openConnection(proxy.rewrite(RABBITMQ_URL));
    publisher = new TaskEventPublisher({ connection, exchange, service: 'api', logger: silentLogger });
    await until(() => publisher.buffered === 0 && connection.isConnected, 'publisher ready');
  });

  afterEach(async () => {
    await publisher.close();
    await connection.close();
    await proxy.close();
    await observer.close();
  });

  const input = (index: number) => ({
    correlation_id: `corr-${index}`,
    task_id: randomUUID(),
    queue_name: 'data_queue',
    event: 'start' as const,
    description: `event ${index}`,
  });

  it('publishes complete, persistent events as a JSON array routed by <service>.events', async () => {
    // Events emitted before the channel opens are buffered, then flushed: either way this one arrives.
    publisher.emit({ ...input(1), event: 'error' });
    await until(() => received.length === 1, 'one event');
    const [{ event, routingKey, messageId, persistent }] = received as [(typeof received)[number]];
    assert.equal(routingKey, 'api.events');
    assert.equal(messageId, event.event_id);
    assert.equal(event.event, 'error');
    assert.ok(persistent);
    assert.equal(event.service_name, 'api');
    assert.equal(event.correlation_id, 'corr-1');
    assert.equal(event.description, 'event 1');
    assert.match(event.event_id, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(event.created_at)));
  });

  it('sends events emitted together as one message, and splits past the batch limit', async () => {
    const small = new TaskEventPublisher({ connection, exchange, service: 'processor', logger: silentLogger, maxBatch: 4 });
    try {
      await until(() => connection.isConnected, 'connected');
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let index = 0; index < 10; index++) small.emit(input(index));
      await until(() => received.filter((item) => item.event.service_name === 'processor').length === 10, 'ten events');
      const ours = received.filter((item) => item.event.service_name === 'processor');
      const sizes = [...new Set(ours.map((item) => item.message))].map((id) => ours.filter((item) => item.message === id).length);
      assert.deepEqual(sizes, [4, 4, 2]);
      assert.deepEqual(ours.map((item) => item.event.description), Array.from({ length: 10 }, (_, index) => `event ${index}`));
    } finally {
      await small.close();
    }
  });

  it('re-sends events no queue took (returned, not silently dropped) until a queue is bound', async () => {
    const lonely = uniqueName('events_unbound');
    const early = new TaskEventPublisher({ connection, exchange: lonely, service: 'worker', logger: silentLogger });
    try {
      await until(() => connection.isConnected, 'connected');
      await new Promise((resolve) => setTimeout(resolve, 100));
      early.emit(input(7));
      // Nothing is bound yet: the broker returns the message; bind a queue while it waits to be re-sent.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const channel = await observer.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, lonely, '#');
      const arrived: TaskEvent[] = [];
      await channel.consume(queue, (message) => message && arrived.push(...(JSON.parse(message.content.toString()) as TaskEvent[])), { noAck: true });
      await until(() => arrived.length === 1, 'the returned event arrives once a queue is bound');
      assert.equal(arrived[0]!.description, 'event 7');
      await channel.deleteExchange(lonely);
      await channel.close();
    } finally {
      await early.close();
    }
  });

  it('emitConfirmed resolves once the broker has the event, and after its timeout while the broker is away', async () => {
    await until(() => connection.isConnected, 'connected');
    await publisher.emitConfirmed(input(41), 5_000);
    assert.equal(publisher.unconfirmed, 0, 'nothing of ours is still awaiting a confirm');
    await until(() => received.some((item) => item.event.description === 'event 41'), 'the confirmed event is in the queue');

    proxy.cut();
    await until(() => !connection.isConnected, 'disconnect noticed');
    const started = Date.now();
    await publisher.emitConfirmed(input(42), 300);
    assert.ok(Date.now() - started >= 280, 'waited for its timeout');
    assert.equal(publisher.buffered, 1, 'the event stays buffered for later');
    proxy.restore();
    await until(() => received.some((item) => item.event.description === 'event 42'), 'sent after reconnecting');
  });

  it('buffers events while RabbitMQ is unreachable, without throwing, and flushes them in order on reconnect', async () => {
    await until(() => connection.isConnected, 'connected');
    proxy.cut();
    await until(() => !connection.isConnected, 'disconnect noticed');

    for (let index = 0; index < 20; index++) publisher.emit(input(index));
    assert.equal(publisher.buffered, 20);
    assert.equal(received.length, 0);

    proxy.restore();
    await until(() => received.length >= 20, 'buffered events delivered');
    assert.equal(publisher.buffered, 0);
    assert.deepEqual(
      received.map((message) => message.event.description),
      Array.from({ length: 20 }, (_, index) => `event ${index}`),
    );
    assert.equal(new Set(received.map((message) => message.event.event_id)).size, 20);
  });

  it('drops the oldest events beyond its buffer limit', async () => {
    const bounded = new TaskEventPublisher({ connection, exchange, service: 'worker', logger: silentLogger, bufferLimit: 3 });
    try {
      proxy.cut();
      await until(() => !connection.isConnected, 'disconnect noticed');
      for (let index = 0; index < 5; index++) bounded.emit(input(index));
      assert.equal(bounded.buffered, 3);
      proxy.restore();
      await until(() => received.filter((message) => message.event.service_name === 'worker').length >= 3, 'bounded events');
      assert.deepEqual(
        received.filter((message) => message.event.service_name === 'worker').map((message) => message.event.description),
        ['event 2', 'event 3', 'event 4'],
      );
    } finally {
      await bounded.close();
    }
  });
});
