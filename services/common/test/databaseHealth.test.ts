import assert from 'node:assert/strict';
import { createDatabase } from '../src/db/database.js';
import { createDatabaseHealth } from '../src/db/databaseHealth.js';
import { DATABASE_URL } from '../../../test/support/testEnv.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';
import { silentLogger } from './support/amqp.js';

describe('database health for readiness probes', () => {
  it('takes a recent successful query as the answer instead of queueing another in the pool', async () => {
    const db = createDatabase({ url: DATABASE_URL, poolMax: 2 });
    try {
      const reachable = createDatabaseHealth(db, { freshForMs: 60_000 });
      let queries = 0;
      db.on('query', () => (queries += 1));
      assert.equal(await reachable(), true, 'no query yet: it asks');
      assert.equal(queries, 1);
      await db.raw('select 2');
      assert.equal(await reachable(), true);
      assert.equal(await reachable(), true);
      assert.equal(queries, 2, 'both answers came from the recent queries');
    } finally {
      await db.destroy();
    }
  });

  it('asks again once a query has failed to reach the database, and says so while it is away', async () => {
    const target = new URL(DATABASE_URL);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const db = createDatabase({ url: proxy.rewrite(DATABASE_URL), poolMax: 2, connectTimeoutMs: 300, logger: silentLogger });
    try {
      const reachable = createDatabaseHealth(db, { freshForMs: 60_000 });
      assert.equal(await reachable(), true);
      proxy.cut();
      await assert.rejects(db.raw('select 1'));
      assert.equal(await reachable(), false, 'the failure is newer than the last success');
      proxy.restore();
      assert.equal(await reachable(), true, 'back once a query gets through');
    } finally {
      await db.destroy();
      await proxy.close();
    }
  });
});
