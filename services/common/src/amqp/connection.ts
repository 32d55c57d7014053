import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { connect, type Channel, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from '../logging.js';
import { coalesceWrites } from './coalesceWrites.js';

export interface AmqpConnectionOptions {
  url: string;
  /** Shown in RabbitMQ's management UI as the connection name. */
  connectionName: string;
  logger: Logger;
  /** Upper bound of the reconnect back-off. */
  maxReconnectDelayMs?: number;
}

/** Opens a component's channel (and its consumers); undefined when the component no longer wants one. */
type ChannelUser = (model: ChannelModel) => Promise<Channel | undefined>;

/**
 * One AMQP connection that reconnects forever with jittered back-off. Components
 * register a setup callback that (re)creates their channel and consumers on every
 * connect; while disconnected they fail fast instead of waiting.
 */
export class AmqpConnection extends EventEmitter<{ connect: [ChannelModel]; disconnect: [Error] }> {
  private model: ChannelModel | undefined;
  private readonly users: ChannelUser[] = [];

  private constructor(
    private readonly recovering: RecoveringChannelModel,
    private readonly logger: Logger,
  ) {
    super();
    recovering.on('connect', (model: ChannelModel) => {
      this.model = model;
      const socket = socketOf(model);
      if (socket) coalesceWrites(socket);
      else logger.warn('amqplib no longer exposes its socket as connection.stream; AMQP writes are not coalesced');
      logger.info('rabbitmq connected');
      for (const user of this.users) this.runUser(user, model);
      this.emit('connect', model);
    });
    recovering.on('disconnect', (error: Error) => {
      this.model = undefined;
      logger.warn({ err: error }, 'rabbitmq connection lost; reconnecting');
      this.emit('disconnect', error);
    });
    recovering.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
      logger.debug({ attempt: info.attempt, delay_ms: info.delay, err: info.error.message }, 'rabbitmq reconnect scheduled');
    });
    recovering.on('error', (error: Error) => logger.warn({ err: error }, 'rabbitmq connection error'));
  }

  static async open(options: AmqpConnectionOptions): Promise<AmqpConnection> {
    const recovering = await connect(options.url, {
      // amqplib leaves Nagle on; with it every RPC round trip waits for the peer's delayed ACK (~40 ms).
      noDelay: true,
      clientProperties: { connection_name: options.connectionName },
      recovery: { initialDelay: 200, maxDelay: options.maxReconnectDelayMs ?? 5_000, waitForConnect: false },
    });
    return new AmqpConnection(recovering, options.logger);
  }

  get isConnected(): boolean {
    return this.model !== undefined;
  }

  /**
   * Runs `setup` now if connected and again after every reconnect. `setup`
   * opens its own channel and returns it: if that channel alone closes (a
   * channel error, the connection still up) it is opened again a second later;
   * if the connection closed, the next connect does it. A failed setup is
   * retried after two seconds.
   */
  use(setup: ChannelUser): void {
    this.users.push(setup);
    if (this.model) this.runUser(setup, this.model);
  }

  private retry(setup: ChannelUser, delayMs: number): void {
    setTimeout(() => {
      if (this.model) this.runUser(setup, this.model);
    }, delayMs).unref();
  }

  /** Waits until connected, or rejects after `timeoutMs`. */
  async waitUntilConnected(timeoutMs: number): Promise<void> {
    if (this.model) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connect', onConnect);
        reject(new Error(`RabbitMQ not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connect', onConnect);
    });
  }

  async close(): Promise<void> {
    await this.recovering.close().catch(() => undefined);
    this.model = undefined;
  }

  private runUser(setup: ChannelUser, model: ChannelModel): void {
    setup(model).then(
      (channel) =>
        channel?.once('close', () => {
          // Same connection still up: only this channel died. A new connection re-runs every setup itself.
          if (this.model === model) this.retry(setup, 1_000);
        }),
      (error: unknown) => {
        this.logger.error({ err: error }, 'rabbitmq channel setup failed');
        this.retry(setup, 2_000);
      },
    );
  }
}

/** amqplib does not publish the socket it writes frames to; `connection.stream` has held it since 0.x. */
function socketOf(model: ChannelModel): Writable | undefined {
  const stream = (model.connection as unknown as { stream?: Writable }).stream;
  return typeof stream?.cork === 'function' ? stream : undefined;
}

/**
 * Declares `queue` durable with a dead-letter queue `<queue>.dlq`, so messages
 * that cannot be handled are parked for inspection instead of redelivered forever.
 */
export async function assertQueueWithDeadLetter(channel: Channel, queue: string): Promise<void> {
  const deadLetterQueue = `${queue}.dlq`;
  await channel.assertQueue(deadLetterQueue, { durable: true });
  await channel.assertQueue(queue, {
    durable: true,
    arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': deadLetterQueue },
  });
}
