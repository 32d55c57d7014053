import type { Metrics } from '@flowgate/common';
import type { Request, RequestHandler } from 'express';

/** The matched route template (`/api/v1/data/process-async/:task_id`), never the raw path, to bound label cardinality. */
export function routeTemplate(request: Request): string {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : 'unmatched';
}

export function httpMetrics(metrics: Pick<Metrics, 'httpRequests' | 'httpDuration'>): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    response.once('finish', () => {
      const labels = { method: request.method, route: routeTemplate(request), status: String(response.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}
