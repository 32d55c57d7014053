import {
  assertQueueWithDeadLetter,
  DependencyUnavailableError,
  errorMessage,
  findPayloadProblem,
  taskEventMessageSchema,
  type AmqpConnection,
  type Logger,
  type Metrics,
  type TaskEvent,
  type TaskLogsRepository,
} from '@flowgate/common';
import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';

interface PendingMessage {
  message: ConsumeMessage;
  events: TaskEvent[];
  receivedAt: number;
}

const tracer = trace.getTracer('flowgate-logger');

/**
 * One span per stored event, in the trace the event was emitted in: a message
 * carries events of many requests, so the message's own consume span can belong
 * to only one of them. Costs nothing when tracing is off (events carry no context).
 */
function traceWrites(item: PendingMessage): void {
  for (const event of item.events) {
    if (!event.trace) continue;
    const parent = propagation.extract(ROOT_CONTEXT, event.trace);
    tracer
      .startSpan(
        'task_logs write',
        {
          kind: SpanKind.CONSUMER,
          startTime: item.receivedAt,
          attributes: { 'messaging.system': 'rabbitmq', 'flowgate.task_id': event.task_id, 'flowgate.event': event.event },
        },
        parent,
      )
      .end();
  }
}

export interface TaskLogConsumerOptions {
  connection: AmqpConnection;
  exchange: string;
  queue: string;
  batchSize: number;
  flushIntervalMs: number;
  repository: Pick<TaskLogsRepository, 'insertBatch'>;
  logger: Logger;
  metrics?: Pick<Metrics, 'taskEventsWritten' | 'taskEventBatchDuration'>;
}

/**
 * Moves task events from RabbitMQ into `task_logs` in batches. A batch is
 * flushed when it is full or `flushIntervalMs` after its first event, and its
 * messages are acked only after the insert commits: a crash or a Postgres
 * outage leaves them unacked in RabbitMQ, never lost. Prefetch caps how many
 * wait in memory.
 */
export class TaskLogConsumer {
  private channel: Channel | undefined;
  private batch: PendingMessage[] = [];
  private batchedEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private consumerTag: string | undefined;

  constructor(private readonly options: TaskLogConsumerOptions) {}

  start(): void {
    this.options.connection.use((model) => this.openChannel(model));
  }

  get isReady(): boolean {
    return this.consumerTag !== undefined;
  }

  /** Stops consuming and writes what is already buffered. */
  async stop(): Promise<void> {
    this.stopped = true;
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    this.consumerTag = undefined;
    await this.flush();
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private async openChannel(model: ChannelModel): Promise<Channel | undefined> {
    if (this.stopped) return undefined;
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'task log channel error'));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.consumerTag = undefined;
      // Unacked messages of this channel go back to the queue; forget our copies.
      this.takeBatch(Number.POSITIVE_INFINITY);
      this.clearTimer();
    });
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    await assertQueueWithDeadLetter(channel, this.options.queue);
    await channel.bindQueue(this.options.queue, this.options.exchange, '#');
    // Messages carry up to a few hundred events each; this bounds what waits in memory.
    await channel.prefetch(Math.min(this.options.batchSize, 100));
    this.channel = channel;
    const { consumerTag } = await channel.consume(this.options.queue, (message) => message && this.onMessage(channel, message));
    this.consumerTag = consumerTag;
    this.options.logger.info({ queue: this.options.queue, exchange: this.options.exchange }, 'task log consumer started');
    return channel;
  }

  private onMessage(channel: Channel, message: ConsumeMessage): void {
    let events: TaskEvent[];
    try {
      events = taskEventMessageSchema.parse(JSON.parse(message.content.toString('utf8')));
      // Postgres text cannot hold NUL; such an event would fail its batch's insert forever.
      for (const event of events) {
        const problem = findPayloadProblem(event);
        if (problem) throw new Error(`task event: ${problem}`);
      }
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error) }, 'malformed task event dead-lettered');
      try {
        channel.nack(message, false, false);
      } catch {
        // The channel is gone; the broker requeues the message.
      }
      return;
    }
    this.batch.push({ message, events, receivedAt: Date.now() });
    this.batchedEvents += events.length;
    if (this.batchedEvents >= this.options.batchSize) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** Serialised: one insert at a time, in delivery order. */
  private flush(): Promise<void> {
    const run = (this.flushing ?? Promise.resolve()).then(() => this.writeBatch());
    this.flushing = run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    return run;
  }

  /** Up to `batchSize` events' worth of messages (always at least one), oldest first. */
  private takeBatch(limit = this.options.batchSize): PendingMessage[] {
    let count = 0;
    let messages = 0;
    while (messages < this.batch.length && (messages === 0 || count + this.batch[messages]!.events.length <= limit)) {
      count += this.batch[messages]!.events.length;
      messages += 1;
    }
    this.batchedEvents -= count;
    return this.batch.splice(0, messages);
  }

  private putBack(messages: PendingMessage[]): void {
    this.batch = [...messages, ...this.batch];
    this.batchedEvents = this.batch.reduce((count, item) => count + item.events.length, 0);
    if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), 1_000);
  }

  private async writeBatch(): Promise<void> {
    this.clearTimer();
    const channel = this.channel;
    const batch = this.takeBatch();
    if (batch.length === 0 || !channel) return;
    const started = performance.now();
    try {
      const inserted = await this.options.repository.insertBatch(batch.flatMap((item) => item.events));
      this.options.metrics?.taskEventsWritten.inc(inserted);
      this.options.metrics?.taskEventBatchDuration.observe({ outcome: 'success' }, (performance.now() - started) / 1000);
      if (channel === this.channel) channel.ack(batch[batch.length - 1]!.message, true);
      for (const item of batch) traceWrites(item);
      // A backlog (after an outage) drains in batch-sized inserts, one after another.
      if (this.batchedEvents >= this.options.batchSize) void this.flush();
      else if (this.batch.length > 0 && !this.timer) this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    } catch (error) {
      this.options.metrics?.taskEventBatchDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      if (channel !== this.channel) return;
      if (!(error instanceof DependencyUnavailableError)) {
        // Postgres is up but refused the batch: one message must be at fault, so find it rather than retry forever.
        await this.writeOneByOne(channel, batch);
        return;
      }
      this.options.logger.warn({ err: errorMessage(error), messages: batch.length }, 'task_logs insert failed; retrying');
      // Keep the events (still unacked) and try again shortly; prefetch stops the broker from sending more.
      this.putBack(batch);
    }
  }

  /** Inserts each message's events alone, acking those stored and dead-lettering those Postgres refuses. */
  private async writeOneByOne(channel: Channel, batch: PendingMessage[]): Promise<void> {
    for (const [index, item] of batch.entries()) {
      try {
        this.options.metrics?.taskEventsWritten.inc(await this.options.repository.insertBatch(item.events));
        if (channel === this.channel) channel.ack(item.message);
        traceWrites(item);
      } catch (error) {
        if (channel !== this.channel) return;
        if (error instanceof DependencyUnavailableError) {
          // Postgres went away mid-way: keep the rest unacked and retry them like any failed batch.
          this.putBack(batch.slice(index));
          return;
        }
        this.options.logger.error({ err: errorMessage(error), event_ids: item.events.map((event) => event.event_id) }, 'task_logs refused a message; dead-lettered');
        channel.nack(item.message, false, false);
      }
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
