import type { Knex } from 'knex';
import type { DataRecord, Outcome, TaskError, TaskStatus } from '../contracts.js';
import { withDatabase } from './database.js';
import { WriteBatcher } from './writeBatcher.js';

export interface NewRecord {
  task_id: string;
  mode: 'sync' | 'async';
  payload: unknown;
  description: string;
}

export interface ListRecordsQuery {
  status?: TaskStatus;
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

const columns: string[] = [
  'task_id',
  'mode',
  'payload',
  'description',
  'task_status',
  'outcome',
  'error',
  'created_at',
  'updated_at',
];

type FinalRecord = NewRecord & { task_status: TaskStatus; outcome: Outcome | null; error: TaskError | null };

// The request path's writes skip knex's query builder and take every row of a batch as one JSON
// parameter, so the statement text never changes. JSON null becomes SQL NULL in
// jsonb_to_recordset, which is right for outcome and error; a payload of null stays JSON null.
const INSERT_RECORDS = `INSERT INTO data_records (task_id, mode, payload, description, task_status, outcome, error)
  SELECT r.task_id, r.mode, COALESCE(r.payload, 'null'::jsonb), r.description, r.task_status, r.outcome, r.error
  FROM jsonb_to_recordset(?::jsonb)
    AS r(task_id uuid, mode text, payload jsonb, description text, task_status text, outcome jsonb, error jsonb)`;

/** A final state never replaces a Success: a late failed attempt must not undo it. */
const UPSERT_RECORDS = `${INSERT_RECORDS}
  ON CONFLICT (task_id) DO UPDATE
    SET task_status = EXCLUDED.task_status, outcome = EXCLUDED.outcome,
        error = EXCLUDED.error, updated_at = now()
    WHERE data_records.task_status <> 'Success'`;

/** The columns a write sets, and nothing else the caller's object carries. */
function toJsonRow(record: FinalRecord) {
  const { task_id, mode, payload, description, task_status, outcome, error } = record;
  return { task_id, mode, payload, description, task_status, outcome, error };
}

export interface RecordsRepositoryOptions {
  /**
   * Concurrent request-path writes share statements ({@link WriteBatcher}):
   * at most `maxConcurrent` run at once per kind of write, each with up to
   * `maxBatchSize` rows. Keep `maxConcurrent` well below the pool size so
   * reads always find a connection.
   */
  batching?: { maxBatchSize: number; maxConcurrent: number };
}

const DEFAULT_BATCHING = { maxBatchSize: 100, maxConcurrent: 4 };

export function createRecordsRepository(db: Knex, options: RecordsRepositoryOptions = {}) {
  const table = () => db<DataRecord>('data_records');
  const batching = options.batching ?? DEFAULT_BATCHING;
  const batcher = (statement: string) =>
    new WriteBatcher<FinalRecord>({
      ...batching,
      writeMany: async (rows) => {
        await withDatabase(() => db.raw(statement, [JSON.stringify(rows.map(toJsonRow))]));
      },
    });
  const inserts = batcher(INSERT_RECORDS);
  const upserts = batcher(UPSERT_RECORDS);

  return {
    /** A finished sync request: one row, written once. */
    insertFinished(record: FinalRecord): Promise<void> {
      return inserts.write(record);
    },

    /** An accepted async request, before its job exists, so Postgres knows every task id ever answered 202. */
    insertProcessing(record: NewRecord): Promise<void> {
      return inserts.write({ ...record, task_status: 'Processing', outcome: null, error: null });
    },

    /**
     * The final state of an async task. Keyed by task id, so a retried or
     * re-delivered job updates its row instead of adding one; a Success is never
     * overwritten by a later attempt's failure.
     */
    upsertFinal(record: FinalRecord & { task_status: 'Success' | 'Failed' }): Promise<void> {
      return upserts.write(record);
    },

    async get(taskId: string): Promise<DataRecord | undefined> {
      return withDatabase(() => table().select(columns).where({ task_id: taskId }).first() as Promise<DataRecord | undefined>);
    },

    async list(query: ListRecordsQuery): Promise<Page<DataRecord>> {
      return withDatabase(async () => {
        const filtered = () => (query.status ? table().where({ task_status: query.status }) : table());
        const [items, countRow] = await Promise.all([
          filtered().select(columns).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit).offset(query.offset),
          filtered().count<{ count: number }[]>({ count: '*' }).first(),
        ]);
        return { items: items as unknown as DataRecord[], total: Number(countRow?.count ?? 0), limit: query.limit, offset: query.offset };
      });
    },

    /**
     * Deletes a finished record. A task still Processing is left alone: its worker
     * would write the row back when it finishes.
     */
    async delete(taskId: string): Promise<'deleted' | 'processing' | 'missing'> {
      return withDatabase(async () => {
        if ((await table().where({ task_id: taskId }).whereNot({ task_status: 'Processing' }).delete()) > 0) return 'deleted';
        return (await table().where({ task_id: taskId }).first('task_id')) ? 'processing' : 'missing';
      });
    },

    /**
     * Async tasks still Processing whose row has not changed for `olderThanSeconds`:
     * candidates for re-enqueueing when Redis lost their job.
     */
    async findStaleProcessing(olderThanSeconds: number, limit: number): Promise<DataRecord[]> {
      return withDatabase(
        () =>
          table()
            .select(columns)
            .where({ task_status: 'Processing', mode: 'async' })
            .andWhere('updated_at', '<', db.raw(`now() - make_interval(secs => ?)`, [olderThanSeconds]))
            .orderBy('updated_at')
            .limit(limit) as unknown as Promise<DataRecord[]>,
      );
    },

    /** Marks a Processing row as seen, so the next recovery pass does not pick it again at once. */
    async touch(taskId: string): Promise<void> {
      await withDatabase(() => table().where({ task_id: taskId, task_status: 'Processing' }).update({ updated_at: db.fn.now() } as never));
    },

    /** Undoes {@link insertProcessing} when the job could not be enqueued, so no 503'd task lingers. */
    async deleteIfProcessing(taskId: string): Promise<void> {
      await withDatabase(() => table().where({ task_id: taskId, task_status: 'Processing' }).delete());
    },
  };
}

export type RecordsRepository = ReturnType<typeof createRecordsRepository>;
