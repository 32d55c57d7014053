import assert from 'node:assert/strict';
import { eventually, request } from '../support/http.js';
import { stopTestSystem, type TestSystem } from '../support/system.js';
import { assertAnswersWereClear, checkBooks, closeBooks } from './support/books.js';
import { startFaultSystem } from './support/faultSystem.js';
import { LoadDriver, type Sent } from './support/loadDriver.js';
import { servers, sleep } from './support/servers.js';

const seed = { payload: 'hello world', description: 'uppercase' };

/** Runs sync and async load around `fault`, then checks the books and how long recovery took. */
async function underLoad(system: TestSystem, fault: () => Promise<void>): Promise<{ sent: Sent[]; recoveryMs: number }> {
  const api = `${system.urls.api}/api/v1`;
  const drivers = [new LoadDriver(api, { mode: 'sync', concurrency: 4 }), new LoadDriver(api, { mode: 'async', concurrency: 4 })];
  await sleep(1_500);
  await fault();
  const restored = Date.now();
  const recoveryMs = await eventually(async () => {
    const [sync, async] = await Promise.all([
      request(`${api}/data/process`, { json: seed }),
      request(`${api}/data/process-async`, { json: seed }),
    ]);
    return sync.status === 200 && async.status === 202 ? Date.now() - restored : undefined;
  }, 60_000, 200);
  await sleep(1_500);
  const sent = (await Promise.all(drivers.map((driver) => driver.stop()))).flat();
  return { sent, recoveryMs };
}

describe('faults: RabbitMQ, Redis and PostgreSQL outages under load', () => {
  let system: TestSystem;

  beforeEach(async function () {
    this.timeout(60_000);
    system = await startFaultSystem(`fault-${this.currentTest?.title.slice(0, 20).replace(/\W+/g, '-')}`);
  });
  afterEach(async () => {
    if (system) await stopTestSystem(system);
  });
  after(closeBooks);

  it('RabbitMQ stopped and started: sync gets fast 503s, async waits, everything heals without a restart', async () => {
    const { sent, recoveryMs } = await underLoad(system, async () => {
      await servers.stopRabbit();
      try {
        await sleep(4_000);
      } finally {
        await servers.startRabbit();
      }
    });
    assertAnswersWereClear(sent);
    const refused = sent.filter((item) => item.mode === 'sync' && item.status === 503);
    assert.ok(refused.length > 0, 'sync requests during the outage were refused');
    for (const item of refused) assert.ok(item.ms < 3_000, `a 503 came after ${Math.round(item.ms)} ms`);
    assert.ok(recoveryMs < 30_000, `recovered in ${recoveryMs} ms`);
    const { accepted, settledMs } = await checkBooks(system, sent);
    assert.ok(accepted > 20);
    console.log(`      RabbitMQ: ${sent.length} requests, ${accepted} accepted, recovery ${recoveryMs} ms, settled ${settledMs} ms`);
  });

  it('Redis restarted (losing every job): accepted tasks are re-enqueued and all end Success', async () => {
    const worker = system.children.get('worker')!;
    const { sent, recoveryMs } = await underLoad(system, async () => {
      // Hold the worker so accepted jobs pile up in Redis, then lose them all with the restart.
      worker.kill('SIGSTOP');
      try {
        await sleep(2_000);
        await servers.restartRedis();
      } finally {
        worker.kill('SIGCONT');
      }
    });
    assertAnswersWereClear(sent);
    assert.ok(recoveryMs < 30_000, `recovered in ${recoveryMs} ms`);
    const { accepted, settledMs } = await checkBooks(system, sent);
    console.log(`      Redis: ${sent.length} requests, ${accepted} accepted, recovery ${recoveryMs} ms, settled ${settledMs} ms`);
  });

  it('PostgreSQL stopped and started: fast 503s, workers and the logger wait, nothing lost', async () => {
    const { sent, recoveryMs } = await underLoad(system, async () => {
      await servers.stopPostgres();
      try {
        await sleep(3_000);
      } finally {
        await servers.startPostgres();
      }
    });
    assertAnswersWereClear(sent);
    for (const item of sent.filter((candidate) => candidate.status === 503)) {
      assert.ok(item.ms < 3_000, `a 503 came after ${Math.round(item.ms)} ms`);
    }
    assert.ok(recoveryMs < 30_000, `recovered in ${recoveryMs} ms`);
    const { accepted, settledMs } = await checkBooks(system, sent);
    console.log(`      PostgreSQL: ${sent.length} requests, ${accepted} accepted, recovery ${recoveryMs} ms, settled ${settledMs} ms`);
  });
});
