import assert from 'node:assert/strict';
import { eventually, request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { TcpProxy } from '../support/tcpProxy.js';
import { REDIS_URL } from '../support/testEnv.js';
import { pollUntilFinished } from './helpers.js';

interface ReadyBody {
  status: string;
  checks: Record<string, boolean>;
}

/**
 * The worker starts while its Redis is unreachable (a cut proxy; the api has
 * its own, working Redis): its health server listens at once, so Kubernetes'
 * liveness probe passes instead of restarting it in a loop; /ready says redis
 * is missing; once Redis answers it builds its queue and runs the task the api
 * accepted meanwhile, without a restart.
 */
describe('worker started while Redis is down', () => {
  let system: TestSystem;
  let api: string;
  let worker: string;
  let redisProxy: TcpProxy;

  before(async function () {
    this.timeout(60_000);
    redisProxy = await TcpProxy.start({ host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) });
    redisProxy.cut();
    // Start-up waits for the worker's /health only, which is the point: it used to wait for Redis before listening.
    system = await startTestSystem('worker-redis-down-at-start', {
      nginx: false,
      serviceEnv: { worker: { REDIS_URL: redisProxy.rewrite(REDIS_URL) } },
    });
    api = `${system.urls.api}/api/v1`;
    worker = system.urls.worker;
  });

  after(async function () {
    this.timeout(60_000);
    redisProxy?.restore();
    if (system) await stopTestSystem(system);
    await redisProxy?.close();
  });

  it('/health is 200 and /ready is 503 naming redis', async () => {
    const health = await request(`${worker}/health`);
    assert.equal(health.status, 200);
    const ready = await request(`${worker}/ready`);
    assert.equal(ready.status, 503, ready.text);
    const body = ready.body as ReadyBody;
    assert.equal(body.checks.redis, false);
    assert.equal(body.checks.postgres, true);
    assert.equal(body.checks.rabbitmq, true);
  });

  it('once Redis answers, the worker is ready and runs the task accepted meanwhile, without a restart', async function () {
    this.timeout(60_000);
    const pid = system.children.get('worker')?.pid;
    const accepted = await request(`${api}/data/process-async`, { json: { payload: 'worker was waiting', description: 'uppercase' } });
    assert.equal(accepted.status, 202, accepted.text);
    const taskId = (accepted.body as { task_id: string }).task_id;
    // Nothing can take the job while the worker's Redis is cut.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal((await request(`${api}/data/process-async/${taskId}`)).status, 202);

    redisProxy.restore();
    await eventually(async () => ((await request(`${worker}/ready`)).status === 200 ? true : undefined), 20_000, 250);
    const done = await pollUntilFinished(api, taskId, 30_000);
    assert.equal((done.body as { task_status: string }).task_status, 'Success');
    assert.equal((done.body as { outcome: { result: string } }).outcome.result, 'WORKER WAS WAITING');
    assert.equal(system.children.get('worker')?.pid, pid, 'the worker was restarted');
    assert.equal(system.children.get('worker')?.exitCode, null);
  });
});
