import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually, request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { TcpProxy } from '../support/tcpProxy.js';
import { REDIS_URL } from '../support/testEnv.js';
import { assertProblem, expectUnavailable, pollUntilFinished, recordCount } from './helpers.js';

/**
 * The api starts while its Redis is unreachable (a cut proxy): it listens at
 * once, so Kubernetes' liveness probe passes instead of restarting it in a loop;
 * it is not ready and refuses what needs Redis with a fast 503, serves what
 * does not, and takes async requests once Redis answers, without a restart.
 */
describe('api started while Redis is down', () => {
  let system: TestSystem;
  let api: string;
  let redisProxy: TcpProxy;

  before(async function () {
    this.timeout(60_000);
    redisProxy = await TcpProxy.start({ host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) });
    redisProxy.cut();
    system = await startTestSystem('redis-down-at-start', {
      nginx: false,
      // /ready stays 503 until Redis answers, so start-up waits for liveness only.
      apiProbe: '/health',
      serviceEnv: { api: { REDIS_URL: redisProxy.rewrite(REDIS_URL) } },
    });
    api = `${system.urls.api}/api/v1`;
  });

  after(async function () {
    this.timeout(60_000);
    redisProxy?.restore();
    if (system) await stopTestSystem(system);
    await redisProxy?.close();
  });

  const asyncPost = (payload: string) => request(`${api}/data/process-async`, { json: { payload, description: 'uppercase' } });

  it('/health is 200 and /ready is 503 naming redis', async () => {
    assert.deepEqual((await request(`${system.urls.api}/health`)).body, { status: 'ok' });
    const ready = await request(`${system.urls.api}/ready`);
    assert.equal(ready.status, 503);
    assert.equal((ready.body as any).checks.redis, false);
    assert.equal((ready.body as any).checks.postgres, true);
  });

  it("Kubernetes' readinessProbe (/ready/serving) passes, so the pod gets the sync traffic it can serve", async () => {
    const serving = await request(`${system.urls.api}/ready/serving`);
    assert.equal(serving.status, 200, serving.text);
    assert.equal((serving.body as any).checks.redis, false);
  });

  it('sync requests are served', async () => {
    const response = await request(`${api}/data/process`, { json: { payload: 'no redis yet', description: 'uppercase' } });
    assert.equal(response.status, 200, response.text);
    assert.equal((response.body as any).outcome.result, 'NO REDIS YET');
  });

  it('async requests → fast 503 problem naming Redis, and nothing is recorded', async () => {
    const before = await recordCount();
    await expectUnavailable(() => asyncPost('refused'), /Redis/);
    assert.equal(await recordCount(), before, 'the refused async task left a record');
  });

  it('task status answers fast from Postgres', async () => {
    const started = Date.now();
    assertProblem(await request(`${api}/data/process-async/${randomUUID()}`), 404);
    const sync = await request(`${api}/data/process`, { json: { payload: 'known', description: 'uppercase' } });
    const known = await request(`${api}/data/process-async/${(sync.body as any).task_id}`);
    assert.equal(known.status, 200);
    assert.equal((known.body as any).outcome.result, 'KNOWN');
    assert.ok(Date.now() - started < 2_500, `status lookups took ${Date.now() - started} ms`);
  });

  it('once Redis answers, the api is ready and runs async requests without a restart', async function () {
    this.timeout(40_000);
    const pid = system.children.get('api')?.pid;
    redisProxy.restore();
    await eventually(async () => ((await request(`${system.urls.api}/ready`)).status === 200 ? true : undefined), 20_000, 250);
    const accepted = await asyncPost('redis is back');
    assert.equal(accepted.status, 202, accepted.text);
    const done = await pollUntilFinished(api, (accepted.body as any).task_id, 30_000);
    assert.equal((done.body as any).outcome.result, 'REDIS IS BACK');
    assert.equal(system.children.get('api')?.pid, pid, 'the api was restarted');
    assert.equal(system.children.get('api')?.exitCode, null);
  });
});
