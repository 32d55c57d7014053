import type { RequestHandler } from 'express';
import { problems } from './problem.js';

/**
 * Bounds the request-body bytes being handled at once. A body lives several
 * times over while its request runs (the raw bytes, the parsed value, the RPC
 * message, the record's JSON, the reply): 64 concurrent 1 MiB requests took the
 * api to ~490 MB, near its 512 MiB limit on Kubernetes. Past the budget a request
 * is refused at once with a 503 and Retry-After, before its body is read, rather
 * than the process growing until it is killed. One request is always admitted
 * when nothing else is in flight, whatever its size.
 */
export function bodyBudget(budgetBytes: number, limitBytes: number): RequestHandler {
  let inFlightBytes = 0;
  return (request, response, next) => {
    const declared = Number(request.get('content-length'));
    // A chunked body has no declared length: count it at the most it may be.
    const size = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limitBytes) : limitBytes;
    if (inFlightBytes > 0 && inFlightBytes + size > budgetBytes) {
      next(problems.unavailable('too many large requests are in progress; retry shortly'));
      return;
    }
    inFlightBytes += size;
    // 'close' follows both a finished response and a client that went away.
    response.once('close', () => {
      inFlightBytes -= size;
    });
    next();
  };
}
