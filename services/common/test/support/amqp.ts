import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { AmqpConnection } from '../../src/amqp/connection.js';
import { createLogger } from '../../src/logging.js';
import { RABBITMQ_URL } from '../../../../test/support/testEnv.js';
import { TcpProxy } from '../../../../test/support/tcpProxy.js';

export { sleep };

export const silentLogger = createLogger({ service: 'common-test', level: 'silent' });

/** An AmqpConnection to the real broker, connected, reconnecting quickly after a fault. */
export async function openConnection(url = RABBITMQ_URL): Promise<AmqpConnection> {
  const connection = await AmqpConnection.open({ url, connectionName: 'flowgate-common-test', logger: silentLogger, maxReconnectDelayMs: 300 });
  await connection.waitUntilConnected(5_000);
  return connection;
}

/** A proxy in front of the real RabbitMQ, so a test can cut and restore the network. */
export async function rabbitProxy(): Promise<TcpProxy> {
  const target = new URL(RABBITMQ_URL);
  return TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) });
}

/** A plain amqplib connection the tests use to look at queues from outside the code under test. */
export function openObserver(): Promise<amqp.ChannelModel> {
  return amqp.connect(RABBITMQ_URL);
}

/** Takes every message now in `queue` (acking them) and returns their bodies as text. */
export async function drain(channel: amqp.Channel, queue: string): Promise<amqp.GetMessage[]> {
  const messages: amqp.GetMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return messages;
    messages.push(message);
  }
}

/** Resolves once `predicate` holds, polling; fails with `what` after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
