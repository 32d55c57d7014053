import type { Request, RequestHandler, Response } from 'express';

/**
 * What a route produces. Routes return results instead of writing to the
 * response so the idempotency layer can store and replay them verbatim.
 */
export interface HttpResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

/**
 * Writes a result with Node's own response methods: express's `send` would parse the content type to add
 * its charset and run a freshness check meant for cacheable GETs (these answers carry no ETag), which
 * cost a noticeable share of the api's CPU per request. Node itself leaves out the body of a HEAD answer.
 */
export function sendResult(response: Response, result: HttpResult): void {
  if (result.headers) for (const [name, value] of Object.entries(result.headers)) response.setHeader(name, value);
  response.statusCode = result.status;
  if (result.status === 204) {
    response.end();
    return;
  }
  const body = JSON.stringify(result.body);
  response.setHeader('Content-Type', `${result.contentType ?? 'application/json'}; charset=utf-8`);
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(body);
}

/** Adapts a result-returning route to express; thrown errors go to the error middleware. */
export function route(handler: (request: Request) => Promise<HttpResult>): RequestHandler {
  return async (request, response, next) => {
    try {
      sendResult(response, await handler(request));
    } catch (error) {
      next(error);
    }
  };
}
