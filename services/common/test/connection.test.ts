import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { Channel, ChannelModel } from 'amqplib';
import { uniqueName } from '../../../test/support/testEnv.js';
import { openConnection, until } from './support/amqp.js';

describe('AmqpConnection', () => {
  it('reopens a channel that closed on its own while the connection stayed up, and stops when the owner declines', async () => {
    const connection = await openConnection();
    try {
      const opened: Channel[] = [];
      let wanted = true;
      connection.use(async (model: ChannelModel) => {
        if (!wanted) return undefined;
        const channel = await model.createChannel();
        channel.on('error', () => undefined);
        opened.push(channel);
        return channel;
      });
      await until(() => opened.length === 1, 'first channel');

      // A channel-level error (checking a queue that does not exist) closes only that channel.
      await opened[0]!.checkQueue(uniqueName('missing')).catch(() => undefined);
      await until(() => opened.length === 2, 'channel reopened');
      assert.ok(connection.isConnected, 'the connection itself stayed up');

      wanted = false;
      await opened[1]!.checkQueue(uniqueName('missing')).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(opened.length, 2, 'an owner that returns undefined gets no new channel');
    } finally {
      await connection.close();
    }
  });
});

describe('AmqpConnection socket writes', () => {
  it('sends what one turn publishes in one socket write, and every message arrives', async () => {
    const connection = await openConnection();
    try {
      const queue = uniqueName('coalesce');
      let channel: Channel | undefined;
      connection.use(async (model: ChannelModel) => {
        channel = await model.createChannel();
        await channel.assertQueue(queue, { exclusive: true });
        return channel;
      });
      await until(() => channel !== undefined, 'channel open');
      const socket = (channel!.connection as unknown as { stream: Socket }).stream;
      const writes = { write: 0, writev: 0 };
      const countWrites = (name: 'write' | 'writev') => {
        const key = `_${name}` as const;
        const original = (socket[key] as (...args: unknown[]) => void).bind(socket);
        socket[key] = ((...args: unknown[]) => {
          writes[name] += 1;
          original(...args);
        }) as never;
      };
      countWrites('write');
      countWrites('writev');

      for (let index = 0; index < 50; index++) channel!.sendToQueue(queue, Buffer.from(String(index)));
      // amqplib's Mux writes on the next turn; the socket is uncorked on the tick after that.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      const socketWrites = writes.write + writes.writev;
      await until(async () => (await channel!.checkQueue(queue)).messageCount === 50, 'all 50 messages queued');
      // Without coalescing, the Mux writes each publish on its own: 50 writes.
      assert.equal(socketWrites, 1, `50 publishes took ${writes.write} writes and ${writes.writev} writevs`);
    } finally {
      await connection.close();
    }
  });
});
