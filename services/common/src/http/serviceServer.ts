import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<Record<string, boolean>> | Record<string, boolean>;

/**
 * The small HTTP server every non-HTTP service runs for Kubernetes probes and
 * Prometheus: `/health` (process alive), `/ready` (its dependencies), `/metrics`.
 */
export function createServiceServer(options: { registry: Registry; ready: ReadinessCheck; service: string }): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, contentType: string, body: string) => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'application/problem+json', JSON.stringify({ type: 'about:blank', title: 'Method Not Allowed', status: 405 }));
      return;
    }
    switch (path) {
      case '/health':
        send(200, 'application/json', JSON.stringify({ status: 'ok', service: options.service }));
        return;
      case '/ready':
        Promise.resolve(options.ready())
          .then((checks) => {
            const ready = Object.values(checks).every(Boolean);
            send(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
          })
          .catch(() => send(503, 'application/json', JSON.stringify({ status: 'not ready' })));
        return;
      case '/metrics':
        options.registry
          .metrics()
          .then((text) => send(200, options.registry.contentType, text))
          .catch(() => send(500, 'text/plain', 'metrics unavailable'));
        return;
      default:
        send(404, 'application/problem+json', JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
    }
  });
}
