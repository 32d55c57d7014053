import type { Knex } from 'knex';
import { isDatabaseUnavailable } from './database.js';

export interface DatabaseHealthOptions {
  /** How long a successful query vouches for the database. */
  freshForMs: number;
}

/**
 * Answers "is PostgreSQL reachable?" for readiness probes without adding to the
 * load that could make it look unreachable. A query that succeeded in the last
 * `freshForMs` (and no connection failure since) is the answer; only otherwise
 * does the check run `select 1`. A probe that always queried would wait in the
 * same pool as the requests, so under a burst it could time out on a healthy
 * database and take a busy pod out of service.
 */
export function createDatabaseHealth(db: Knex, options: DatabaseHealthOptions): () => Promise<boolean> {
  let lastSuccessAt = Number.NEGATIVE_INFINITY;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  db.on('query-response', () => {
    lastSuccessAt = Date.now();
  });
  const failed = () => {
    lastFailureAt = Date.now();
  };
  db.on('query-error', (error: unknown) => {
    if (isDatabaseUnavailable(error)) failed();
  });
  // A connection that cannot be opened never reaches a query: the pool (tarn) reports those itself.
  // Not acquireFail: a wait for a busy pool's connection timing out is saturation, not an outage.
  const pool = (db.client as { pool?: { on(event: string, listener: () => void): void } }).pool;
  pool?.on('createFail', failed);
  return async () => {
    if (lastSuccessAt > lastFailureAt && Date.now() - lastSuccessAt < options.freshForMs) return true;
    try {
      await db.raw('select 1');
      return true;
    } catch {
      failed();
      return false;
    }
  };
}
