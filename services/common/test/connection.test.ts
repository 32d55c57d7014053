import assert from 'node:assert/strict';
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
