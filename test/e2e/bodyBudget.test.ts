import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { assertProblem } from './helpers.js';

/** A sync request whose body is `size` bytes of JSON. */
const bodyOf = (size: number) => {
  const frame = JSON.stringify({ payload: '', description: 'uppercase' });
  return JSON.stringify({ payload: 'x'.repeat(size - frame.length), description: 'uppercase' });
};

/** Sends a request's head and part of its body, then waits: the request stays in flight until the socket closes. */
async function stalledRequest(url: string, declaredBytes: number): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.write(
    `POST /api/v1/data/process HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n{"payload":"`,
  );
  // Lets the api run its middleware for this request before the next one arrives.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return socket;
}

describe('body budget: request bytes in flight are bounded', () => {
  let system: TestSystem;
  let api: string;
  before(async function () {
    this.timeout(60_000);
    system = await startTestSystem('body-budget', {
      only: ['api', 'processor'],
      nginx: false,
      env: { BODY_BUDGET_BYTES: '1000000', BODY_LIMIT_BYTES: '1048576' },
    });
    api = system.urls.api;
  });
  after(async () => stopTestSystem(system));

  it('refuses a body that does not fit beside those in flight with a 503 and Retry-After, and takes it once they are done', async () => {
    const stalled = await stalledRequest(api, 700_000);
    try {
      const refused = await request(`${api}/api/v1/data/process`, { body: bodyOf(600_000), headers: { 'content-type': 'application/json' } });
      assertProblem(refused, 503, /too many large requests are in progress; retry shortly/);
      assert.equal(refused.headers.get('retry-after'), '1');
      const small = await request(`${api}/api/v1/data/process`, { json: { payload: 'hello world', description: 'uppercase' } });
      assert.equal(small.status, 200, 'a small body still fits');
    } finally {
      stalled.destroy();
    }
    // The stalled request's bytes are released when its socket closes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const accepted = await request(`${api}/api/v1/data/process`, { body: bodyOf(600_000), headers: { 'content-type': 'application/json' } });
    assert.equal(accepted.status, 200);
  });

  it('always admits one request when nothing else is in flight, even one larger than the budget', async () => {
    const large = await request(`${api}/api/v1/data/process`, { body: bodyOf(1_040_000), headers: { 'content-type': 'application/json' } });
    assert.equal(large.status, 200);
  });
});
