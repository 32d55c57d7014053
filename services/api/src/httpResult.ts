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

export function sendResult(response: Response, result: HttpResult): void {
  if (result.headers) response.set(result.headers);
  if (result.status === 204) {
    response.status(204).end();
    return;
  }
  response
    .status(result.status)
    .type(result.contentType ?? 'application/json')
    .send(JSON.stringify(result.body));
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
