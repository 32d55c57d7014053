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

// One JSON parameter for the whole batch: no parameter limit to chunk around, and no statement
// for knex to build per batch. Redelivered events (same event id) are skipped.
const INSERT_EVENTS = `INSERT INTO task_logs (event_id, correlation_id, task_id, service_name, queue_name, event, description, created_at)
  SELECT e.event_id, e.correlation_id, e.task_id, e.service_name, e.queue_name, e.event, e.description, e.created_at
  FROM jsonb_to_recordset(?::jsonb) AS e(event_id uuid, correlation_id text, task_id text, service_name text,
                                         queue_name text, event text, description text, created_at timestamptz)
  ON CONFLICT (event_id) DO NOTHING`;

export function createTaskLogsRepository(db: Knex) {
  const table = () => db('task_logs');

  return {
    /** Inserts a batch in one statement; events already stored (redeliveries) are skipped. Returns rows inserted. */
    async insertBatch(events: TaskEvent[]): Promise<number> {
      if (events.length === 0) return 0;
      const rows = events.map(({ event_id, correlation_id, task_id, service_name, queue_name, event, description, created_at }) => ({
        event_id,
        correlation_id,
        task_id,
        service_name,
        queue_name,
        event,
        description,
        created_at,
      }));
      const result = await withDatabase(() => db.raw<{ rowCount: number | null }>(INSERT_EVENTS, [JSON.stringify(rows)]));
      return result.rowCount ?? 0;
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
