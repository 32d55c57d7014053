import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { request } from '../support/http.js';
import { stopTestSystem, type TestSystem } from '../support/system.js';
import { assertAnswersWereClear, checkBooks, closeBooks, sql } from './support/books.js';
import { startFaultSystem } from './support/faultSystem.js';
import { LoadDriver } from './support/loadDriver.js';
import { sleep } from './support/servers.js';

function exited(system: TestSystem, name: 'api' | 'worker' | 'processor' | 'logger'): Promise<number | null> {
  const child = system.children.get(name)!;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('faults: services killed, stopped, paused under load', () => {
  let system: TestSystem;
  let api: string;

  beforeEach(async function () {
    this.timeout(60_000);
    system = await startFaultSystem(`fault-${this.currentTest?.title.slice(0, 20).replace(/\W+/g, '-')}`);
    api = `${system.urls.api}/api/v1`;
  });
  afterEach(async () => {
    if (system) await stopTestSystem(system);
  });
  after(closeBooks);

  it('processor killed with SIGKILL mid-load, then restarted: in-flight requests end clearly, nothing is lost', async () => {
    const drivers = [new LoadDriver(api, { mode: 'sync', concurrency: 4 }), new LoadDriver(api, { mode: 'async', concurrency: 4 })];
    await sleep(1_500);
    const processor = system.children.get('processor')!;
    processor.kill('SIGKILL');
    await exited(system, 'processor');
    await sleep(2_000);
    await system.restart('processor');
    await sleep(2_000);
    const sent = (await Promise.all(drivers.map((driver) => driver.stop()))).flat();
    assertAnswersWereClear(sent);
    // Requests caught by the kill were either redelivered by RabbitMQ to the restarted processor
    // (a slow 200) or gave up at the RPC timeout (504); either way each got one clear answer.
    const caught = sent.filter((item) => item.mode === 'sync' && (item.status === 504 || (item.status === 200 && item.ms > 1_500)));
    assert.ok(caught.length > 0, 'some sync requests were in flight when the processor died');
    await checkBooks(system, sent);
  });

  it('worker killed with SIGKILL while jobs are active: stalled jobs come back, no duplicate record', async () => {
    const driver = new LoadDriver(api, { mode: 'async', concurrency: 8, pauseMs: 0 });
    await sleep(2_000);
    system.children.get('worker')!.kill('SIGKILL');
    await exited(system, 'worker');
    await sleep(1_000);
    await system.restart('worker');
    await sleep(1_500);
    const sent = await driver.stop();
    assertAnswersWereClear(sent);
    const { accepted } = await checkBooks(system, sent);
    const [records] = await sql<{ count: string }>(
      'SELECT count(*) AS count FROM data_records WHERE task_id = ANY($1::uuid[])',
      [sent.filter((item) => item.status === 202).map((item) => item.body!.task_id)],
    );
    assert.equal(Number(records!.count), accepted, 'exactly one record per task');
  });

  it('worker sent SIGTERM during load: it finishes its active jobs, exits 0 and leaves none behind', async () => {
    const driver = new LoadDriver(api, { mode: 'async', concurrency: 8, pauseMs: 0 });
    await sleep(2_000);
    system.children.get('worker')!.kill('SIGTERM');
    assert.equal(await exited(system, 'worker'), 0, 'the worker exits cleanly');
    const queue = new Queue(system.env.JOBS_QUEUE!, { connection: { host: '127.0.0.1', port: 6379 }, prefix: system.env.BULLMQ_PREFIX! });
    try {
      const counts = await queue.getJobCounts('active');
      assert.equal(counts.active, 0, 'no job was left active (it would come back only as a stalled job)');
    } finally {
      await queue.close();
    }
    await system.restart('worker');
    const sent = await driver.stop();
    assertAnswersWereClear(sent);
    await checkBooks(system, sent);
  });

  it('logger stopped for a minute: events wait in RabbitMQ and all arrive, each exactly once', async function () {
    this.timeout(240_000);
    system.children.get('logger')!.kill('SIGTERM');
    await exited(system, 'logger');
    const drivers = [
      new LoadDriver(api, { mode: 'sync', concurrency: 2, pauseMs: 200 }),
      new LoadDriver(api, { mode: 'async', concurrency: 2, pauseMs: 200 }),
    ];
    await sleep(60_000);
    const sent = (await Promise.all(drivers.map((driver) => driver.stop()))).flat();
    const [written] = await sql<{ count: string }>('SELECT count(*) AS count FROM task_logs WHERE task_id = ANY($1::text[])', [
      sent.map((item) => item.body?.task_id).filter(Boolean),
    ]);
    assert.equal(Number(written!.count), 0, 'nothing was written while the logger was down');
    await system.restart('logger');
    assertAnswersWereClear(sent);
    await checkBooks(system, sent);
    // Without faults on the request path every task has exactly its events:
    // sync = api start/end + processor start/end; async = api start + worker start/end + processor start/end.
    const rows = await sql<{ task_id: string; count: string }>(
      'SELECT task_id, count(*) AS count FROM task_logs WHERE task_id = ANY($1::text[]) GROUP BY task_id',
      [sent.map((item) => item.body!.task_id)],
    );
    const counts = new Map(rows.map((row) => [row.task_id, Number(row.count)]));
    for (const item of sent) assert.equal(counts.get(item.body!.task_id!), item.mode === 'sync' ? 4 : 5, `events of ${item.mode} task`);
  });

  it('processor answering slower than the RPC timeout: 504 for sync, retries for async, no late reply taken for another', async () => {
    const drivers = [new LoadDriver(api, { mode: 'sync', concurrency: 4 }), new LoadDriver(api, { mode: 'async', concurrency: 4 })];
    await sleep(1_500);
    const processor = system.children.get('processor')!;
    processor.kill('SIGSTOP');
    await sleep(7_000); // more than twice the 3 s RPC timeout: requests already delivered are answered late
    processor.kill('SIGCONT');
    await sleep(3_000);
    const sent = (await Promise.all(drivers.map((driver) => driver.stop()))).flat();
    assertAnswersWereClear(sent);
    assert.ok(sent.some((item) => item.mode === 'sync' && item.status === 504), 'sync callers got 504 while the processor stalled');
    assert.equal((await request(`${api}/data/process`, { json: { payload: 'after', description: 'uppercase' } })).body.outcome.result, 'AFTER');
    await checkBooks(system, sent);
  });
});
