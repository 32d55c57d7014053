import { dataRequestSchema, errorMessage, type InFlight, type Logger } from '@flowgate/common';
import { Router, type Request, type RequestHandler } from 'express';
import { rawBodyOf } from '../bodyParsing.js';
import type { DataService } from '../dataService.js';
import { route, type HttpResult } from '../httpResult.js';
import type { RunIdempotently } from '../idempotency.js';
import { problemResult, problems, toProblemError } from '../problem.js';
import { assertOperationFits, validateBody } from '../validation.js';
import { allowOnly } from './allowOnly.js';
import { isTaskId, taskIdParam } from './taskId.js';

export interface DataRoutesDeps {
  dataService: DataService;
  runIdempotently: RunIdempotently;
  /** Identifies the caller for idempotency scoping. */
  callerScope: (request: Request) => string;
  basePath: string;
  logger: Logger;
  /** Content-type, size and UTF-8 checks plus JSON parsing, for the POST routes. */
  jsonBody: RequestHandler[];
  /** Tracks running POSTs so shutdown waits for them before closing the clients they use. */
  inFlight: InFlight;
}

export function dataRoutes(deps: DataRoutesDeps): Router {
  const router = Router();

  /**
   * Runs a POST with optional idempotency. Problems are turned into results
   * inside, so a 4xx is stored and replayed like a success; 5xx are not stored.
   */
  const idempotentPost = (template: string, handle: (request: Request) => Promise<HttpResult>) =>
    route(async (request) => {
      const run = () =>
        deps.inFlight.run(() => handle(request)).catch((error: unknown) => {
          const problem = toProblemError(error);
          // Logged here, inside the request's span, so the line carries its trace id.
          if (problem.status >= 500) deps.logger.warn({ err: errorMessage(error), status: problem.status, path: template }, 'request failed');
          return problemResult(problem, request.originalUrl);
        });
      const keys = request.headersDistinct['idempotency-key'];
      if (keys === undefined) return run();
      // Node joins repeated headers with ", "; two keys are a client bug, not one key.
      if (keys.length > 1) throw problems.badRequest('send one Idempotency-Key header, not several');
      const key = keys[0]!;
      return deps.runIdempotently(
        { key, scope: deps.callerScope(request), route: template, body: rawBodyOf(request) },
        run,
      );
    });

  router.post(
    '/process',
    ...deps.jsonBody,
    idempotentPost('/api/v1/data/process', async (request) => {
      const dataRequest = validateBody(dataRequestSchema, request.body);
      assertOperationFits(dataRequest);
      return { status: 200, body: await deps.dataService.processDataSync(dataRequest) };
    }),
  );

  router.post(
    '/process-async',
    ...deps.jsonBody,
    idempotentPost('/api/v1/data/process-async', async (request) => {
      const dataRequest = validateBody(dataRequestSchema, request.body);
      assertOperationFits(dataRequest);
      const response = await deps.dataService.processDataAsync(dataRequest);
      return {
        status: 202,
        body: response,
        headers: { Location: `${deps.basePath}/data/process-async/${response.task_id}` },
      };
    }),
  );

  router.get(
    '/process-async/:task_id',
    route(async (request) => {
      const taskId = taskIdParam(request);
      const unknown = problems.notFound(`no task with id ${JSON.stringify(taskId.slice(0, 100))}`);
      if (!isTaskId(taskId)) throw unknown;
      const answer = await deps.dataService.getTaskStatus(taskId);
      if (!answer.found) throw unknown;
      return {
        status: answer.finished ? 200 : 202,
        body: answer.response,
        ...(answer.finished ? {} : { headers: { 'Retry-After': '1' } }),
      };
    }),
  );

  router.all('/process', allowOnly('POST'));
  router.all('/process-async', allowOnly('POST'));
  router.all('/process-async/:task_id', allowOnly('GET'));

  return router;
}
