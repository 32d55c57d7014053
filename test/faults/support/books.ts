import assert from 'node:assert/strict';
import pg from 'pg';
import { eventually } from '../../support/http.js';
import type { TestSystem } from '../../support/system.js';
import { DATABASE_URL } from '../../support/testEnv.js';
import type { Sent } from './loadDriver.js';

let pool: pg.Pool | undefined;
export async function sql<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  if (!pool) {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    // Idle connections die when a test stops PostgreSQL; the pool replaces them.
    pool.on('error', () => undefined);
  }
  return (await pool.query<Row>(text, values)).rows;
}
export async function closeBooks(): Promise<void> {
  await pool?.end();
  pool = undefined;
}

/**
 * Every answer during a fault is either a success or a clear, fast refusal:
 * 200/202, or a problem+json 503/504. Nothing hangs (status 0) or crashes (500).
 */
export function assertAnswersWereClear(sent: Sent[]): void {
  for (const item of sent) {
    if (item.status === 200 || item.status === 202) continue;
    assert.ok([503, 504].includes(item.status), `unexpected answer ${item.status} after ${Math.round(item.ms)} ms for ${item.input}`);
    assert.match(item.contentType, /^application\/problem\+json/);
  }
}

/**
 * The promise: every 200 carries its own result and has exactly one Success
 * record; every 202 ends Success with exactly one record; every accepted task
 * has its terminal events in task_logs. Waits up to `settleMs` for async work.
 */
export async function checkBooks(system: TestSystem, sent: Sent[], settleMs = 90_000): Promise<{ accepted: number; settledMs: number }> {
  const syncOk = sent.filter((item) => item.mode === 'sync' && item.status === 200);
  for (const item of syncOk) {
    assert.equal(item.body?.outcome?.result, item.input.toUpperCase(), 'a 200 carries its own request\'s result');
  }
  const asyncOk = sent.filter((item) => item.mode === 'async' && item.status === 202);
  const accepted = [...syncOk, ...asyncOk];
  const ids = accepted.map((item) => item.body!.task_id!);
  assert.equal(new Set(ids).size, ids.length, 'task ids are unique');

  const started = Date.now();
  await eventually(
    async () => {
      const rows = await sql<{ task_status: string; count: string }>(
        'SELECT task_status, count(*) AS count FROM data_records WHERE task_id = ANY($1::uuid[]) GROUP BY task_status',
        [ids],
      );
      const success = Number(rows.find((row) => row.task_status === 'Success')?.count ?? 0);
      return success === ids.length ? true : undefined;
    },
    settleMs,
    500,
  ).catch(async (error: unknown) => {
    const rows = await sql('SELECT task_status, count(*) FROM data_records WHERE task_id = ANY($1::uuid[]) GROUP BY task_status', [ids]);
    throw new Error(`not every accepted task ended Success with one record (${ids.length} accepted): ${JSON.stringify(rows)}; ${String(error)}`);
  });
  const settledMs = Date.now() - started;

  const results = await sql<{ task_id: string; result: unknown }>(
    "SELECT task_id, outcome->'result' AS result FROM data_records WHERE task_id = ANY($1::uuid[])",
    [ids],
  );
  const expected = new Map(accepted.map((item) => [item.body!.task_id!, item.input.toUpperCase()]));
  for (const row of results) assert.equal(row.result, expected.get(row.task_id), `record ${row.task_id} holds its own result`);

  // Terminal events: the api's end for sync tasks, the worker's end for async ones.
  await eventually(
    async () => {
      const rows = await sql<{ count: string }>(
        `SELECT count(DISTINCT task_id) AS count FROM task_logs
          WHERE task_id = ANY($1::text[]) AND event = 'end' AND service_name IN ('api', 'worker')`,
        [ids],
      );
      return Number(rows[0]!.count) === ids.length ? true : undefined;
    },
    60_000,
    500,
  ).catch(async (error: unknown) => {
    const missing = await sql<{ task_id: string; events: string | null }>(
      `SELECT r.task_id, string_agg(l.service_name || '.' || l.event, ',' ORDER BY l.created_at) AS events
         FROM unnest($1::text[]) AS r(task_id) LEFT JOIN task_logs l ON l.task_id = r.task_id
        GROUP BY r.task_id
       HAVING count(*) FILTER (WHERE l.event = 'end' AND l.service_name IN ('api', 'worker')) = 0`,
      [ids],
    );
    const sample = missing.slice(0, 5).map((row) => `${row.task_id}: ${row.events ?? 'no events'}`);
    throw new Error(`task_logs is missing terminal events of ${missing.length} of ${ids.length} tasks (${sample.join('; ')}): ${String(error)}`);
  });

  for (const [name, child] of system.children) {
    assert.equal(child.exitCode, null, `${name} is still running`);
    assert.equal(child.signalCode, null, `${name} was not killed`);
  }
  return { accepted: ids.length, settledMs };
}
