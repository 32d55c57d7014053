import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
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

interface PendingEvent {
  event: TaskEvent;
  headers: Record<string, string>;
}

/**
 * Publishes task events to the `task_events` topic exchange with routing key
 * `<service>.<event>`. Emitting never blocks or fails the caller: while RabbitMQ
 * is unreachable events wait in a bounded buffer and go out on reconnect. The
 * channel is in confirm mode and an event leaves memory only when the broker
 * confirms it, so a broker crash mid-publish re-sends rather than loses it (the
 * logger drops the duplicates by event id).
 */
export class TaskEventPublisher {
  private channel: ConfirmChannel | undefined;
  private readonly buffer: PendingEvent[] = [];
  private inFlight = 0;
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
    const pending = { event, headers: this.options.headers?.() ?? {} };
    if (this.channel && this.buffer.length === 0 && this.publish(this.channel, pending)) return;
    this.enqueue(pending);
  }

  /** Events waiting for a channel. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Events sent but not yet confirmed by the broker. */
  get unconfirmed(): number {
    return this.inFlight;
  }

  /** Waits for the broker to confirm what was sent, then closes; used at shutdown. */
  async close(): Promise<void> {
    const channel = this.channel;
    await channel?.waitForConfirms().catch(() => undefined);
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private enqueue(pending: PendingEvent): void {
    if (this.buffer.length >= this.bufferLimit) {
      this.buffer.shift();
      this.options.metrics?.taskEventsPublished.inc({ outcome: 'dropped' });
    }
    this.buffer.push(pending);
    this.options.metrics?.taskEventsPublished.inc({ outcome: 'buffered' });
  }

  private publish(channel: ConfirmChannel, pending: PendingEvent): boolean {
    const { event, headers } = pending;
    try {
      channel.publish(
        this.options.exchange,
        `${event.service_name}.${event.event}`,
        Buffer.from(JSON.stringify(event)),
        { persistent: true, contentType: 'application/json', messageId: event.event_id, headers },
        (error) => {
          this.inFlight -= 1;
          if (!error) {
            this.options.metrics?.taskEventsPublished.inc({ outcome: 'published' });
            return;
          }
          // Nacked, or the channel closed before the broker confirmed: send it again later.
          this.enqueue(pending);
          if (this.channel) this.flush(this.channel);
        },
      );
      this.inFlight += 1;
      return true;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'task event publish failed; buffering');
      return false;
    }
  }

  private flush(channel: ConfirmChannel): void {
    while (this.buffer.length > 0 && this.channel === channel) {
      if (!this.publish(channel, this.buffer[0]!)) break;
      this.buffer.shift();
    }
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'task event channel error'));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      if (this.options.connection.isConnected) this.options.connection.retry(this.setup);
    });
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    this.channel = channel;
    this.flush(channel);
  }
}
