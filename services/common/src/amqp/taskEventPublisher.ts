import { newId } from '../ids.js';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { TaskEvent, TaskEventKind } from '../contracts.js';
import type { Logger } from '../logging.js';
import type { Metrics } from '../metrics.js';
import { injectTraceContext } from '../tracing/traceContext.js';
import type { AmqpConnection } from './connection.js';

export interface TaskEventPublisherOptions {
  connection: AmqpConnection;
  exchange: string;
  service: string;
  logger: Logger;
  /** Events kept in memory while RabbitMQ is away; the oldest are dropped past this. */
  bufferLimit?: number;
  /** How long events gather before they go out as one message. */
  batchWindowMs?: number;
  /** Most events in one message. */
  maxBatch?: number;
  metrics?: Pick<Metrics, 'taskEventsPublished'>;
}

/** How long returned events wait before going out again (their queue is being declared, or the broker is stopping). */
const RETURN_RETRY_MS = 1_000;

export interface TaskEventInput {
  correlation_id: string;
  task_id: string;
  queue_name: string;
  event: TaskEventKind;
  description: string;
}

/**
 * Publishes task events to the `task_events` topic exchange, many to a message:
 * events emitted within `batchWindowMs` travel as one JSON array with routing key
 * `<service>.events`, which cuts the broker's work per request several-fold. Each
 * event carries the trace context it was emitted in, so the logger can place its
 * write in the right trace.
 *
 * Emitting never blocks or fails the caller: while RabbitMQ is unreachable
 * events wait in a bounded buffer and go out on reconnect. The channel is in
 * confirm mode and events leave memory only when the broker confirms their
 * message, so a broker crash mid-publish re-sends rather than loses them (the
 * logger drops duplicates by event id).
 */
export class TaskEventPublisher {
  private channel: ConfirmChannel | undefined;
  private readonly buffer: TaskEvent[] = [];
  private inFlight = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** emitConfirmed callers, by event id. */
  private readonly waiters = new Map<string, () => void>();
  private readonly bufferLimit: number;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;

  constructor(private readonly options: TaskEventPublisherOptions) {
    this.bufferLimit = options.bufferLimit ?? 10_000;
    this.batchWindowMs = options.batchWindowMs ?? 20;
    this.maxBatch = options.maxBatch ?? 200;
    options.connection.use((model) => this.openChannel(model));
  }

  emit(input: TaskEventInput): void {
    this.emitEvent(input);
  }

  /**
   * Emits, then waits until the broker has confirmed the event, or `timeoutMs`
   * has passed (an outage must not hold the caller; the event still goes out
   * later). For the last event of a unit of work that is about to be marked
   * done elsewhere, so a crash right after cannot lose it.
   */
  async emitConfirmed(input: TaskEventInput, timeoutMs: number): Promise<void> {
    const eventId = this.emitEvent(input);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(eventId);
        resolve();
      }, timeoutMs);
      this.waiters.set(eventId, () => {
        this.waiters.delete(eventId);
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private emitEvent(input: TaskEventInput): string {
    const trace = injectTraceContext();
    const eventId = newId();
    this.enqueue({
      event_id: eventId,
      service_name: this.options.service,
      created_at: new Date().toISOString(),
      ...input,
      ...(Object.keys(trace).length > 0 ? { trace } : {}),
    });
    if (this.buffer.length >= this.maxBatch) this.flushSoon(0);
    else this.flushSoon(this.batchWindowMs);
    return eventId;
  }

  /** Events not yet handed to the broker. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Events sent but not yet confirmed by the broker. */
  get unconfirmed(): number {
    return this.inFlight;
  }

  /** Sends what is buffered, waits for the broker to confirm it, then closes; used at shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    const channel = this.channel;
    if (channel) this.flush(channel);
    await channel?.waitForConfirms().catch(() => undefined);
    this.channel = undefined;
    clearTimeout(this.timer);
    await channel?.close().catch(() => undefined);
  }

  private enqueue(event: TaskEvent): void {
    if (this.buffer.length >= this.bufferLimit) {
      this.buffer.shift();
      this.options.metrics?.taskEventsPublished.inc({ outcome: 'dropped' });
    }
    this.buffer.push(event);
  }

  private flushSoon(delayMs: number): void {
    if (!this.channel) return;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.channel) this.flush(this.channel);
    }, delayMs);
  }

  private flush(channel: ConfirmChannel): void {
    while (this.buffer.length > 0 && this.channel === channel) {
      const batch = this.buffer.splice(0, this.maxBatch);
      if (!this.publish(channel, batch)) {
        this.buffer.unshift(...batch);
        return;
      }
    }
  }

  private publish(channel: ConfirmChannel, batch: TaskEvent[]): boolean {
    try {
      channel.publish(
        this.options.exchange,
        `${this.options.service}.events`,
        Buffer.from(JSON.stringify(batch)),
        // mandatory: a message no queue takes (the logger's queue not declared yet, or a queue
        // stopping with the broker) comes back to us instead of being confirmed and dropped.
        { persistent: true, mandatory: true, contentType: 'application/json', messageId: batch[0]!.event_id },
        (error) => {
          this.inFlight -= batch.length;
          if (!error) {
            this.options.metrics?.taskEventsPublished.inc({ outcome: 'published' }, batch.length);
            if (this.waiters.size > 0) for (const event of batch) this.waiters.get(event.event_id)?.();
            return;
          }
          // Nacked, or the channel closed before the broker confirmed: send them again later.
          for (const event of batch) this.enqueue(event);
          this.flushSoon(this.batchWindowMs);
        },
      );
      this.inFlight += batch.length;
      return true;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'task event publish failed; buffering');
      return false;
    }
  }

  /** The broker confirms a returned message too, so its events are re-sent from here, after a pause. */
  private onReturned(content: Buffer): void {
    const events = JSON.parse(content.toString('utf8')) as TaskEvent[];
    this.options.logger.debug({ events: events.length }, 'task events not routed to any queue; re-sending');
    this.options.metrics?.taskEventsPublished.inc({ outcome: 'returned' }, events.length);
    setTimeout(() => {
      for (const event of events) this.enqueue(event);
      this.flushSoon(this.batchWindowMs);
    }, RETURN_RETRY_MS).unref();
  }

  private async openChannel(model: ChannelModel): Promise<ConfirmChannel | undefined> {
    // The connection re-runs setups on every reconnect; a closed publisher stays closed.
    if (this.closed) return undefined;
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'task event channel error'));
    channel.on('return', (message: { content: Buffer }) => this.onReturned(message.content));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
    });
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    this.channel = channel;
    this.flush(channel);
    return channel;
  }
}
