import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel } from 'amqplib';
import type { TaskEvent, TaskEventKind } from '../contracts.js';
import type { Logger } from '../logging.js';
import type { Metrics } from '../metrics.js';
import type { AmqpConnection } from './connection.js';

export interface TaskEventPublisherOptions {
  connection: AmqpConnection;
  exchange: string;
  service: string;
  logger: Logger;
  /** Events kept in memory while RabbitMQ is away; the oldest are dropped past this. */
  bufferLimit?: number;
  metrics?: Pick<Metrics, 'taskEventsPublished'>;
  /** Adds headers (trace context) to every event message. */
  headers?: () => Record<string, string>;
}

export interface TaskEventInput {
  correlation_id: string;
  task_id: string;
  queue_name: string;
  event: TaskEventKind;
  description: string;
}

/**
 * Publishes task events to the `task_events` topic exchange with routing key
 * `<service>.<event>`. Emitting never blocks or fails the caller: while RabbitMQ
 * is unreachable events wait in a bounded buffer and go out on reconnect.
 */
export class TaskEventPublisher {
  private channel: Channel | undefined;
  private readonly buffer: Array<{ event: TaskEvent; headers: Record<string, string> }> = [];
  private readonly bufferLimit: number;
  private readonly setup = (model: ChannelModel) => this.openChannel(model);

  constructor(private readonly options: TaskEventPublisherOptions) {
    this.bufferLimit = options.bufferLimit ?? 10_000;
    options.connection.use(this.setup);
  }

  emit(input: TaskEventInput): void {
    const event: TaskEvent = {
      event_id: randomUUID(),
      service_name: this.options.service,
      created_at: new Date().toISOString(),
      ...input,
    };
    const headers = this.options.headers?.() ?? {};
    if (this.channel && this.buffer.length === 0 && this.publish(this.channel, event, headers)) return;
    this.enqueue(event, headers);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private enqueue(event: TaskEvent, headers: Record<string, string>): void {
    if (this.buffer.length >= this.bufferLimit) {
      this.buffer.shift();
      this.options.metrics?.taskEventsPublished.inc({ outcome: 'dropped' });
    }
    this.buffer.push({ event, headers });
    this.options.metrics?.taskEventsPublished.inc({ outcome: 'buffered' });
  }

  private publish(channel: Channel, event: TaskEvent, headers: Record<string, string>): boolean {
    try {
      channel.publish(this.options.exchange, `${event.service_name}.${event.event}`, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: 'application/json',
        messageId: event.event_id,
        headers,
      });
      this.options.metrics?.taskEventsPublished.inc({ outcome: 'published' });
      return true;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'task event publish failed; buffering');
      return false;
    }
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'task event channel error'));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      if (this.options.connection.isConnected) this.options.connection.retry(this.setup);
    });
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    this.channel = channel;
    while (this.buffer.length > 0 && this.channel === channel) {
      const next = this.buffer[0]!;
      if (!this.publish(channel, next.event, next.headers)) break;
      this.buffer.shift();
    }
  }
}
