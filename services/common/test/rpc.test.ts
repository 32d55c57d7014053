import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type amqp from 'amqplib';
import type { AmqpConnection } from '../src/amqp/connection.js';
import { RpcClient } from '../src/amqp/rpcClient.js';
import { MalformedRequestError, RpcServer, type RpcHandler, type RpcRequestContext } from '../src/amqp/rpcServer.js';
import { DependencyUnavailableError, RpcTimeoutError } from '../src/errors.js';
import { createMetrics } from '../src/metrics.js';
import { uniqueName } from '../../../test/support/testEnv.js';
import type { TcpProxy } from '../../../test/support/tcpProxy.js';
import { drain, openConnection, openObserver, rabbitProxy, silentLogger, sleep, until } from './support/amqp.js';

interface EchoRequest {
  id: string;
  delayMs?: number;
}

/** Replies `{ echoed: id }` after `delayMs`, remembering every request it saw. */
function echoHandler(seen: Array<{ body: EchoRequest; context: RpcRequestContext }>): RpcHandler {
  return async (body, context) => {
    const request = body as EchoRequest;
    seen.push({ body: request, context });
    if (request.delayMs) await sleep(request.delayMs);
    return { echoed: request.id };
  };
}

describe('RPC over real RabbitMQ', () => {
  const connections: AmqpConnection[] = [];
  const servers: RpcServer[] = [];
  const clients: RpcClient[] = [];
  let observer: amqp.ChannelModel;
  let observerChannel: amqp.Channel;

  before(async () => {
    observer = await openObserver();
    observerChannel = await observer.createChannel();
  });

  after(async () => {
    await observer.close();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await Promise.all(connections.splice(0).map((connection) => connection.close()));
  });

  async function connection(url?: string): Promise<AmqpConnection> {
    const opened = await openConnection(url);
    connections.push(opened);
    return opened;
  }

  async function startServer(queue: string, handler: RpcHandler, prefetch = 16): Promise<RpcServer> {
    const server = new RpcServer({ connection: await connection(), queue, prefetch, handler, logger: silentLogger });
    servers.push(server);
    server.start();
    await until(() => server.isReady, 'rpc server to consume');
    return server;
  }

  async function startClient(queue: string, via?: TcpProxy, metrics?: ReturnType<typeof createMetrics>): Promise<RpcClient> {
    const url = via?.rewrite(process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
    const client = new RpcClient({ connection: await connection(url), queues: [queue], logger: silentLogger, ...(metrics ? { metrics } : {}) });
    clients.push(client);
    await until(() => client.isReady, 'rpc client channel');
    return client;
  }

  it('round-trips a request: reply matched by correlation id', async () => {
    const queue = uniqueName('rpc_roundtrip');
    const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
    await startServer(queue, echoHandler(seen));
    const client = await startClient(queue);
    const correlationId = randomUUID();

    const reply = await client.call(queue, { id: 'a' }, { timeoutMs: 5_000, correlationId });

    assert.deepEqual(reply, { echoed: 'a' });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.context.correlationId, correlationId);
    assert.equal(seen[0]!.context.queue, queue);
    assert.equal(client.pendingCalls, 0);
  });

  it('times out with RpcTimeoutError, and a late reply never resolves another call', async () => {
    const queue = uniqueName('rpc_late');
    const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
    await startServer(queue, echoHandler(seen));
    const metrics = createMetrics('common-test');
    const client = await startClient(queue, undefined, metrics);

    await assert.rejects(client.call(queue, { id: 'slow', delayMs: 600 }, { timeoutMs: 200, operation: 'echo' }), (error: unknown) => {
      assert.ok(error instanceof RpcTimeoutError);
      assert.equal(error.queue, queue);
      assert.equal(error.timeoutMs, 200);
      return true;
    });
    // This call is pending when the slow call's reply arrives (~400 ms from now); it must get its own reply.
    const second = await client.call(queue, { id: 'second', delayMs: 700 }, { timeoutMs: 5_000 });
    assert.deepEqual(second, { echoed: 'second' });
    assert.deepEqual(
      seen.map((request) => request.body.id),
      ['slow', 'second'],
    );
    assert.equal(client.pendingCalls, 0);
    assert.match(await metrics.registry.getSingleMetricAsString('flowgate_rpc_timeouts_total'), new RegExp(`queue="${queue}",operation="echo"[^}]*\\} 1`));
  });

  it('sets per-message expiration, so a request nobody took in time is dropped by the broker', async () => {
    const queue = uniqueName('rpc_expire');
    const client = await startClient(queue);
    await assert.rejects(client.call(queue, { id: 'expired' }, { timeoutMs: 200 }), RpcTimeoutError);
    await sleep(200);

    const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
    await startServer(queue, echoHandler(seen));
    assert.deepEqual(await client.call(queue, { id: 'fresh' }, { timeoutMs: 5_000 }), { echoed: 'fresh' });
    assert.deepEqual(
      seen.map((request) => request.body.id),
      ['fresh'],
    );
  });

  it('serves many concurrent calls over one reply consumer, each getting its own reply', async () => {
    const queue = uniqueName('rpc_many');
    const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
    await startServer(queue, echoHandler(seen), 64);
    const client = await startClient(queue);
    const before = await observerChannel.checkQueue(queue);

    const ids = Array.from({ length: 300 }, (_, index) => `call-${index}`);
    const replies = await Promise.all(ids.map((id, index) => client.call(queue, { id, delayMs: index % 7 }, { timeoutMs: 15_000 })));

    assert.deepEqual(
      replies,
      ids.map((id) => ({ echoed: id })),
    );
    assert.equal(new Set(seen.map((request) => request.context.correlationId)).size, ids.length);
    assert.equal(client.pendingCalls, 0);
    // Replies come over direct reply-to: the request queue still has exactly its one server consumer.
    assert.equal((await observerChannel.checkQueue(queue)).consumerCount, before.consumerCount);
  });

  it('rejects every pending call at once with DependencyUnavailableError when the connection drops, and fails fast while down', async () => {
    const queue = uniqueName('rpc_drop');
    const proxy = await rabbitProxy();
    try {
      const client = await startClient(queue, proxy);
      // No server: these calls would wait a minute for their timeout.
      const pending = Array.from({ length: 5 }, (_, index) => client.call(queue, { id: `p${index}` }, { timeoutMs: 60_000 }));
      await until(() => client.pendingCalls === 5, 'calls to be pending');

      proxy.cut();
      const outcomes = await Promise.allSettled(pending);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.ok(outcome.reason instanceof DependencyUnavailableError, String(outcome.reason));
        assert.equal(outcome.reason.dependency, 'rabbitmq');
      }
      assert.equal(client.pendingCalls, 0);

      await assert.rejects(client.call(queue, { id: 'while-down' }, { timeoutMs: 60_000 }), DependencyUnavailableError);
      assert.equal(client.pendingCalls, 0);

      proxy.restore();
      await until(() => client.isReady, 'client to reconnect');
      const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
      await startServer(queue, echoHandler(seen));
      assert.deepEqual(await client.call(queue, { id: 'after' }, { timeoutMs: 5_000 }), { echoed: 'after' });
    } finally {
      await proxy.close();
    }
  });

  it('close() rejects pending calls and later calls with DependencyUnavailableError', async () => {
    const queue = uniqueName('rpc_close');
    const client = await startClient(queue);
    const pending = client.call(queue, { id: 'x' }, { timeoutMs: 60_000 });
    client.close();
    await assert.rejects(pending, DependencyUnavailableError);
    await assert.rejects(client.call(queue, { id: 'y' }, { timeoutMs: 60_000 }), DependencyUnavailableError);
  });

  it('stays closed after close(), even when the connection reconnects', async () => {
    const queue = uniqueName('rpc_closed');
    const proxy = await rabbitProxy();
    try {
      const proxied = await connection(proxy.rewrite(process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'));
      const client = new RpcClient({ connection: proxied, queues: [queue], logger: silentLogger });
      await until(() => client.isReady, 'rpc client channel');
      client.close();
      proxy.cut();
      await until(() => !proxied.isConnected, 'disconnect noticed');
      proxy.restore();
      await until(() => proxied.isConnected, 'reconnect');
      await sleep(300);
      assert.equal(client.isReady, false);
      await assert.rejects(client.call(queue, { id: 'z' }, { timeoutMs: 60_000 }), DependencyUnavailableError);
    } finally {
      await proxy.close();
    }
  });

  it('dead-letters malformed messages to <queue>.dlq instead of redelivering them', async () => {
    const queue = uniqueName('rpc_malformed');
    const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
    let malformedCount = 0;
    const handler: RpcHandler = async (body, context) => {
      if ((body as EchoRequest).id === 'refuse') throw new MalformedRequestError('refused by handler');
      return echoHandler(seen)(body, context);
    };
    const server = new RpcServer({
      connection: await connection(),
      queue,
      prefetch: 4,
      handler,
      logger: silentLogger,
      onMalformed: () => malformedCount++,
    });
    servers.push(server);
    server.start();
    await until(() => server.isReady, 'rpc server to consume');

    const replyQueue = (await observerChannel.assertQueue('', { exclusive: true })).queue;
    observerChannel.sendToQueue(queue, Buffer.from('{not json'), { replyTo: replyQueue, correlationId: 'c1' });
    observerChannel.sendToQueue(queue, Buffer.from(JSON.stringify({ id: 'no-reply-to' })), { correlationId: 'c2' });
    observerChannel.sendToQueue(queue, Buffer.from(JSON.stringify({ id: 'no-correlation' })), { replyTo: replyQueue });
    observerChannel.sendToQueue(queue, Buffer.from(JSON.stringify({ id: 'refuse' })), { replyTo: replyQueue, correlationId: 'c4' });
    observerChannel.sendToQueue(queue, Buffer.from(JSON.stringify({ id: 'good' })), { replyTo: replyQueue, correlationId: 'c5' });

    const deadLettered: string[] = [];
    await until(async () => {
      deadLettered.push(...(await drain(observerChannel, `${queue}.dlq`)).map((message) => message.content.toString()));
      return deadLettered.length >= 4;
    }, 'four dead-lettered messages');
    assert.deepEqual(deadLettered.sort(), ['{"id":"no-correlation"}', '{"id":"no-reply-to"}', '{"id":"refuse"}', '{not json'].sort());
    assert.equal(malformedCount, 4);

    let replies: amqp.GetMessage[] = [];
    await until(async () => (replies = await drain(observerChannel, replyQueue)).length > 0, 'the good reply');
    assert.equal(replies.length, 1);
    assert.equal(replies[0]!.properties.correlationId, 'c5');
    assert.deepEqual(JSON.parse(replies[0]!.content.toString()), { echoed: 'good' });
    // The handler never saw a non-JSON or reply-less message, and the source queue holds nothing back.
    assert.deepEqual(
      seen.map((request) => request.body.id),
      ['good'],
    );
    const state = await observerChannel.checkQueue(queue);
    assert.equal(state.messageCount, 0);
    await observerChannel.deleteQueue(replyQueue);
  });

  it('requeues a request once after an unexpected handler failure, then dead-letters it', async () => {
    const queue = uniqueName('rpc_crash');
    let attempts = 0;
    const server = new RpcServer({
      connection: await connection(),
      queue,
      prefetch: 1,
      handler: async () => {
        attempts++;
        throw new Error('bug in handler');
      },
      logger: silentLogger,
    });
    servers.push(server);
    server.start();
    await until(() => server.isReady, 'rpc server to consume');

    observerChannel.sendToQueue(queue, Buffer.from('{"id":"boom"}'), { replyTo: 'nowhere', correlationId: 'boom' });
    let deadLettered: amqp.GetMessage[] = [];
    await until(async () => (deadLettered = await drain(observerChannel, `${queue}.dlq`)).length > 0, 'the failing request in the dlq');
    assert.equal(deadLettered[0]!.properties.correlationId, 'boom');
    await sleep(200);
    assert.equal(attempts, 2, 'handled exactly twice: first delivery and one redelivery');
    assert.equal((await observerChannel.checkQueue(queue)).messageCount, 0);
  });

  it('keeps serving after replying to a caller that has gone away', async () => {
    const queue = uniqueName('rpc_gone');
    const seen: Array<{ body: EchoRequest; context: RpcRequestContext }> = [];
    await startServer(queue, echoHandler(seen));
    const leaving = await startClient(queue);
    const call = leaving.call(queue, { id: 'orphan', delayMs: 300 }, { timeoutMs: 5_000 });
    await until(() => seen.length === 1, 'the server to take the request');
    leaving.close();
    await assert.rejects(call, DependencyUnavailableError);
    await sleep(400);

    const staying = await startClient(queue);
    assert.deepEqual(await staying.call(queue, { id: 'next' }, { timeoutMs: 5_000 }), { echoed: 'next' });
  });
});
