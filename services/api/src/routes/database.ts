import type { RecordsRepository, TaskLogsRepository } from '@flowgate/common';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { route } from '../httpResult.js';
import { problems } from '../problem.js';
import { validateQuery } from '../validation.js';
import { allowOnly } from './allowOnly.js';
import { isTaskId, taskIdParam } from './taskId.js';

/** A non-negative integer in plain decimal digits: no sign, exponent, fraction, hex, whitespace or leading zero. */
const DECIMAL_DIGITS = /^(0|[1-9][0-9]*)$/;

/**
 * An integer query parameter. Only plain decimal digits are read as a number
 * ("1e3", "+5", "05", "0x10", " 5" are not, though Number() would take them);
 * every way of getting it wrong (not digits, out of range, beyond 2^53) gets one
 * message with the bounds, once, rather than zod's "expected number, received NaN".
 */
function integerParameter(min: number, max: number, fallback: number, description: string) {
  const error = `must be an integer from ${min} to ${max} in plain decimal digits`;
  return z
    .preprocess(
      (value) => (typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value),
      // abort: a number past 2^53 fails int and max alike; it is reported once.
      z.number({ error }).int({ error, abort: true }).min(min, { error, abort: true }).max(max, { error }).default(fallback),
    )
    .describe(`${description} Plain decimal digits only: no sign, exponent or leading zero.`);
}

export const pagingQuery = {
  limit: integerParameter(1, 100, 20, 'Items per page, 1-100.'),
  offset: integerParameter(0, 1_000_000, 0, 'Items to skip, 0-1000000.'),
};

const statuses = ['Processing', 'Success', 'Failed'] as const;

export const listRecordsQuerySchema = z.strictObject({
  ...pagingQuery,
  status: z
    .enum(statuses, { error: `must be one of ${statuses.join(', ')}` })
    .optional()
    .describe('Only records with this task_status.'),
});

// PostgreSQL text cannot hold NUL, so such a filter can match nothing and would fail the query.
const logFilter = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(255, { error: 'must be at most 255 characters' })
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL (U+0000)');

export const listLogsQuerySchema = z.strictObject({
  ...pagingQuery,
  correlation_id: logFilter.optional().describe('Only events of this RPC correlation id.'),
  task_id: logFilter.optional().describe('Only events of this task.'),
});

export interface DatabaseRoutesDeps {
  records: Pick<RecordsRepository, 'list' | 'get' | 'delete'>;
  taskLogs: Pick<TaskLogsRepository, 'list'>;
  /** Guards DELETE (API key check); a no-op passthrough when unset. */
  requireDeletePermission?: RequestHandler;
  /** Removes a deleted task's finished job from the queue store, so polls agree with the records. */
  forgetJob?: (taskId: string) => Promise<void>;
}

export function databaseRoutes(deps: DatabaseRoutesDeps): Router {
  const router = Router();
  const notFound = (taskId: string) => problems.notFound(`no record with task_id ${JSON.stringify(taskId.slice(0, 100))}`);

  router.get(
    '/records',
    route(async (request) => ({ status: 200, body: await deps.records.list(validateQuery(listRecordsQuerySchema, request.query)) })),
  );

  router.get(
    '/records/:task_id',
    route(async (request) => {
      const taskId = taskIdParam(request);
      const record = isTaskId(taskId) ? await deps.records.get(taskId) : undefined;
      if (!record) throw notFound(taskId);
      return { status: 200, body: record };
    }),
  );

  router.delete(
    '/records/:task_id',
    ...(deps.requireDeletePermission ? [deps.requireDeletePermission] : []),
    route(async (request) => {
      const taskId = taskIdParam(request);
      const outcome = isTaskId(taskId) ? await deps.records.delete(taskId) : 'missing';
      if (outcome === 'missing') throw notFound(taskId);
      if (outcome === 'processing') throw problems.conflict('the task is still processing; delete its record once it has finished');
      // Redis would otherwise keep answering polls for the task until the job expires.
      await deps.forgetJob?.(taskId).catch(() => undefined);
      return { status: 204, body: null };
    }),
  );

  router.get(
    '/logs',
    route(async (request) => ({ status: 200, body: await deps.taskLogs.list(validateQuery(listLogsQuerySchema, request.query)) })),
  );

  router.all('/records', allowOnly('GET'));
  router.all('/records/:task_id', allowOnly('GET, DELETE'));
  router.all('/logs', allowOnly('GET'));

  return router;
}
