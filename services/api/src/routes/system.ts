import type { ReadinessCheck } from '@flowgate/common';
import type { Registry } from 'prom-client';
import { Router } from 'express';
import { route } from '../httpResult.js';
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

  router.get(
    '/ready',
    route(async () => {
      const checks = await deps.ready();
      const ready = Object.values(checks).every(Boolean);
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', checks } };
    }),
  );

  router.get('/metrics', async (_request, response, next) => {
    try {
      response.type(deps.registry.contentType).send(await deps.registry.metrics());
    } catch (error) {
      next(error);
    }
  });

  for (const path of ['/', '/health', '/ready', '/metrics']) router.all(path, allowOnly('GET'));

  return router;
}
