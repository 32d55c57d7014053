#!/usr/bin/env node
/**
 * The migration job's composition root: `npm run migrate` locally, a Job on
 * Kubernetes. Creates the database first when CREATE_DATABASE=true (local runs).
 */
import { parseEnvOrExit, postgresEnv } from '../config.js';
import { createDatabase, ensureDatabaseExists } from '../db/database.js';
import { migrateToLatest } from '../db/migrations.js';
import { z } from 'zod';

const config = parseEnvOrExit('migrate', { ...postgresEnv, CREATE_DATABASE: z.enum(['true', 'false']).default('false') }, process.env);
if (config.CREATE_DATABASE === 'true') await ensureDatabaseExists(config.DATABASE_URL);
const db = createDatabase({ url: config.DATABASE_URL, poolMax: 1, connectTimeoutMs: 5_000, statementTimeoutMs: 120_000 });
try {
  const applied = await migrateToLatest(db);
  console.log(JSON.stringify({ level: 'info', service: 'migrate', applied, msg: applied.length ? 'migrations applied' : 'schema up to date' }));
} finally {
  await db.destroy();
}
