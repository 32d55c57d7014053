import type { Knex } from 'knex';
import type { DataRecord, Outcome, TaskError, TaskStatus } from '../contracts.js';
import { withDatabase } from './database.js';

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

// pg would send a JS array as a Postgres array, not JSON; jsonb values are always sent as text.
/** A payload is any JSON value, `null` included: stored as the JSON text `null`, never SQL NULL. */
const jsonValue = (value: unknown) => JSON.stringify(value ?? null);
/** Outcome and error columns: absent is SQL NULL. */
const optionalJson = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

// The two inserts on the request path skip knex's query builder: a fixed statement costs a
// fraction of building one per request.
const INSERT_RECORD = `INSERT INTO data_records (task_id, mode, payload, description, task_status, outcome, error)
  VALUES (?, ?, ?::jsonb, ?, ?, ?::jsonb, ?::jsonb)`;

type FinalRecord = NewRecord & { task_status: TaskStatus; outcome: Outcome | null; error: TaskError | null };

/** Bindings for {@link INSERT_RECORD}, in its column order. */
function rowValues(record: FinalRecord) {
  return [
    record.task_id,
    record.mode,
    jsonValue(record.payload),
    record.description,
    record.task_status,
    optionalJson(record.outcome),
    optionalJson(record.error),
  ];
}

export function createRecordsRepository(db: Knex) {
  const table = () => db<DataRecord>('data_records');

  return {
    /** A finished sync request: one row, written once. */
    async insertFinished(record: FinalRecord) {
      await withDatabase(() => db.raw(INSERT_RECORD, rowValues(record)));
    },

    /** An accepted async request, before its job exists, so Postgres knows every task id ever answered 202. */
    async insertProcessing(record: NewRecord) {
      await withDatabase(() => db.raw(INSERT_RECORD, rowValues({ ...record, task_status: 'Processing', outcome: null, error: null })));
    },

    /**
     * The final state of an async task. Keyed by task id, so a retried or
     * re-delivered job updates its row instead of adding one; a Success is never
     * overwritten by a later attempt's failure.
     */
    async upsertFinal(record: FinalRecord & { task_status: 'Success' | 'Failed' }) {
      await withDatabase(() =>
        db.raw(
          `${INSERT_RECORD}
           ON CONFLICT (task_id) DO UPDATE
             SET task_status = EXCLUDED.task_status, outcome = EXCLUDED.outcome,
                 error = EXCLUDED.error, updated_at = now()
             WHERE data_records.task_status <> 'Success'`,
          rowValues(record),
        ),
      );
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
