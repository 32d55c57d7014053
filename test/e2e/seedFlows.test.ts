import assert from 'node:assert/strict';
import { eventually, request } from '../support/http.js';
import { sharedSystem, type TestSystem } from '../support/system.js';

const seedBody = { payload: 'hello world', description: 'uppercase' };

describe('seed flows through nginx', () => {
  let system: TestSystem;
  let base: string;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
    base = `${system.urls.nginx}/api/v1`;
  });

  it('processes the seed example synchronously: 200, HELLO WORLD, one Success record', async () => {
    const response = await request(`${base}/data/process`, { json: seedBody });
    assert.equal(response.status, 200);
    assert.match(response.body.task_id, /^[0-9a-f-]{36}$/);
    assert.equal(response.body.task_status, 'Success');
    assert.equal(response.body.outcome.result, 'HELLO WORLD');
    assert.equal(response.body.outcome.operation, 'uppercase');
    assert.equal(response.body.outcome.input_type, 'string');

    const record = await request(`${base}/database/records/${response.body.task_id}`);
    assert.equal(record.status, 200);
    assert.equal(record.body.mode, 'sync');
    assert.equal(record.body.task_status, 'Success');
    assert.deepEqual(record.body.outcome, response.body.outcome);
  });

  it('processes the seed example asynchronously: 202 with Location, then 200 Success on poll', async () => {
    const accepted = await request(`${base}/data/process-async`, { json: seedBody });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.task_status, 'Processing');
    assert.equal(accepted.body.outcome, null);
    const taskId: string = accepted.body.task_id;
    assert.equal(accepted.headers.get('location'), `/api/v1/data/process-async/${taskId}`);

    const done = await eventually(async () => {
      const poll = await request(`${system.urls.nginx}${accepted.headers.get('location')}`);
      assert.ok(poll.status === 200 || poll.status === 202, `unexpected status ${poll.status}`);
      return poll.status === 200 ? poll : undefined;
    });
    assert.equal(done.body.task_status, 'Success');
    assert.equal(done.body.outcome.result, 'HELLO WORLD');

    const record = await request(`${base}/database/records/${taskId}`);
    assert.equal(record.body.mode, 'async');
    assert.equal(record.body.task_status, 'Success');
  });
});
