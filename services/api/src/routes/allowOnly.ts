import type { RequestHandler } from 'express';
import { problems } from '../problem.js';

/** Mounted after a path's real handlers: any other method is a 405 naming the allowed ones. */
export function allowOnly(methods: string): RequestHandler {
  return (request, _response, next) => next(problems.methodNotAllowed(`${request.method} is not allowed here; use ${methods}`, methods));
}
