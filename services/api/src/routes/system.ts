import type { ReadinessCheck } from '@flowgate/common';
import type { Registry } from 'prom-client';
import { Router } from 'express';
import { route } from '../httpResult.js';
import { readinessAnswer, SERVING_NEEDS, SERVING_PROBE_PATH } from '../readiness.js';
import { allowOnly } from './allowOnly.js';

export function systemRoutes(deps: { registry: Registry; ready: ReadinessCheck; version: string; basePath: string }): Router {
  const router = Router();

  router.get(
    '/',
    route(async () => ({
      status: 200,
      body: {
        name: 'Flowgate',
        version: deps.version,
        description: 'Data-processing requests, synchronously over RabbitMQ RPC or asynchronously through BullMQ.',
        links: {
          sync: `${deps.basePath}/data/process`,
          async: `${deps.basePath}/data/process-async`,
          records: `${deps.basePath}/database/records`,
          logs: `${deps.basePath}/database/logs`,
          openapi: `${deps.basePath}/openapi.json`,
          docs: `${deps.basePath}/docs`,
          health: '/health',
          ready: '/ready',
          // No /metrics: it is served on the api's own port for Prometheus only, and nginx and the
          // Ingress answer it 404, so a public link to it would be a dead one.
        },
      },
    })),
  );

  // Liveness: the process answers; dependencies are /ready's business.
  router.get('/health', route(async () => ({ status: 200, body: { status: 'ok' } })));

  // For humans, monitors and start-up scripts: 503 while any dependency is down.
  router.get('/ready', route(async () => readinessAnswer(await deps.ready())));

  // Kubernetes' readinessProbe: the same checks in the body, but 503 only when what every data
  // route needs is down (see SERVING_NEEDS), so one broker's outage does not empty the Service.
  router.get(SERVING_PROBE_PATH, route(async () => readinessAnswer(await deps.ready(), SERVING_NEEDS)));

  router.get('/metrics', async (_request, response, next) => {
    try {
      response.type(deps.registry.contentType).send(await deps.registry.metrics());
    } catch (error) {
      next(error);
    }
  });

  for (const path of ['/', '/health', '/ready', SERVING_PROBE_PATH, '/metrics']) router.all(path, allowOnly('GET'));

  return router;
}
