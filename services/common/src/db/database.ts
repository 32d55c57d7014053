import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { DependencyUnavailableError } from '../errors.js';
import type { Logger } from '../logging.js';

export type Database = Knex;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  /** Fails connection attempts fast so an outage becomes a 503, not a hang. */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
  /** Where knex reports pool trouble (failed connection attempts); its default is console. */
  logger?: Logger;
}

// timestamptz as ISO-8601 strings, the form every API response uses.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (value) => new Date(value).toISOString());
// bigint counts (COUNT(*)) fit comfortably in a double for any realistic table.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDatabase(options: DatabaseOptions): Database {
  const connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: options.url,
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      query_timeout: (options.statementTimeoutMs ?? 10_000) + 1_000,
      application_name: options.applicationName ?? 'flowgate',
      keepAlive: true,
    },
    pool: { min: 0, max: options.poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: connectTimeoutMs + 1_000,
    ...(options.logger ? { log: knexLog(options.logger) } : {}),
  });
}

function knexLog(logger: Logger): Knex.Config['log'] {
  return {
    warn: (message: unknown) => logger.warn({ knex: String(message) }, 'knex warning'),
    error: (message: unknown) => logger.error({ knex: String(message) }, 'knex error'),
    deprecate: (method: string, alternative: string) => logger.warn({ method, alternative }, 'knex deprecation'),
    debug: (message: unknown) => logger.debug({ knex: String(message) }, 'knex debug'),
  };
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** True for errors that mean "Postgres is not reachable right now" rather than "this query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'KnexTimeoutError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08 connection exceptions, 57P01-57P03 shutdown/cannot connect now, 53300 too many connections.
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
}

/** Runs a database call, turning connectivity failures into {@link DependencyUnavailableError}. */
export async function withDatabase<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isDatabaseUnavailable(error)) {
      throw new DependencyUnavailableError('postgres', 'PostgreSQL is not reachable', { cause: error });
    }
    throw error;
  }
}

/** Creates the database named in `url` if it does not exist (local runs and tests). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`refusing to create database with unusual name ${JSON.stringify(name)}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        // Another process created it between our check and our CREATE.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}
