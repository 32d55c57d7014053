import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { eventually, request } from '../support/http.js';
import { freePort, startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { TcpProxy } from '../support/tcpProxy.js';
import { DATABASE_URL, RABBITMQ_URL } from '../support/testEnv.js';
import { assertProblem, expectUnavailable, pollUntilFinished, recordCount } from './helpers.js';

/** A private, throw-away Redis this suite may kill. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await eventually(async () => {
    const { createConnection } = await import('node:net');
    return new Promise<true | undefined>((resolve) => {
      const socket = createConnection(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(undefined));
    });
  }, 10_000, 50);
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * The api reaches RabbitMQ and Postgres through TCP proxies this suite cuts,
 * and a private Redis it kills: each outage answers 503 quickly, /ready says
 * which dependency is down, nothing half-done is stored, and the api heals
 * without a restart when the dependency comes back.
 */
describe('dependency outages → 503 with Retry-After, then recovery', () => {
  let system: TestSystem;
  let api: string;
  let rabbitProxy: TcpProxy;
  let postgresProxy: TcpProxy;
  let redis: ChildProcess;
  let redisPort: number;

  before(async function () {
    this.timeout(60_000);
    rabbitProxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(RABBITMQ_URL).port || 5672) });
    postgresProxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(DATABASE_URL).port || 5432) });
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    system = await startTestSystem('outages', {
      nginx: false,
      env: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, RPC_TIMEOUT_MS: '5000' },
      serviceEnv: { api: { RABBITMQ_URL: rabbitProxy.rewrite(RABBITMQ_URL), DATABASE_URL: postgresProxy.rewrite(DATABASE_URL) } },
    });
    api = `${system.urls.api}/api/v1`;
  });

  after(async function () {
    this.timeout(60_000);
    rabbitProxy?.restore();
    postgresProxy?.restore();
    if (system) await stopTestSystem(system);
    await rabbitProxy?.close();
    await postgresProxy?.close();
    if (redis) await stopRedis(redis);
  });

  const ready = () => request(`${system.urls.api}/ready`);
  // Kubernetes' readinessProbe: 503 only when what every data route needs (PostgreSQL) is down.
  const serving = () => request(`${system.urls.api}/ready/serving`);
  const sync = (headers: Record<string, string> = {}, payload: unknown = 'outage') =>
    request(`${api}/data/process`, { json: { payload, description: 'uppercase' }, headers });

  it('/ready is 200 with every check true while all is up', async () => {
    const response = await ready();
    assert.equal(response.status, 200);
    assert.deepEqual((response.body as any).checks, { rabbitmq: true, redis: true, postgres: true });
  });

  it('RabbitMQ cut: sync → 503, /ready 503; async still accepted; a keyed 503 is not stored; heals on restore', async function () {
    this.timeout(40_000);
    const key = randomUUID();
    const before = await recordCount();
    rabbitProxy.cut();
    try {
      await eventually(async () => ((await ready()).status === 503 ? true : undefined), 10_000);
      const notReady = await ready();
      assert.equal((notReady.body as any).checks.rabbitmq, false);
      assert.equal((notReady.body as any).checks.postgres, true);
      const stillServing = await serving();
      assert.equal(stillServing.status, 200, 'a RabbitMQ outage took the pod out of the Service');
      assert.equal((stillServing.body as any).checks.rabbitmq, false);
      await expectUnavailable(() => sync(), /RabbitMQ/);
      await expectUnavailable(() => sync({ 'idempotency-key': key }, 'keyed'), /RabbitMQ/);
      // The async flow needs only Redis and Postgres to accept.
      const accepted = await request(`${api}/data/process-async`, { json: { payload: 'queued', description: 'uppercase' } });
      assert.equal(accepted.status, 202);
      assert.equal(await recordCount(), before + 1, 'only the accepted async task is recorded');
      const done = await pollUntilFinished(api, (accepted.body as any).task_id);
      assert.equal((done.body as any).outcome.result, 'QUEUED');
    } finally {
      rabbitProxy.restore();
    }
    const healed = await eventually(async () => {
      const response = await sync({ 'idempotency-key': key }, 'keyed');
      return response.status === 200 ? response : undefined;
    }, 20_000, 250);
    assert.equal(healed.headers.get('idempotent-replayed'), null, 'the 503 was stored and replayed');
    assert.equal((healed.body as any).outcome.result, 'KEYED');
    assert.equal((await ready()).status, 200);
  });

  it('Postgres cut: reads, sync and async → 503, /ready 503; nothing half-done is stored; heals on restore', async function () {
    this.timeout(40_000);
    const before = await recordCount();
    postgresProxy.cut();
    try {
      await expectUnavailable(() => request(`${api}/database/records`), /PostgreSQL/);
      await expectUnavailable(() => request(`${api}/database/records/${randomUUID()}`), /PostgreSQL/);
      await expectUnavailable(() => request(`${api}/database/logs`), /PostgreSQL/);
      await expectUnavailable(() => sync(), /PostgreSQL/);
      await expectUnavailable(() => request(`${api}/data/process-async`, { json: { payload: 'x' } }), /PostgreSQL/);
      const notReady = await ready();
      assert.equal(notReady.status, 503);
      assert.deepEqual((notReady.body as any).checks, { rabbitmq: true, redis: true, postgres: false });
      const notServing = await serving();
      assert.equal(notServing.status, 503, 'every data route needs PostgreSQL');
      assert.deepEqual((notServing.body as any).needs, ['postgres']);
    } finally {
      postgresProxy.restore();
    }
    assert.equal(await recordCount(), before, 'a request answered 503 left a record');
    await eventually(async () => ((await sync()).status === 200 ? true : undefined), 20_000, 250);
    assert.equal((await request(`${api}/database/records?limit=1`)).status, 200);
    assert.equal((await ready()).status, 200);
    assert.equal((await serving()).status, 200);
  });

  it('Redis killed: async and keyed requests → 503, /ready 503, no orphan record; heals when Redis is back', async function () {
    this.timeout(40_000);
    const before = await recordCount();
    await stopRedis(redis);
    try {
      await expectUnavailable(() => request(`${api}/data/process-async`, { json: { payload: 'no redis' } }), /Redis/);
      await expectUnavailable(() => sync({ 'idempotency-key': randomUUID() }), /Redis/);
      const notReady = await ready();
      assert.equal(notReady.status, 503);
      assert.equal((notReady.body as any).checks.redis, false);
      const stillServing = await serving();
      assert.equal(stillServing.status, 200, 'a Redis outage took the pod out of the Service');
      assert.equal((stillServing.body as any).checks.redis, false);
      assert.equal(await recordCount(), before, 'the refused async task left a record');
      // Polling a task Redis no longer answers for falls back to Postgres.
      const unknown = await request(`${api}/data/process-async/${randomUUID()}`);
      assertProblem(unknown, 404);
    } finally {
      redis = await startRedis(redisPort);
    }
    const accepted = await eventually(async () => {
      const response = await request(`${api}/data/process-async`, { json: { payload: 'redis back', description: 'uppercase' } });
      return response.status === 202 ? response : undefined;
    }, 20_000, 250);
    const done = await pollUntilFinished(api, (accepted.body as any).task_id, 30_000);
    assert.equal((done.body as any).outcome.result, 'REDIS BACK');
    await eventually(async () => ((await ready()).status === 200 ? true : undefined), 10_000);
  });
});
