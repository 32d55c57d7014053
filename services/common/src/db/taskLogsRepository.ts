import type { Knex } from 'knex';
import type { TaskEvent } from '../contracts.js';
import { withDatabase } from './database.js';
import type { Page } from './recordsRepository.js';

export interface TaskLogRow extends Omit<TaskEvent, 'event_id'> {
  id: number;
  event_id: string;
}

export interface ListTaskLogsQuery {
  correlation_id?: string;
  task_id?: string;
  limit: number;
  offset: number;
}

/** Eight columns a row: 2,000 rows stay well under PostgreSQL's parameter limit. */
const ROWS_PER_STATEMENT = 2_000;

export function createTaskLogsRepository(db: Knex) {
  const table = () => db('task_logs');

  return {
    /** Inserts a batch in one statement; events already stored (redeliveries) are skipped. Returns rows inserted. */
    async insertBatch(events: TaskEvent[]): Promise<number> {
      if (events.length === 0) return 0;
      return withDatabase(async () => {
        const rows = events.map(({ trace: _trace, ...row }) => row);
        if (rows.length <= ROWS_PER_STATEMENT) {
          return (await table().insert(rows).onConflict('event_id').ignore().returning('id')).length;
        }
        // PostgreSQL takes at most 65,535 parameters a statement: large batches go in chunks, in one transaction.
        return db.transaction(async (transaction) => {
          let inserted = 0;
          for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
            const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
            inserted += (await transaction('task_logs').insert(chunk).onConflict('event_id').ignore().returning('id')).length;
          }
          return inserted;
        });
      });
    },

    async list(query: ListTaskLogsQuery): Promise<Page<TaskLogRow>> {
      return withDatabase(async () => {
        const filtered = () => {
          const builder = table();
          if (query.correlation_id) builder.where({ correlation_id: query.correlation_id });
          if (query.task_id) builder.where({ task_id: query.task_id });
          return builder;
        };
        const [items, countRow] = await Promise.all([
          filtered()
            .select('id', 'event_id', 'correlation_id', 'task_id', 'service_name', 'queue_name', 'event', 'description', 'created_at')
            .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
            .limit(query.limit)
            .offset(query.offset),
          filtered().count<{ count: number }[]>({ count: '*' }).first(),
        ]);
        return { items: items as TaskLogRow[], total: Number(countRow?.count ?? 0), limit: query.limit, offset: query.offset };
      });
    },
  };
}

export type TaskLogsRepository = ReturnType<typeof createTaskLogsRepository>;
