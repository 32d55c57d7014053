import { newId } from '../ids.js';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { DependencyUnavailableError, RpcTimeoutError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Metrics } from '../metrics.js';
import { assertQueueWithDeadLetter, type AmqpConnection } from './connection.js';

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

interface PendingCall {
  resolve: (reply: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface RpcCallOptions {
  timeoutMs: number;
  /**
   * The AMQP correlation id; a fresh UUID when absent. Must be unique per call
   * (never a task id reused across retries), or a late reply to an earlier
   * attempt could be taken for this one's.
   */
  correlationId?: string;
  /** Metric label; the operation requested. */
  operation?: string;
}

export interface RpcClientOptions {
  connection: AmqpConnection;
  /** Queues the client declares (with their dead-letter queues) so requests wait for a server. */
  queues: string[];
  logger: Logger;
  metrics?: Pick<Metrics, 'rpcClientDuration' | 'rpcTimeouts'>;
}

/**
 * RPC over RabbitMQ with direct reply-to: one channel and one reply consumer
 * for the whole process, replies matched to calls by correlation id. Every
 * request carries `expiration` equal to its timeout, so a request nobody took
 * in time is dropped by the broker instead of processed for a caller who left.
 */
export class RpcClient {
  private channel: Channel | undefined;
  private readonly pending = new Map<string, PendingCall>();
  private closed = false;

  constructor(private readonly options: RpcClientOptions) {
    options.connection.use((model) => this.openChannel(model));
  }

  get isReady(): boolean {
    return this.channel !== undefined;
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  async call(queue: string, request: unknown, callOptions: RpcCallOptions): Promise<unknown> {
    const started = performance.now();
    const operation = callOptions.operation ?? 'unknown';
    const observe = (outcome: string) =>
      this.options.metrics?.rpcClientDuration.observe({ queue, operation, outcome }, (performance.now() - started) / 1000);

    const channel = this.channel;
    if (!channel) {
      observe('unavailable');
      throw new DependencyUnavailableError('rabbitmq', 'RabbitMQ is not reachable');
    }
    const correlationId = callOptions.correlationId ?? newId();
    const body = Buffer.from(JSON.stringify(request));

    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(correlationId)) {
          this.options.metrics?.rpcTimeouts.inc({ queue, operation });
          reject(new RpcTimeoutError(queue, callOptions.timeoutMs));
        }
      }, callOptions.timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
    });

    try {
      channel.publish('', queue, body, {
        correlationId,
        replyTo: DIRECT_REPLY_TO,
        expiration: String(callOptions.timeoutMs),
        contentType: 'application/json',
      });
    } catch (error) {
      this.settle(correlationId)?.reject(
        new DependencyUnavailableError('rabbitmq', 'could not publish to RabbitMQ', { cause: error }),
      );
    }

    try {
      const result = await reply;
      observe('success');
      return result;
    } catch (error) {
      observe(error instanceof RpcTimeoutError ? 'timeout' : 'unavailable');
      throw error;
    }
  }

  /** Rejects every pending call; used at shutdown. */
  close(): void {
    this.closed = true;
    this.failAll(new DependencyUnavailableError('rabbitmq', 'RPC client closed'));
    const channel = this.channel;
    this.channel = undefined;
    channel?.close().catch(() => undefined);
  }

  private async openChannel(model: ChannelModel): Promise<Channel | undefined> {
    // The connection re-runs setups on every reconnect; a closed client must stay closed.
    if (this.closed) return undefined;
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.options.logger.warn({ err: error }, 'rpc client channel error'));
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.failAll(new DependencyUnavailableError('rabbitmq', 'RabbitMQ channel closed before the reply arrived'));
    });
    for (const queue of this.options.queues) await assertQueueWithDeadLetter(channel, queue);
    await channel.consume(DIRECT_REPLY_TO, (message) => this.onReply(message), { noAck: true });
    this.channel = channel;
    return channel;
  }

  private onReply(message: ConsumeMessage | null): void {
    if (!message) return;
    const correlationId = message.properties.correlationId as string | undefined;
    // A reply for a call that already timed out: its caller has moved on, so it is dropped.
    const call = correlationId ? this.settle(correlationId) : undefined;
    if (!call) return;
    try {
      call.resolve(JSON.parse(message.content.toString('utf8')));
    } catch (error) {
      call.reject(new Error('RPC reply is not valid JSON', { cause: error }));
    }
  }

  private settle(correlationId: string): PendingCall | undefined {
    const call = this.pending.get(correlationId);
    if (!call) return undefined;
    this.pending.delete(correlationId);
    clearTimeout(call.timer);
    return call;
  }

  private failAll(error: Error): void {
    for (const [correlationId, call] of this.pending) {
      this.pending.delete(correlationId);
      clearTimeout(call.timer);
      call.reject(error);
    }
  }
}
