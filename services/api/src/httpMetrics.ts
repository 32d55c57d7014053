import type { Metrics } from '@flowgate/common';
import type { Request, RequestHandler } from 'express';

/** The matched route template (`/api/v1/data/process-async/:task_id`), never the raw path, to bound label cardinality. */
export function routeTemplate(request: Request): string {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : 'unmatched';
}

/**
 * Remembers the template at the moment express dispatches to a route. Read at
 * `finish` instead, a route whose handler failed would lose its mount path:
 * once the error leaves the router, express has restored `request.baseUrl` to
 * the parent's, and a 404 for an unknown task would be labelled
 * `/process-async/:task_id`.
 */
function captureRouteTemplate(request: Request): () => string {
  let route: unknown;
  let template: string | undefined;
  Object.defineProperty(request, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set: (value: unknown) => {
      route = value;
      template ??= routeTemplate(request);
    },
  });
  return () => template ?? routeTemplate(request);
}

export function httpMetrics(metrics: Pick<Metrics, 'httpRequests' | 'httpDuration'>): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    const template = captureRouteTemplate(request);
    response.once('finish', () => {
      const labels = { method: request.method, route: template(), status: String(response.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}
