import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../logging.js';
import { assertQueueWithDeadLetter, type AmqpConnection } from './connection.js';

export interface RpcRequestContext {
  correlationId: string;
  queue: string;
}

/** Returns the reply, or throws {@link MalformedRequestError} for a message that can never be handled. */
export type RpcHandler = (body: unknown, context: RpcRequestContext) => Promise<unknown>;

export class MalformedRequestError extends Error {
  override name = 'MalformedRequestError';
}

export interface RpcServerOptions {
  connection: AmqpConnection;
  queue: string;
  prefetch: number;
  handler: RpcHandler;
  logger: Logger;
  onMalformed?: () => void;
  /**
   * The reply sent to a caller whose request is malformed, when it said where to
   * reply; without it the caller would wait out its whole timeout.
   */
  malformedReply?: (detail: string) => unknown;
}

/**
 * Consumes an RPC queue: replies to `reply_to` with the request's correlation id,
 * then acks, so a crash between the two re-delivers rather than loses a request.
 * Messages that are not JSON, lack reply_to/correlation_id, or that the handler
 * calls malformed are rejected without requeue and land in `<queue>.dlq`.
 */
export class RpcServer {
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: RpcServerOptions) {}

  start(): void {
    this.options.connection.use((model) => this.openChannel(model));
  }

  get isReady(): boolean {
    return this.channel !== undefined && this.consumerTag !== undefined;
  }

  /** Stops taking new requests and waits for those in progress to be answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    const channel = this.channel;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private async openChannel(model: ChannelModel): Promise<Channel | undefined> {
    if (this.stopped) return undefined;
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'rpc server channel error'));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.consumerTag = undefined;
    });
    await assertQueueWithDeadLetter(channel, this.options.queue);
    await channel.prefetch(this.options.prefetch);
    this.channel = channel;
    const { consumerTag } = await channel.consume(this.options.queue, (message) => {
      if (!message) return;
      const work = this.handle(channel, message).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    });
    this.consumerTag = consumerTag;
    this.options.logger.info({ queue: this.options.queue, prefetch: this.options.prefetch }, 'rpc server consuming');
    return channel;
  }

  private async handle(channel: Channel, message: ConsumeMessage): Promise<void> {
    const { correlationId, replyTo } = message.properties;
    let body: unknown;
    try {
      if (typeof correlationId !== 'string' || typeof replyTo !== 'string') {
        throw new MalformedRequestError('message has no reply_to or correlation_id');
      }
      body = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      this.deadLetter(channel, message, error);
      return;
    }

    let reply: unknown;
    try {
      reply = await this.options.handler(body, {
        correlationId,
        queue: this.options.queue,
      });
    } catch (error) {
      if (error instanceof MalformedRequestError) {
        this.deadLetter(channel, message, error);
        return;
      }
      // An unexpected failure of our own: requeue once, then give up to the dead-letter queue.
      this.options.logger.error({ err: error, correlation_id: correlationId }, 'rpc handler failed');
      this.safely(() => channel.nack(message, false, !message.fields.redelivered));
      return;
    }

    this.safely(() => {
      channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
        correlationId,
        contentType: 'application/json',
      });
      channel.ack(message);
    });
  }

  private deadLetter(channel: Channel, message: ConsumeMessage, reason: unknown): void {
    this.options.logger.warn({ err: reason, queue: this.options.queue }, 'malformed rpc request dead-lettered');
    this.options.onMalformed?.();
    const { correlationId, replyTo } = message.properties;
    const reply = this.options.malformedReply;
    this.safely(() => {
      if (reply && typeof correlationId === 'string' && typeof replyTo === 'string') {
        const detail = reason instanceof Error ? reason.message : String(reason);
        channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply(detail))), { correlationId, contentType: 'application/json' });
      }
      channel.nack(message, false, false);
    });
  }

  /** A channel that closed under us has already returned the message to the queue. */
  private safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'rpc server channel unusable; message will be redelivered');
    }
  }
}
