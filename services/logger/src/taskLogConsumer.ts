import {
  assertQueueWithDeadLetter,
  DependencyUnavailableError,
  errorMessage,
  findPayloadProblem,
  taskEventSchema,
  type AmqpConnection,
  type Logger,
  type Metrics,
  type TaskEvent,
  type TaskLogsRepository,
} from '@flowgate/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';

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
  private batch: Array<{ message: ConsumeMessage; event: TaskEvent }> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private consumerTag: string | undefined;
  private readonly setup = (model: ChannelModel) => this.openChannel(model);

  constructor(private readonly options: TaskLogConsumerOptions) {}

  start(): void {
    this.options.connection.use(this.setup);
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

  private async openChannel(model: ChannelModel): Promise<void> {
    if (this.stopped) return;
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'task log channel error'));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.consumerTag = undefined;
      // Unacked messages of this channel go back to the queue; forget our copies.
      this.batch = [];
      this.clearTimer();
      if (!this.stopped && this.options.connection.isConnected) this.options.connection.retry(this.setup);
    });
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    await assertQueueWithDeadLetter(channel, this.options.queue);
    await channel.bindQueue(this.options.queue, this.options.exchange, '#');
    await channel.prefetch(this.options.batchSize * 2);
    this.channel = channel;
    const { consumerTag } = await channel.consume(this.options.queue, (message) => message && this.onMessage(channel, message));
    this.consumerTag = consumerTag;
    this.options.logger.info({ queue: this.options.queue, exchange: this.options.exchange }, 'task log consumer started');
  }

  private onMessage(channel: Channel, message: ConsumeMessage): void {
    let event: TaskEvent;
    try {
      event = taskEventSchema.parse(JSON.parse(message.content.toString('utf8')));
      // Postgres text cannot hold NUL; such an event would fail its batch's insert forever.
      const problem = findPayloadProblem(event);
      if (problem) throw new Error(`task event: ${problem}`);
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error) }, 'malformed task event dead-lettered');
      try {
        channel.nack(message, false, false);
      } catch {
        // The channel is gone; the broker requeues the message.
      }
      return;
    }
    this.batch.push({ message, event });
    if (this.batch.length >= this.options.batchSize) void this.flush();
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

  private async writeBatch(): Promise<void> {
    this.clearTimer();
    const channel = this.channel;
    const batch = this.batch.splice(0, this.batch.length);
    if (batch.length === 0 || !channel) return;
    const started = performance.now();
    try {
      const inserted = await this.options.repository.insertBatch(batch.map((item) => item.event));
      this.options.metrics?.taskEventsWritten.inc(inserted);
      this.options.metrics?.taskEventBatchDuration.observe({ outcome: 'success' }, (performance.now() - started) / 1000);
      if (channel === this.channel) channel.ack(batch[batch.length - 1]!.message, true);
    } catch (error) {
      this.options.metrics?.taskEventBatchDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      if (channel !== this.channel) return;
      if (!(error instanceof DependencyUnavailableError)) {
        // Postgres is up but refused the batch: one event must be at fault, so find it rather than retry forever.
        await this.writeOneByOne(channel, batch);
        return;
      }
      this.options.logger.warn({ err: errorMessage(error), events: batch.length }, 'task_logs insert failed; retrying');
      // Keep the events (still unacked) and try again shortly; prefetch stops the broker from sending more.
      this.batch = [...batch, ...this.batch];
      if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), 1_000);
    }
  }

  /** Inserts each event alone, acking those stored and dead-lettering those Postgres refuses. */
  private async writeOneByOne(channel: Channel, batch: Array<{ message: ConsumeMessage; event: TaskEvent }>): Promise<void> {
    for (const [index, item] of batch.entries()) {
      try {
        this.options.metrics?.taskEventsWritten.inc(await this.options.repository.insertBatch([item.event]));
        if (channel === this.channel) channel.ack(item.message);
      } catch (error) {
        if (channel !== this.channel) return;
        if (error instanceof DependencyUnavailableError) {
          // Postgres went away mid-way: keep the rest unacked and retry them like any failed batch.
          this.batch = [...batch.slice(index), ...this.batch];
          if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), 1_000);
          return;
        }
        this.options.logger.error({ err: errorMessage(error), event_id: item.event.event_id }, 'task_logs refused an event; dead-lettered');
        channel.nack(item.message, false, false);
      }
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
