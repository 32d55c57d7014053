import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually, request } from '../support/http.js';
import { AUTHORIZATION } from '../support/testEnv.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { assertProblem, pollUntilFinished, recordCount } from './helpers.js';

const RPC_TIMEOUT_MS = 1_500;

/**
 * A system with no processor and a short RPC timeout: sync requests time out
 * (504), async tasks stay Processing, and a request in flight holds its
 * Idempotency-Key. Then a processor starts and everything completes.
 */
describe('without a processor (RPC timeout)', () => {
  let system: TestSystem;
  let processor: TestSystem | undefined;
  let api: string;

  before(async function () {
    this.timeout(60_000);
    system = await startTestSystem('no-processor', {
      only: ['api', 'worker', 'logger'],
      env: { RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS), JOB_ATTEMPTS: '20', JOB_BACKOFF_MS: '200' },
    });
    api = `${system.urls.api}/api/v1`;
  });

  after(async function () {
    this.timeout(60_000);
    if (processor) await stopTestSystem(processor);
    await stopTestSystem(system);
  });

  it('sync → 504 problem after the RPC timeout, directly and through nginx; nothing stored', async () => {
    const before = await recordCount();
    const started = Date.now();
    const [direct, proxied] = await Promise.all([
      request(`${api}/data/process`, { json: { payload: 'nobody home', description: 'uppercase' } }),
      request(`${system.urls.nginx}/api/v1/data/process`, { json: { payload: 'nobody home', description: 'uppercase' } }),
    ]);
    const elapsed = Date.now() - started;
    assertProblem(direct, 504, new RegExp(`did not answer within ${RPC_TIMEOUT_MS} ms`));
    assertProblem(proxied, 504, /did not answer/);
    assert.ok(elapsed >= RPC_TIMEOUT_MS - 100, `answered after ${elapsed} ms, before the timeout`);
    assert.ok(elapsed < RPC_TIMEOUT_MS + 5_000, `hang: ${elapsed} ms`);
    assert.equal(await recordCount(), before);
  });

  const key = randomUUID();
  const keyed = { payload: 'in flight', description: 'reverse' };

  it('a repeat while the first is in flight → 409; the 504 is not stored, so a retry runs again', async () => {
    const first = request(`${api}/data/process`, { json: keyed, headers: { 'idempotency-key': key } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const repeat = await request(`${api}/data/process`, { json: keyed, headers: { 'idempotency-key': key } });
    assertProblem(repeat, 409, /still being processed/);
    assert.ok(Date.now() - started < 1_000, '409 comes at once, without waiting for the first');
    // A different body under the in-flight key is still a mismatch.
    assertProblem(await request(`${api}/data/process`, { json: { payload: 'other' }, headers: { 'idempotency-key': key } }), 422);
    assertProblem(await first, 504);

    const retry = await request(`${api}/data/process`, { json: keyed, headers: { 'idempotency-key': key } });
    assertProblem(retry, 504);
    assert.equal(retry.headers.get('idempotent-replayed'), null, 'a 5xx must not be replayed');
  });

  let heldTask: string;

  it('an async task stays Processing (202 + Retry-After) while no processor answers', async () => {
    const accepted = await request(`${api}/data/process-async`, { json: { payload: [2, 2, 1], description: 'unique' } });
    assert.equal(accepted.status, 202);
    heldTask = (accepted.body as any).task_id;
    const record = await request(`${api}/database/records/${heldTask}`);
    assert.equal((record.body as any).task_status, 'Processing');
    // Across several RPC timeouts (retries with back-off) it is still Processing, never Failed or 404.
    const deadline = Date.now() + 2 * RPC_TIMEOUT_MS + 500;
    while (Date.now() < deadline) {
      const poll = await request(`${api}/data/process-async/${heldTask}`);
      assert.equal(poll.status, 202, poll.text);
      assert.deepEqual(poll.body, { task_id: heldTask, task_status: 'Processing', outcome: null });
      assert.equal(poll.headers.get('retry-after'), '1');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Its record cannot be deleted while it runs (the worker would write it back): 409, and it stays.
    const refused = await request(`${api}/database/records/${heldTask}`, { method: 'DELETE', headers: AUTHORIZATION });
    assertProblem(refused, 409, /still processing/);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await request(`${api}/database/records/${heldTask}`)).status, 200);
  });

  it('once a processor starts: the held task ends Success, and the keyed request runs (200), then replays', async function () {
    this.timeout(60_000);
    processor = await startTestSystem('no-processor-late', { env: system.env, only: ['processor'], nginx: false });

    const done = await pollUntilFinished(api, heldTask, 30_000);
    assert.equal((done.body as any).task_status, 'Success');
    assert.deepEqual((done.body as any).outcome.result, [2, 1]);

    const before = await recordCount();
    const ran = await eventually(async () => {
      const response = await request(`${api}/data/process`, { json: keyed, headers: { 'idempotency-key': key } });
      return response.status === 200 ? response : undefined;
    });
    assert.equal(ran.headers.get('idempotent-replayed'), null);
    assert.equal((ran.body as any).outcome.result, 'thgilf ni');
    const replay = await request(`${api}/data/process`, { json: keyed, headers: { 'idempotency-key': key } });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.text, ran.text);
    assert.equal(await recordCount(), before + 1);
  });
});
