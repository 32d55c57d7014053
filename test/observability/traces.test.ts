import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import amqp from 'amqplib';
import { join } from 'node:path';
import { eventually, request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { RABBITMQ_URL, RUN_ID } from '../support/testEnv.js';
import { OtlpReceiver, SpanKind, type ReceivedSpan } from './otlpReceiver.js';

const body = { payload: 'hello world', description: 'uppercase' };

/** Waits until the trace holds spans from every service and every parent it names has arrived. */
async function completeTrace(receiver: OtlpReceiver, traceId: string, services: string[]): Promise<ReceivedSpan[]> {
  let seen = '';
  return eventually(async () => {
    const spans = receiver.trace(traceId);
    const ids = new Set(spans.map((span) => span.spanId));
    const present = new Set(spans.map((span) => span.service));
    const orphans = spans.filter((span) => span.parentSpanId && !ids.has(span.parentSpanId));
    seen = `services ${[...present].join(',')}; ${orphans.length} spans whose parent has not arrived`;
    return services.every((service) => present.has(service)) && orphans.length === 0 ? spans : undefined;
  }, 15_000, 200).catch((error: Error) => {
    throw new Error(`trace ${traceId} incomplete: ${error.message}; ${seen}`);
  });
}

/** The api's HTTP server span for one request (a trace's root). */
async function serverSpan(receiver: OtlpReceiver, port: number, method: string, path: string): Promise<ReceivedSpan> {
  return eventually(async () =>
    receiver.spans.find(
      (span) =>
        span.service === 'flowgate-api' &&
        span.kind === SpanKind.SERVER &&
        span.attributes['server.port'] === port &&
        span.attributes['http.request.method'] === method &&
        span.attributes['url.path'] === path,
    ),
  );
}

function parentOf(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan {
  const parent = spans.find((candidate) => candidate.spanId === span.parentSpanId);
  assert.ok(parent, `${span.service} "${span.name}" has no parent in the trace`);
  return parent;
}

function assertOneConnectedTree(spans: ReceivedSpan[], root: ReceivedSpan): void {
  const roots = spans.filter((span) => !span.parentSpanId);
  assert.deepEqual(
    roots.map((span) => span.spanId),
    [root.spanId],
    `one root expected, got ${roots.map((span) => `${span.service} ${span.name}`).join('; ')}`,
  );
  for (const span of spans) if (span !== root) parentOf(spans, span);
  assert.equal(new Set(spans.map((span) => span.traceId)).size, 1);
}

function assertHttpServerSpan(span: ReceivedSpan, method: string, route: string, status: number): void {
  assert.equal(span.kind, SpanKind.SERVER);
  assert.equal(span.name, `${method} ${route}`);
  assert.equal(span.attributes['http.request.method'], method);
  assert.equal(span.attributes['http.route'], route);
  assert.equal(span.attributes['http.response.status_code'], status);
  assert.equal(span.attributes['url.scheme'], 'http');
}

/** The spans logger, processor and api/worker exchange over RabbitMQ: consumers parented on the publish that carried their context. */
function assertMessagingLinks(spans: ReceivedSpan[], rpcQueue: string, rpcCaller: string): void {
  const consumes = spans.filter((span) => span.service === 'flowgate-processor' && span.kind === SpanKind.CONSUMER);
  assert.equal(consumes.length, 1, 'one RPC request consumed by the processor');
  const consume = consumes[0]!;
  assert.equal(consume.attributes['messaging.system'], 'rabbitmq');
  assert.equal(consume.attributes['messaging.rabbitmq.routing_key'], rpcQueue);
  const publish = parentOf(spans, consume);
  assert.equal(publish.kind, SpanKind.PRODUCER);
  assert.equal(publish.service, rpcCaller);
  assert.equal(publish.attributes['messaging.system'], 'rabbitmq');
  assert.equal(publish.attributes['messaging.rabbitmq.routing_key'], rpcQueue);

  // The reply comes back to the caller as a consumer span under the processor's reply publish.
  const reply = spans.find((span) => span.service === rpcCaller && span.kind === SpanKind.CONSUMER && span.name.startsWith('amq.rabbitmq.reply-to'));
  assert.ok(reply, 'the RPC reply is traced');
  assert.equal(parentOf(spans, reply).service, 'flowgate-processor');

  // Task events travel many to a message; the message's consume span sits under the publish that sent it,
  // and each stored event gets a write span under the span that emitted it.
  const consumed = spans.filter((span) => span.service === 'flowgate-logger' && span.kind === SpanKind.CONSUMER && span.name !== 'task_logs write');
  assert.ok(consumed.length >= 1, 'the logger consumed task event messages of this request');
  for (const span of consumed) {
    const parent = parentOf(spans, span);
    assert.equal(parent.kind, SpanKind.PRODUCER, 'a task event message is consumed under the publish that sent it');
    assert.notEqual(parent.service, 'flowgate-logger');
  }
  const writes = spans.filter((span) => span.service === 'flowgate-logger' && span.name === 'task_logs write');
  assert.ok(writes.length >= 4, 'every event of this request was written in its trace');
  const loggedFrom = new Set(writes.map((span) => parentOf(spans, span).service));
  assert.ok(!loggedFrom.has('flowgate-logger'), 'writes hang under the emitting service');
  assert.ok(loggedFrom.has(rpcCaller), `${rpcCaller} events reach the logger in the same trace`);
}

describe('one trace per request across every service', function () {
  this.timeout(40_000);
  let receiver: OtlpReceiver;
  let system: TestSystem | undefined;

  before(async function () {
    this.timeout(60_000);
    receiver = await OtlpReceiver.start();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' };
    system = await startTestSystem('traces', { nginx: false, env });
  });

  after(async () => {
    if (system) await stopTestSystem(system);
    await receiver?.close();
  });

  it('a sync request is one trace: api → processor → logger, every parent present', async () => {
    const response = await request(`${system!.urls.api}/api/v1/data/process`, { json: body });
    assert.equal(response.status, 200);

    const root = await serverSpan(receiver, system!.ports.api, 'POST', '/api/v1/data/process');
    const spans = await completeTrace(receiver, root.traceId, ['flowgate-api', 'flowgate-processor', 'flowgate-logger']);
    assertOneConnectedTree(spans, root);
    assertHttpServerSpan(root, 'POST', '/api/v1/data/process', 200);
    assertMessagingLinks(spans, system!.env.RPC_QUEUE!, 'flowgate-api');
    assert.ok(!spans.some((span) => span.service === 'flowgate-worker'), 'no worker on the sync path');

    const insert = spans.find((span) => span.service === 'flowgate-api' && span.attributes['db.system.name'] === 'postgresql');
    assert.ok(insert, 'the record insert is traced');
    assert.equal(insert.kind, SpanKind.CLIENT);
    assert.match(String(insert.attributes['db.query.text']), /^insert into "?data_records"?/i);
  });

  it('an async request is one trace: api → worker → processor → logger, the job under the POST', async () => {
    const accepted = await request(`${system!.urls.api}/api/v1/data/process-async`, { json: body });
    assert.equal(accepted.status, 202);
    await eventually(async () => ((await request(`${system!.urls.api}/api/v1/data/process-async/${accepted.body.task_id}`)).status === 200 ? true : undefined));

    const root = await serverSpan(receiver, system!.ports.api, 'POST', '/api/v1/data/process-async');
    const spans = await completeTrace(receiver, root.traceId, ['flowgate-api', 'flowgate-worker', 'flowgate-processor', 'flowgate-logger']);
    assertOneConnectedTree(spans, root);
    assertHttpServerSpan(root, 'POST', '/api/v1/data/process-async', 202);

    const jobs = spans.filter((span) => span.service === 'flowgate-worker' && span.attributes['messaging.system'] === 'bullmq');
    assert.equal(jobs.length, 1, 'one job span');
    const job = jobs[0]!;
    assert.equal(job.kind, SpanKind.CONSUMER);
    assert.equal(job.name, 'process data');
    assert.equal(job.attributes['messaging.destination.name'], 'data');
    assert.equal(job.attributes['messaging.operation.type'], 'process');
    assert.equal(job.attributes['messaging.message.id'], accepted.body.task_id);
    assert.equal(parentOf(spans, job).service, 'flowgate-api', "the job's parent is the api span that enqueued it");

    assertMessagingLinks(spans, system!.env.RPC_QUEUE!, 'flowgate-worker');
    // Everything the worker did for the job hangs below the job span.
    const below = (span: ReceivedSpan): boolean => span.spanId === job.spanId || (span.parentSpanId !== undefined && below(parentOf(spans, span)));
    for (const span of spans.filter((candidate) => candidate.service === 'flowgate-worker')) assert.ok(below(span), `${span.name} outside the job`);
  });

  it('log lines written while handling a message carry its trace_id and span_id', async () => {
    // A malformed RPC request and a malformed task event, each carrying a W3C context of our own:
    // processor and logger log a warning inside the consumer span they open under it.
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const headers = { traceparent: `00-${traceId}-${parentId}-01` };
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const channel = await connection.createChannel();
      channel.sendToQueue(system!.env.RPC_QUEUE!, Buffer.from('not json'), { headers, contentType: 'application/json' });
      channel.publish(system!.env.TASK_EVENTS_EXCHANGE!, 'test.malformed', Buffer.from('not json'), { headers });
      await channel.close();
    } finally {
      await connection.close();
    }
    const consumers = await eventually(async () => {
      const spans = receiver.trace(traceId).filter((span) => span.kind === SpanKind.CONSUMER);
      const processor = spans.find((span) => span.service === 'flowgate-processor');
      const logger = spans.find((span) => span.service === 'flowgate-logger');
      return processor && logger ? { processor, logger } : undefined;
    });
    assert.equal(consumers.processor.parentSpanId, parentId);
    assert.equal(consumers.logger.parentSpanId, parentId);

    // Logs are buffered; stopping the services flushes them.
    const stopped = system;
    system = undefined;
    await stopTestSystem(stopped!);
    const logLines = (service: string) =>
      readFileSync(join(process.cwd(), '.run', `test-${RUN_ID}`, 'traces', `${service}.log`), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    for (const [service, message] of [
      ['processor', 'malformed rpc request dead-lettered'],
      ['logger', 'malformed task event dead-lettered'],
    ] as const) {
      const lines = logLines(service).filter((line) => line.msg === message);
      assert.equal(lines.length, 1, `${service}: one "${message}" line`);
      assert.equal(lines[0]!.trace_id, traceId, `${service} logs the trace id`);
      assert.equal(lines[0]!.span_id, consumers[service].spanId, `${service} logs the id of its consumer span`);
    }
  });
});
