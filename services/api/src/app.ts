import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import type { InFlight, Logger, Metrics, ReadinessCheck, RecordsRepository, TaskLogsRepository } from '@flowgate/common';
import { bodyParserErrors, jsonBody } from './bodyParsing.js';
import type { DataService } from './dataService.js';
import { sendResult } from './httpResult.js';
import { httpMetrics, recordRouteTemplates } from './httpMetrics.js';
import type { RunIdempotently } from './idempotency.js';
import { buildOpenApiDocument } from './openapi.js';
import { problemResult, problems, toProblemError } from './problem.js';
import { dataRoutes } from './routes/data.js';
import { databaseRoutes } from './routes/database.js';
import { allowOnly } from './routes/allowOnly.js';
import { docsRoutes } from './routes/docs.js';
import { systemRoutes } from './routes/system.js';
import { trustProxyFunction } from './trustProxy.js';

export const API_BASE_PATH = '/api/v1';

export interface AppDeps {
  dataService: DataService;
  records: Pick<RecordsRepository, 'list' | 'get' | 'delete'>;
  taskLogs: Pick<TaskLogsRepository, 'list'>;
  runIdempotently: RunIdempotently;
  metrics: Pick<Metrics, 'registry' | 'httpRequests' | 'httpDuration'>;
  ready: ReadinessCheck;
  logger: Logger;
  bodyLimitBytes: number;
  /** Request-body bytes handled at once before requests are refused with a 503. */
  bodyBudgetBytes: number;
  version: string;
  /** Middleware run before every route (authentication, rate limits, headers). */
  guards?: RequestHandler[];
  requireDeletePermission?: RequestHandler;
  forgetJob?: (taskId: string) => Promise<void>;
  callerScope?: (request: Request) => string;
  inFlight: InFlight;
  /** Which proxies' X-Forwarded-For to believe (express `trust proxy`). */
  trustProxy?: string;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('trust proxy', trustProxyFunction(deps.trustProxy ?? 'loopback'));

  recordRouteTemplates(app);
  app.use(httpMetrics(deps.metrics));
  for (const guard of deps.guards ?? []) app.use(guard);

  // The data routes first: a request passes through every router mounted before its own (the
  // system router sits at the root and tries each of its paths), and these carry the load.
  app.use(
    `${API_BASE_PATH}/data`,
    dataRoutes({
      dataService: deps.dataService,
      runIdempotently: deps.runIdempotently,
      callerScope: deps.callerScope ?? (() => 'anonymous'),
      basePath: API_BASE_PATH,
      jsonBody: jsonBody(deps.bodyLimitBytes, deps.bodyBudgetBytes),
      logger: deps.logger,
      inFlight: deps.inFlight,
    }),
  );

  app.use(
    `${API_BASE_PATH}/database`,
    databaseRoutes({
      records: deps.records,
      taskLogs: deps.taskLogs,
      ...(deps.requireDeletePermission ? { requireDeletePermission: deps.requireDeletePermission } : {}),
      ...(deps.forgetJob ? { forgetJob: deps.forgetJob } : {}),
    }),
  );

  app.use(systemRoutes({ registry: deps.metrics.registry, ready: deps.ready, version: deps.version, basePath: API_BASE_PATH }));

  const openApi = buildOpenApiDocument({ version: deps.version, basePath: API_BASE_PATH });
  app.get(`${API_BASE_PATH}/openapi.json`, (_request, response) => {
    response.json(openApi);
  });
  app.all(`${API_BASE_PATH}/openapi.json`, allowOnly('GET'));
  app.use(`${API_BASE_PATH}/docs`, docsRoutes(`${API_BASE_PATH}/openapi.json`));

  app.use((request, _response, next) => {
    next(problems.notFound(`no route for ${request.method} ${request.path.slice(0, 200)}`));
  });
  app.use(bodyParserErrors(deps.bodyLimitBytes));
  const errorHandler: ErrorRequestHandler = (error: unknown, request, response, _next) => {
    const problem = toProblemError(error);
    if (problem.status >= 500) deps.logger.error({ err: error, path: request.path }, 'request failed');
    if (response.headersSent) {
      response.destroy();
      return;
    }
    sendResult(response, problemResult(problem, request.originalUrl.slice(0, 500)));
  };
  app.use(errorHandler);
  return app;
}
