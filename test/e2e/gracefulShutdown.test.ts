import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { assertProblem } from './helpers.js';

/**
 * SIGTERM while a sync request waits on the processor: the api stops accepting,
 * finishes the request with 200, then exits 0. The processor is started only
 * after the signal, so the request is certainly in flight when it arrives.
 */
describe('graceful shutdown of the api', () => {
  let system: TestSystem;
  let processor: TestSystem | undefined;

  before(async function () {
    this.timeout(60_000);
    system = await startTestSystem('shutdown', { only: ['api'], env: { RPC_TIMEOUT_MS: '20000' } });
  });

  after(async function () {
    this.timeout(60_000);
    if (processor) await stopTestSystem(processor);
    await stopTestSystem(system);
  });

  it('SIGTERM during a sync request: the request completes 200, then the process exits 0; nginx then answers 503', async function () {
    this.timeout(60_000);
    const apiProcess = system.children.get('api') as ChildProcess;
    const exited = new Promise<number | null>((resolve) => apiProcess.once('exit', (code) => resolve(code)));

    const inFlight = request(`${system.urls.nginx}/api/v1/data/process`, { json: { payload: 'finish me', description: 'uppercase' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(apiProcess.exitCode, null);
    apiProcess.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(apiProcess.exitCode, null, 'the api exited with a request in flight');

    // New connections are refused while the in-flight one drains.
    const refused = await fetch(`${system.urls.api}/health`).then(
      (response) => response.status,
      () => 'refused',
    );
    assert.equal(refused, 'refused');

    processor = await startTestSystem('shutdown-processor', { env: system.env, only: ['processor'], nginx: false });
    const response = await inFlight;
    assert.equal(response.status, 200, response.text);
    assert.equal((response.body as any).outcome.result, 'FINISH ME');
    assert.equal(await exited, 0);

    const down = await request(`${system.urls.nginx}/api/v1/data/process`, { json: { payload: 'x' } });
    assertProblem(down, 503, /not reachable/);
    assert.equal(down.headers.get('retry-after'), '1');
  });

  it('stopping the whole system (as Ctrl-C on npm start does) lets a request in flight through nginx finish', async function () {
    this.timeout(60_000);
    // No processor yet: the request waits in the api until one appears, after the stop has begun.
    const stoppable = await startTestSystem('stop-in-flight', { only: ['api'], env: { RPC_TIMEOUT_MS: '8000' } });
    const inFlight = request(`${stoppable.urls.nginx}/api/v1/data/process`, { json: { payload: 'drain me', description: 'uppercase' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopping = stopTestSystem(stoppable);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = await startTestSystem('stop-in-flight-processor', { env: stoppable.env, only: ['processor'], nginx: false });
    try {
      const response = await inFlight;
      assert.equal(response.status, 200, response.text);
      assert.equal((response.body as any).outcome.result, 'DRAIN ME');
      await stopping;
      for (const [name, child] of stoppable.children) assert.notEqual(child.exitCode ?? child.signalCode, null, `${name} stopped`);
    } finally {
      await stopTestSystem(late);
    }
  });
});
