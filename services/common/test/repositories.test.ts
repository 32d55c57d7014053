import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TaskEvent } from '../src/contracts.js';
import { createDatabase, type Database } from '../src/db/database.js';
import { createRecordsRepository, type RecordsRepository } from '../src/db/recordsRepository.js';
import { createTaskLogsRepository, type TaskLogsRepository } from '../src/db/taskLogsRepository.js';
import { DependencyUnavailableError } from '../src/errors.js';
import { DATABASE_URL } from '../../../test/support/testEnv.js';
import { silentLogger } from './support/amqp.js';

const outcome = (result: unknown) => ({
  result,
  operation: 'echo' as const,
  input_type: 'string' as const,
  processed_at: new Date().toISOString(),
  processing_ms: 0.1,
});

/** Runs `work` and counts the INSERT statements it sent to data_records. */
async function countRecordInserts(db: Database, work: () => Promise<void>): Promise<number> {
  let inserts = 0;
  const count = (query: { sql: string }) => {
    if (query.sql.startsWith('INSERT INTO data_records')) inserts += 1;
  };
  db.on('query', count);
  try {
    await work();
  } finally {
    db.off('query', count);
  }
  return inserts;
}

describe('Postgres repositories (this run\'s database)', () => {
  let db: Database;
  let records: RecordsRepository;
  let logs: TaskLogsRepository;

  before(() => {
    db = createDatabase({ url: DATABASE_URL, poolMax: 4 });
    records = createRecordsRepository(db);
    logs = createTaskLogsRepository(db);
  });

  after(async () => {
    await db.destroy();
  });

  describe('records', () => {
    it('stores any JSON payload faithfully, arrays and Unicode included', async () => {
      const taskId = randomUUID();
      const payload = [1, 'two', { three: ['😀', 'e\u0301'] }, null];
      await records.insertFinished({ task_id: taskId, mode: 'sync', payload, description: 'echo', task_status: 'Success', outcome: outcome(payload), error: null });
      const stored = await records.get(taskId);
      assert.deepEqual(stored?.payload, payload);
      assert.deepEqual(stored?.outcome?.result, payload);
      assert.equal(stored?.error, null);
      assert.equal(stored?.mode, 'sync');
      assert.match(stored?.created_at ?? '', /^\d{4}-\d\d-\d\dT.*Z$/);
    });

    it('upsertFinal turns Processing into the final state, once per task id', async () => {
      const taskId = randomUUID();
      await records.insertProcessing({ task_id: taskId, mode: 'async', payload: 'x', description: 'uppercase' });
      assert.equal((await records.get(taskId))?.task_status, 'Processing');
      const failed = { task_id: taskId, mode: 'async' as const, payload: 'x', description: 'uppercase', task_status: 'Failed' as const, outcome: null, error: { type: 'rpc-timeout', detail: 'late' } };
      await records.upsertFinal(failed);
      await records.upsertFinal(failed);
      assert.equal((await records.get(taskId))?.task_status, 'Failed');
      await records.upsertFinal({ ...failed, task_status: 'Success', outcome: outcome('X'), error: null });
      const stored = await records.get(taskId);
      assert.equal(stored?.task_status, 'Success');
      assert.equal(stored?.error, null);
      const rows = await db('data_records').where({ task_id: taskId }).count<{ count: number }[]>({ count: '*' });
      assert.equal(rows[0]?.count, 1);
    });

    it('upsertFinal never overwrites a Success', async () => {
      const taskId = randomUUID();
      const base = { task_id: taskId, mode: 'async' as const, payload: 'x', description: 'uppercase' };
      await records.upsertFinal({ ...base, task_status: 'Success', outcome: outcome('X'), error: null });
      await records.upsertFinal({ ...base, task_status: 'Failed', outcome: null, error: { type: 'boom', detail: 'late failure' } });
      const stored = await records.get(taskId);
      assert.equal(stored?.task_status, 'Success');
      assert.equal(stored?.outcome?.result, 'X');
      assert.equal(stored?.error, null);
    });

    it('lists newest first, filters by status and pages with a total', async () => {
      // Other suites write to this table too, so totals are checked against the table rather than assumed.
      const mine: string[] = [];
      for (let index = 0; index < 5; index++) {
        const taskId = randomUUID();
        mine.push(taskId);
        await records.insertFinished({ task_id: taskId, mode: 'sync', payload: index, description: 'double', task_status: index % 2 ? 'Failed' : 'Success', outcome: null, error: null });
      }
      const all = await records.list({ limit: 1000, offset: 0 });
      assert.equal(all.total, (await db('data_records').count<{ count: number }[]>({ count: '*' }))[0]!.count);
      const positions = mine.map((taskId) => all.items.findIndex((item) => item.task_id === taskId));
      assert.deepEqual(positions, [...positions].sort((a, b) => b - a), 'newest first');

      const failed = await records.list({ status: 'Failed', limit: 1000, offset: 0 });
      assert.ok(failed.items.every((item) => item.task_status === 'Failed'));
      assert.ok(failed.items.some((item) => item.task_id === mine[1]));
      assert.ok(!failed.items.some((item) => item.task_id === mine[0]));

      const page = await records.list({ limit: 2, offset: 1 });
      assert.deepEqual(page.items.map((item) => item.task_id), all.items.slice(1, 3).map((item) => item.task_id));
      assert.equal(page.total, all.total);
      assert.equal(page.limit, 2);
      assert.equal(page.offset, 1);
    });

    it('deletes by task id, and deleteIfProcessing leaves final records alone', async () => {
      const processing = randomUUID();
      const finished = randomUUID();
      await records.insertProcessing({ task_id: processing, mode: 'async', payload: 1, description: 'echo' });
      await records.insertFinished({ task_id: finished, mode: 'sync', payload: 1, description: 'echo', task_status: 'Success', outcome: outcome(1), error: null });
      await records.deleteIfProcessing(processing);
      await records.deleteIfProcessing(finished);
      assert.equal(await records.get(processing), undefined);
      assert.ok(await records.get(finished));
      assert.equal(await records.delete(finished), 'deleted');
      assert.equal(await records.delete(finished), 'missing');
      const running = randomUUID();
      await records.insertProcessing({ task_id: running, mode: 'async', payload: 1, description: 'echo' });
      assert.equal(await records.delete(running), 'processing', 'a running task keeps its row');
      assert.ok(await records.get(running));
    });

    it('writes concurrent records in shared statements, and a bad row fails only its own caller', async () => {
      const batched = createRecordsRepository(db, { batching: { maxBatchSize: 100, maxConcurrent: 1 } });
      const taken = randomUUID();
      await batched.insertProcessing({ task_id: taken, mode: 'async', payload: null, description: 'echo' });
      const fresh = Array.from({ length: 40 }, () => randomUUID());
      const base = { mode: 'sync' as const, description: 'echo', task_status: 'Success' as const, error: null };
      let results: PromiseSettledResult<void>[] = [];
      const inserts = await countRecordInserts(db, async () => {
        results = await Promise.allSettled([
          ...fresh.map((taskId, index) => batched.insertFinished({ ...base, task_id: taskId, payload: { index }, outcome: outcome(index) })),
          batched.insertFinished({ ...base, task_id: taken, payload: 'duplicate', outcome: null }),
        ]);
      });
      assert.deepEqual(results.slice(0, 40).map((result) => result.status), Array(40).fill('fulfilled'));
      assert.equal(results[40]!.status, 'rejected');
      assert.match(String((results[40] as PromiseRejectedResult).reason), /duplicate key/);
      assert.equal(inserts, 1 + 41, 'one shared statement, then each row alone once it failed');
      const stored = await db('data_records').whereIn('task_id', fresh).select('task_id', 'payload', 'outcome');
      assert.equal(stored.length, 40);
      for (const row of stored) assert.equal((row.outcome as { result: number }).result, (row.payload as { index: number }).index);
      const nullPayload = await db('data_records').where({ task_id: taken }).first('payload', db.raw('payload IS NULL AS sql_null'), 'task_status');
      assert.equal(nullPayload.payload, null, 'a JSON null payload is kept');
      assert.equal(nullPayload.sql_null, false, 'as JSON null, not SQL NULL');
      assert.equal(nullPayload.task_status, 'Processing', 'the duplicate changed nothing');
    });

    it('shares statements between few concurrent inserts', async () => {
      const batched = createRecordsRepository(db, { batching: { maxBatchSize: 100, maxConcurrent: 1 } });
      const inserts = await countRecordInserts(db, async () => {
        await Promise.all(Array.from({ length: 30 }, () => batched.insertProcessing({ task_id: randomUUID(), mode: 'async', payload: 1, description: 'echo' })));
      });
      assert.ok(inserts <= 2, `30 concurrent inserts took ${inserts} statements`);
    });

    it('upserts the same task twice in one batch without losing a Success', async () => {
      const batched = createRecordsRepository(db, { batching: { maxBatchSize: 100, maxConcurrent: 1 } });
      const taskId = randomUUID();
      const base = { task_id: taskId, mode: 'async' as const, payload: 'x', description: 'uppercase' };
      await batched.insertProcessing(base);
      await Promise.all([
        batched.upsertFinal({ ...base, task_status: 'Success', outcome: outcome('X'), error: null }),
        batched.upsertFinal({ ...base, task_status: 'Failed', outcome: null, error: { type: 'late', detail: 'late failure' } }),
      ]);
      const stored = await records.get(taskId);
      assert.equal(stored?.task_status, 'Success');
      assert.equal(stored?.error, null);
    });

    it('turns an unreachable database into DependencyUnavailableError', async () => {
      const unreachable = createDatabase({ url: 'postgres://postgres@127.0.0.1:1/nowhere', poolMax: 1, connectTimeoutMs: 300, logger: silentLogger });
      try {
        await assert.rejects(createRecordsRepository(unreachable).get(randomUUID()), (error: unknown) => {
          assert.ok(error instanceof DependencyUnavailableError);
          assert.equal(error.dependency, 'postgres');
          return true;
        });
      } finally {
        await unreachable.destroy();
      }
    });
  });

  describe('task logs', () => {
    const event = (correlationId: string, index: number): TaskEvent => ({
      event_id: randomUUID(),
      correlation_id: correlationId,
      task_id: `task-${index}`,
      service_name: 'api',
      queue_name: 'data_queue',
      event: 'start',
      description: `step ${index}`,
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
    });

    it('inserts a batch and skips events already stored or repeated within the batch', async () => {
      const correlationId = randomUUID();
      const batch = [event(correlationId, 1), event(correlationId, 2)];
      assert.equal(await logs.insertBatch(batch), 2);
      assert.equal(await logs.insertBatch([batch[1]!, event(correlationId, 3), batch[0]!]), 1);
      const repeated = event(correlationId, 4);
      assert.equal(await logs.insertBatch([repeated, repeated]), 1);
      assert.equal(await logs.insertBatch([]), 0);
      const stored = await logs.list({ correlation_id: correlationId, limit: 100, offset: 0 });
      assert.equal(stored.total, 4);
      assert.deepEqual(stored.items.map((row) => row.description), ['step 4', 'step 3', 'step 2', 'step 1']);
    });

    it('inserts a backlog far past the 65,535 parameters a statement may carry', async () => {
      const correlationId = randomUUID();
      const backlog = Array.from({ length: 10_000 }, (_, index) => event(correlationId, index));
      assert.equal(await logs.insertBatch(backlog), 10_000);
      assert.equal((await logs.list({ correlation_id: correlationId, limit: 1, offset: 0 })).total, 10_000);
    });

    it('filters by correlation id and task id, and pages', async () => {
      const correlationId = randomUUID();
      await logs.insertBatch([1, 2, 3, 4].map((index) => event(correlationId, index)));
      const byTask = await logs.list({ correlation_id: correlationId, task_id: 'task-2', limit: 10, offset: 0 });
      assert.equal(byTask.total, 1);
      assert.equal(byTask.items[0]!.description, 'step 2');
      assert.equal(byTask.items[0]!.created_at, '2026-01-01T00:00:02.000Z');
      const page = await logs.list({ correlation_id: correlationId, limit: 2, offset: 2 });
      assert.equal(page.total, 4);
      assert.deepEqual(page.items.map((row) => row.description), ['step 2', 'step 1']);
    });
  });
});
