import assert from 'node:assert/strict';
import { eventually, request } from '../support/http.js';
import { sharedSystem, type TestSystem } from '../support/system.js';
import { recordCount, sql, withConcurrency } from './helpers.js';

const TASKS = 500;
const CONCURRENCY = 25;

describe('a burst of 500 async requests through nginx', () => {
  let system: TestSystem;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
  });

  it('all are accepted, all end Success with the right result, and exactly 500 records exist', async function () {
    this.timeout(120_000);
    const base = `${system.urls.nginx}/api/v1`;
    const before = await recordCount();

    const accepted = await withConcurrency(TASKS, CONCURRENCY, async (index) => {
      const response = await request(`${base}/data/process-async`, { json: { payload: index, description: 'square' } });
      assert.equal(response.status, 202, `request ${index}: ${response.status} ${response.text}`);
      return { index, taskId: (response.body as any).task_id as string };
    });
    assert.equal(new Set(accepted.map((task) => task.taskId)).size, TASKS, 'task ids are unique');
    const ids = accepted.map((task) => task.taskId);

    // Postgres is the book of record: wait until every task is final there.
    await eventually(async () => {
      const [row] = await sql<{ pending: number }>(
        `SELECT count(*)::int AS pending FROM data_records WHERE task_id = ANY($1::uuid[]) AND task_status = 'Processing'`,
        [ids],
      );
      return row!.pending === 0 ? true : undefined;
    }, 90_000, 500);

    const rows = await sql<{ task_id: string; task_status: string; result: number }>(
      `SELECT task_id, task_status, (outcome->>'result')::float8 AS result FROM data_records WHERE task_id = ANY($1::uuid[])`,
      [ids],
    );
    assert.equal(rows.length, TASKS, 'exactly one record per task');
    const byId = new Map(rows.map((row) => [row.task_id, row]));
    for (const { index, taskId } of accepted) {
      const row = byId.get(taskId)!;
      assert.equal(row.task_status, 'Success', `task ${index}`);
      assert.equal(row.result, index * index, `task ${index}`);
    }
    assert.equal(await recordCount(), before + TASKS, 'the burst added exactly 500 records');
    const page = await request(`${base}/database/records?limit=1`);
    assert.equal((page.body as any).total, before + TASKS);

    // A sample of polls agrees with the records.
    for (const { index, taskId } of accepted.filter((_, i) => i % 50 === 0)) {
      const poll = await request(`${base}/data/process-async/${taskId}`);
      assert.equal(poll.status, 200);
      assert.equal((poll.body as any).outcome.result, index * index);
    }
  });
});
