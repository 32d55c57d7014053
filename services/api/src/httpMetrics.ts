import type { Metrics } from '@flowgate/common';
import type { Express, Request, RequestHandler } from 'express';

const ROUTE = Symbol('flowgate.route');
const TEMPLATE = Symbol('flowgate.routeTemplate');
type TemplatedRequest = Request & { [ROUTE]?: unknown; [TEMPLATE]?: string };

/** The matched route template (`/api/v1/data/process-async/:task_id`), never the raw path, to bound label cardinality. */
export function routeTemplate(request: Request): string {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : 'unmatched';
}

/**
 * Makes the app's requests remember their route template at the moment express
 * dispatches to a route. Read at `finish` instead, a route whose handler failed
 * would lose its mount path: once the error leaves the router, express has
 * restored `request.baseUrl` to the parent's, and a 404 for an unknown task
 * would be labelled `/process-async/:task_id`.
 *
 * The accessor sits on the app's request prototype. Defined on each request
 * instead, it gave every request object a hidden class of its own, and every
 * property access express makes got slower: a bare express app lost a quarter
 * of its throughput to it.
 */
export function recordRouteTemplates(app: Express): void {
  Object.defineProperty(app.request, 'route', {
    configurable: true,
    enumerable: true,
    get(this: TemplatedRequest) {
      return this[ROUTE];
    },
    set(this: TemplatedRequest, value: unknown) {
      this[ROUTE] = value;
      this[TEMPLATE] ??= routeTemplate(this);
    },
  });
}

/** Request counts and durations by method, route template and status; needs {@link recordRouteTemplates}. */
export function httpMetrics(metrics: Pick<Metrics, 'httpRequests' | 'httpDuration'>): RequestHandler {
  return (request: TemplatedRequest, response, next) => {
    const started = performance.now();
    response.once('finish', () => {
      const labels = { method: request.method, route: request[TEMPLATE] ?? routeTemplate(request), status: String(response.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}
