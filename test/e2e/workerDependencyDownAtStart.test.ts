import assert from 'node:assert/strict';
import { eventually, request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { TcpProxy } from '../support/tcpProxy.js';
import { RABBITMQ_URL, REDIS_URL } from '../support/testEnv.js';
import { pollUntilFinished } from './helpers.js';

interface ReadyBody {
  status: string;
  checks: Record<string, boolean>;
}

/**
 * The worker starts while one of its dependencies is unreachable (a cut proxy;
 * the api has its own, working connections): its health server listens at once,
 * so Kubernetes' liveness probe passes instead of restarting it in a loop; /ready
 * names what is missing; once the dependency answers it runs the task the api
 * accepted meanwhile, without a restart.
 */
const DEPENDENCIES = [
  { name: 'redis', envVar: 'REDIS_URL', url: REDIS_URL, defaultPort: 6379 },
  { name: 'rabbitmq', envVar: 'RABBITMQ_URL', url: RABBITMQ_URL, defaultPort: 5672 },
] as const;

for (const dependency of DEPENDENCIES) {
  describe(`worker started while ${dependency.name} is down`, () => {
    let system: TestSystem;
    let api: string;
    let worker: string;
    let proxy: TcpProxy;

    before(async function () {
      this.timeout(60_000);
      const target = new URL(dependency.url);
      proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || dependency.defaultPort) });
      proxy.cut();
      // Start-up waits for the worker's /health only, which is the point: it must listen before its dependencies answer.
      system = await startTestSystem(`worker-${dependency.name}-down-at-start`, {
        nginx: false,
        serviceEnv: { worker: { [dependency.envVar]: proxy.rewrite(dependency.url) } },
      });
      api = `${system.urls.api}/api/v1`;
      worker = system.urls.worker;
    });

    after(async function () {
      this.timeout(60_000);
      proxy?.restore();
      if (system) await stopTestSystem(system);
      await proxy?.close();
    });

    it(`/health is 200 and /ready is 503 naming ${dependency.name}`, async () => {
      const health = await request(`${worker}/health`);
      assert.equal(health.status, 200);
      const ready = await request(`${worker}/ready`);
      assert.equal(ready.status, 503, ready.text);
      const { checks } = ready.body as ReadyBody;
      assert.deepEqual(checks, { redis: true, rabbitmq: true, postgres: true, [dependency.name]: false });
    });

    it(`once ${dependency.name} answers, the worker is ready and runs the task accepted meanwhile, without a restart`, async function () {
      this.timeout(60_000);
      const pid = system.children.get('worker')?.pid;
      const accepted = await request(`${api}/data/process-async`, { json: { payload: 'worker was waiting', description: 'uppercase' } });
      assert.equal(accepted.status, 202, accepted.text);
      const taskId = (accepted.body as { task_id: string }).task_id;
      // The worker cannot finish the job while its dependency is cut.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal((await request(`${api}/data/process-async/${taskId}`)).status, 202);

      proxy.restore();
      await eventually(async () => ((await request(`${worker}/ready`)).status === 200 ? true : undefined), 20_000, 250);
      const done = await pollUntilFinished(api, taskId, 30_000);
      assert.equal((done.body as { task_status: string }).task_status, 'Success');
      assert.equal((done.body as { outcome: { result: string } }).outcome.result, 'WORKER WAS WAITING');
      assert.equal(system.children.get('worker')?.pid, pid, 'the worker was restarted');
      assert.equal(system.children.get('worker')?.exitCode, null);
    });
  });
}
