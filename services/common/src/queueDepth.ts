import type { Channel, ChannelModel } from 'amqplib';
import type { Queue } from 'bullmq';
import type { AmqpConnection } from './amqp/connection.js';
import type { Metrics } from './metrics.js';

const BULLMQ_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

/**
 * Keeps `flowgate_queue_depth` current from the brokers themselves. Every
 * replica reports the same broker-wide numbers, so dashboards and autoscalers
 * aggregate with max(), never sum(). Returns a function that stops the polling.
 */
export function trackBullmqDepth(queue: Queue, metrics: Pick<Metrics, 'queueDepth'>, intervalMs = 5_000): () => void {
  const refresh = async () => {
    try {
      const counts = await queue.getJobCounts(...BULLMQ_STATES);
      for (const state of BULLMQ_STATES) {
        metrics.queueDepth.set({ queue: queue.name, broker: 'bullmq', state }, counts[state] ?? 0);
      }
    } catch {
      // Redis is away; keep the last values rather than report a misleading zero.
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function trackRabbitDepth(
  connection: AmqpConnection,
  queues: string[],
  metrics: Pick<Metrics, 'queueDepth'>,
  intervalMs = 5_000,
): () => void {
  let channel: Channel | undefined;
  let stopped = false;
  // checkQueue on a queue not declared yet closes the channel; the connection reopens it.
  connection.use(async (model: ChannelModel) => {
    if (stopped) return undefined;
    const opened = await model.createChannel();
    opened.on('error', () => undefined);
    opened.on('close', () => {
      if (channel === opened) channel = undefined;
    });
    channel = opened;
    return opened;
  });
  const refresh = async () => {
    for (const queue of queues) {
      if (!channel) return;
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        metrics.queueDepth.set({ queue, broker: 'rabbitmq', state: 'ready' }, messageCount);
        metrics.queueDepth.set({ queue, broker: 'rabbitmq', state: 'consumers' }, consumerCount);
      } catch {
        // Broker away or queue missing: the next refresh tries again.
      }
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    void channel?.close().catch(() => undefined);
  };
}
