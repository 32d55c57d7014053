import type { Knex } from 'knex';

interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

const createDataRecords: Migration = {
  name: '20261203_001_create_data_records',
  async up(db) {
    await db.schema.createTable('data_records', (table) => {
      table.bigIncrements('id').primary();
      table.uuid('task_id').notNullable().unique();
      table.text('mode').notNullable().checkIn(['sync', 'async'], 'data_records_mode_check');
      table.jsonb('payload').notNullable();
      table.text('description').notNullable();
      table
        .text('task_status')
        .notNullable()
        .checkIn(['Processing', 'Success', 'Failed'], 'data_records_task_status_check');
      table.jsonb('outcome');
      table.jsonb('error');
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      // The records endpoint lists newest first, optionally filtered by status.
      table.index(['created_at', 'id'], 'data_records_created_at_idx');
      table.index(['task_status', 'created_at', 'id'], 'data_records_status_created_at_idx');
    });
  },
  async down(db) {
    await db.schema.dropTable('data_records');
  },
};

const createTaskLogs: Migration = {
  name: '20261203_002_create_task_logs',
  async up(db) {
    await db.schema.createTable('task_logs', (table) => {
      table.bigIncrements('id').primary();
      // Redelivered events carry the same id; the unique index makes re-inserting them a no-op.
      table.uuid('event_id').notNullable().unique();
      table.text('correlation_id').notNullable();
      table.text('task_id').notNullable();
      table.text('service_name').notNullable();
      table.text('queue_name').notNullable();
      table.text('event').notNullable();
      table.text('description').notNullable();
      table.timestamp('created_at', { useTz: true }).notNullable();
      table.timestamp('inserted_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      table.index(['correlation_id', 'created_at'], 'task_logs_correlation_id_idx');
      table.index(['task_id', 'created_at'], 'task_logs_task_id_idx');
      table.index(['created_at', 'id'], 'task_logs_created_at_idx');
    });
  },
  async down(db) {
    await db.schema.dropTable('task_logs');
  },
};

const migrations: Migration[] = [createDataRecords, createTaskLogs];

/** Migrations live in code rather than a directory so they ship inside the compiled package. */
const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations,
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => ({ up: migration.up, down: migration.down }),
};

/** Applies pending migrations; knex's lock table makes concurrent runs (several pods, a Job) safe. */
export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

