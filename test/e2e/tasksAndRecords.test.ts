import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually, request } from '../support/http.js';
import { AUTHORIZATION } from '../support/testEnv.js';
import { sharedSystem, type TestSystem } from '../support/system.js';
import { assertProblem, pollUntilFinished, recordCount, sql } from './helpers.js';

describe('async polling, records and logs', () => {
  let system: TestSystem;
  let api: string;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
    api = `${system.urls.api}/api/v1`;
  });

  describe('a null payload (any JSON value means null too)', () => {
    it('echoes null synchronously and asynchronously, and stores it as JSON null', async () => {
      const sync = await request(`${api}/data/process`, { json: { payload: null } });
      assert.equal(sync.status, 200, sync.text);
      assert.equal((sync.body as any).outcome.result, null);
      assert.equal((sync.body as any).outcome.input_type, 'null');
      const accepted = await request(`${api}/data/process-async`, { json: { payload: null, description: 'echo' } });
      assert.equal(accepted.status, 202, accepted.text);
      const done = await pollUntilFinished(api, (accepted.body as any).task_id);
      assert.equal((done.body as any).task_status, 'Success');
      assert.equal((done.body as any).outcome.result, null);
      for (const taskId of [(sync.body as any).task_id, (accepted.body as any).task_id]) {
        const [row] = await sql<{ payload_type: string }>('SELECT jsonb_typeof(payload) AS payload_type FROM data_records WHERE task_id = $1', [taskId]);
        assert.equal(row?.payload_type, 'null');
      }
    });
  });

  describe('polling GET /data/process-async/{task_id}', () => {
    it('Processing (202, Retry-After) → Success (200 with outcome); the record matches', async () => {
      // Whether the first poll still sees 202 is a race; noProcessor.test.ts holds a task in Processing deterministically.
      const accepted = await request(`${api}/data/process-async`, { json: { payload: [3, 1, 2], description: 'sort' } });
      assert.equal(accepted.status, 202);
      const taskId = (accepted.body as any).task_id as string;
      const first = await request(`${api}/data/process-async/${taskId}`);
      assert.ok(first.status === 202 || first.status === 200);
      if (first.status === 202) {
        assert.deepEqual(first.body, { task_id: taskId, task_status: 'Processing', outcome: null });
        assert.equal(first.headers.get('retry-after'), '1');
      }
      const done = await pollUntilFinished(api, taskId);
      assert.equal((done.body as any).task_status, 'Success');
      assert.deepEqual((done.body as any).outcome.result, [1, 2, 3]);
      assert.equal((done.body as any).outcome.operation, 'sort');
      assert.equal((done.body as any).outcome.input_type, 'array');
      const record = await request(`${api}/database/records/${taskId}`);
      assert.equal((record.body as any).task_status, 'Success');
      assert.deepEqual((record.body as any).outcome, (done.body as any).outcome);
      assert.deepEqual((record.body as any).payload, [3, 1, 2]);
    });

    it('a task whose processing fails → 200 with task_status Failed and the error (square of 1e200 overflows)', async () => {
      const accepted = await request(`${api}/data/process-async`, { json: { payload: 1e200, description: 'square' } });
      assert.equal(accepted.status, 202);
      const taskId = (accepted.body as any).task_id as string;
      const done = await pollUntilFinished(api, taskId);
      assert.equal((done.body as any).task_status, 'Failed');
      assert.equal((done.body as any).outcome, null);
      assert.equal((done.body as any).error.type, 'non-finite-result');
      assert.match((done.body as any).error.detail, /overflow/);
      const record = await request(`${api}/database/records/${taskId}`);
      assert.equal((record.body as any).task_status, 'Failed');
      assert.deepEqual((record.body as any).error, (done.body as any).error);
    });

    it('the same overflow synchronously → 422, nothing stored', async () => {
      const before = await recordCount();
      assertProblem(await request(`${api}/data/process`, { json: { payload: 1e200, description: 'square' } }), 422, /overflow/);
      assert.equal(await recordCount(), before);
    });

    it('unknown and garbage task ids → 404', async () => {
      for (const id of [randomUUID(), 'abc', '1', 'null', '-', encodeURIComponent("' OR 1=1 --"), '%00', 'x'.repeat(5000)]) {
        assertProblem(await request(`${api}/data/process-async/${id}`), 404, /no task/);
      }
    });
  });

  describe('records', () => {
    it('GET by task_id, DELETE → 204, then 404 for both', async () => {
      const created = await request(`${api}/data/process`, { json: { payload: 'to delete', description: 'capitalize' } });
      const taskId = (created.body as any).task_id as string;
      const record = await request(`${api}/database/records/${taskId}`);
      assert.equal(record.status, 200);
      assert.equal((record.body as any).task_id, taskId);
      assert.equal((record.body as any).description, 'capitalize');
      assert.equal((record.body as any).mode, 'sync');
      assert.match((record.body as any).created_at, /^\d{4}-\d\d-\d\dT/);

      const deleted = await request(`${api}/database/records/${taskId}`, { method: 'DELETE', headers: AUTHORIZATION });
      assert.equal(deleted.status, 204);
      assert.equal(deleted.text, '');
      assertProblem(await request(`${api}/database/records/${taskId}`), 404);
      assertProblem(await request(`${api}/database/records/${taskId}`, { method: 'DELETE', headers: AUTHORIZATION }), 404);
    });

    it('deleting a finished async record also forgets its job: the poll is 404 too', async () => {
      const accepted = await request(`${api}/data/process-async`, { json: { payload: 'forget me', description: 'uppercase' } });
      const taskId = (accepted.body as any).task_id as string;
      await pollUntilFinished(api, taskId);
      assert.equal((await request(`${api}/database/records/${taskId}`, { method: 'DELETE', headers: AUTHORIZATION })).status, 204);
      assertProblem(await request(`${api}/data/process-async/${taskId}`), 404);
    });

    it('a NUL in a log filter is a 422, not a failed query', async () => {
      for (const query of ['task_id=%00', 'correlation_id=a%00b']) {
        assertProblem(await request(`${api}/database/logs?${query}`), 422, /NUL/);
      }
    });

    it('pages with limit/offset/total, newest first, and filters by status', async () => {
      const marker = randomUUID();
      for (let i = 0; i < 5; i++) {
        const response = await request(`${api}/data/process`, { json: { payload: `${marker} ${i}` } });
        assert.equal(response.status, 200);
      }
      const total = await recordCount();
      const page1 = await request(`${api}/database/records?limit=2&offset=0`);
      assert.equal(page1.status, 200);
      assert.equal((page1.body as any).total, total);
      assert.equal((page1.body as any).limit, 2);
      assert.equal((page1.body as any).offset, 0);
      assert.deepEqual((page1.body as any).items.map((item: any) => item.payload), [`${marker} 4`, `${marker} 3`]);
      const page2 = await request(`${api}/database/records?limit=2&offset=2`);
      assert.deepEqual((page2.body as any).items.map((item: any) => item.payload), [`${marker} 2`, `${marker} 1`]);
      const beyond = await request(`${api}/database/records?offset=1000000`);
      assert.equal(beyond.status, 200);
      assert.deepEqual((beyond.body as any).items, []);
      assert.equal((beyond.body as any).total, total);
      const defaults = await request(`${api}/database/records`);
      assert.equal((defaults.body as any).limit, 20);
      assert.equal((defaults.body as any).offset, 0);

      const failed = await request(`${api}/database/records?status=Failed&limit=100`);
      assert.equal(failed.status, 200);
      assert.ok((failed.body as any).items.every((item: any) => item.task_status === 'Failed'));
      const success = await request(`${api}/database/records?status=Success&limit=1`);
      assert.ok((success.body as any).total >= 5);
      assert.equal((success.body as any).total + (failed.body as any).total <= total, true);
      assert.equal((success.body as any).items[0].task_status, 'Success');
    });

    it('out-of-range, non-numeric, repeated and unknown paging params → 422', async () => {
      for (const query of [
        'limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=', 'limit=1&limit=2', 'offset=-1',
        'offset=1000001', 'offset=x', 'offset=1e400', 'status=Done', 'status=success', 'status=Success&status=Failed',
        'sort=task_id', 'limit[$gt]=1', '__proto__=1', 'constructor[prototype]=1',
      ]) {
        assertProblem(await request(`${api}/database/records?${query}`), 422, /query/);
        assertProblem(await request(`${api}/database/logs?${query.replace(/status=[^&]*/g, 'task_id=')}`), 422, /query/);
      }
    });
  });

  describe('logs', () => {
    it('a sync task has api start/end and processor start/end events, filtered by task_id and correlation_id', async () => {
      const created = await request(`${api}/data/process`, { json: { payload: 'logged', description: 'reverse' } });
      const taskId = (created.body as any).task_id as string;
      const logs = await eventually(async () => {
        const page = await request(`${api}/database/logs?task_id=${taskId}`);
        assert.equal(page.status, 200);
        return (page.body as any).total >= 4 ? (page.body as any) : undefined;
      });
      assert.equal(logs.total, 4);
      const events = logs.items.map((item: any) => `${item.service_name}:${item.event}`).sort();
      assert.deepEqual(events, ['api:end', 'api:start', 'processor:end', 'processor:start']);
      assert.ok(logs.items.every((item: any) => item.task_id === taskId));
      const correlationId = logs.items[0].correlation_id;
      assert.ok(logs.items.every((item: any) => item.correlation_id === correlationId), 'one RPC, one correlation id');

      const byCorrelation = await request(`${api}/database/logs?correlation_id=${correlationId}&limit=2`);
      assert.equal((byCorrelation.body as any).total, 4);
      assert.equal((byCorrelation.body as any).items.length, 2);
      const none = await request(`${api}/database/logs?task_id=${randomUUID()}`);
      assert.deepEqual(none.body, { items: [], total: 0, limit: 20, offset: 0 });
    });

    it('an async task has api, worker and processor events', async () => {
      const accepted = await request(`${api}/data/process-async`, { json: { payload: 'logged async', description: 'word_count' } });
      const taskId = (accepted.body as any).task_id as string;
      await pollUntilFinished(api, taskId);
      const events = await eventually(async () => {
        const page = await request(`${api}/database/logs?task_id=${taskId}&limit=100`);
        const names: string[] = (page.body as any).items.map((item: any) => `${item.service_name}:${item.event}`).sort();
        return names.length >= 5 ? names : undefined;
      });
      assert.deepEqual(events, ['api:start', 'processor:end', 'processor:start', 'worker:end', 'worker:start']);
    });

    it('a refused sync request logs error events, not ends, and stores nothing', async () => {
      const before = await recordCount();
      const payload = -1.7976931348623157e308;
      assertProblem(await request(`${api}/data/process`, { json: { payload, description: 'double' } }), 422, /double overflows/);
      assert.equal(await recordCount(), before);
      // The problem carries no task id; find the events by the api's error event, then its correlation id.
      const marker = await eventually(async () => {
        const rows = await sql<{ correlation_id: string }>(
          `SELECT correlation_id FROM task_logs WHERE service_name = 'api' AND event = 'error' AND description LIKE '%double overflows%'
           ORDER BY id DESC LIMIT 1`,
        );
        return rows[0];
      });
      const page = await eventually(async () => {
        const logs = await request(`${api}/database/logs?correlation_id=${marker.correlation_id}`);
        return (logs.body as any).total >= 3 ? (logs.body as any) : undefined;
      });
      const events = page.items.map((item: any) => `${item.service_name}:${item.event}`).sort();
      assert.deepEqual(events, ['api:error', 'api:start', 'processor:error', 'processor:start']);
    });
  });
});
