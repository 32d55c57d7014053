import { isUtf8 } from 'node:buffer';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { bodyBudget } from './bodyBudget.js';
import { problems, ProblemError } from './problem.js';

const rawBodies = new WeakMap<Request, Buffer>();

/** The bytes the JSON body was parsed from (empty when there was none). */
export function rawBodyOf(request: Request): Buffer {
  return rawBodies.get(request) ?? Buffer.alloc(0);
}

/**
 * Exactly application/json (parameters aside; a charset must be UTF-8). Not
 * application/*+json: those name other formats with their own rules (JSON:API's
 * application/vnd.api+json, merge-patch, problem+json itself) that these routes
 * do not implement, so taking them as plain JSON would claim support we lack.
 */
const JSON_TYPE = 'application/json';

/**
 * JSON bodies only, within `limitBytes`, valid UTF-8: anything else is refused
 * before a route runs, with a problem that says which rule was broken. Bodies in
 * flight together stay within `budgetBytes` ({@link bodyBudget}).
 */
export function jsonBody(limitBytes: number, budgetBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = (request, _response, next) => {
    const isJson = request.is(JSON_TYPE);
    // type-is answers null when the request has no body at all.
    if (isJson === null || request.get('content-length') === '0') {
      next(problems.badRequest('the request body is empty; send a JSON object such as {"payload": "hello world"}'));
      return;
    }
    if (!isJson) {
      const given = request.get('content-type');
      next(problems.unsupportedMediaType(`send the body as application/json${given ? `, not ${given}` : ''}`));
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.get('content-type') ?? '')?.[1]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      next(problems.unsupportedMediaType(`charset ${charset} is not supported; send UTF-8`));
      return;
    }
    next();
  };
  const parse = express.json({
    limit: limitBytes,
    strict: false,
    type: JSON_TYPE,
    verify: (request, _response, buffer) => {
      if (!isUtf8(buffer)) {
        throw problems.invalidUtf8('the request body is not valid UTF-8');
      }
      rawBodies.set(request as Request, buffer);
    },
  });
  return [bodyBudget(budgetBytes, limitBytes), requireJson, parse];
}

/** A body over the limit: refused alike whether its size is announced (Expect: 100-continue) or read. */
export function bodyTooLarge(limitBytes: number): ProblemError {
  return problems.tooLarge(`the body exceeds the ${limitBytes}-byte limit`);
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  charset?: string;
  message: string;
}

/** Turns body-parser's (and the router's URL-decoding) errors into problems; passes everything else on. */
export function bodyParserErrors(limitBytes: number): ErrorRequestHandler {
  return (error: unknown, _request, _response, next) => {
    if (error instanceof ProblemError || !(error instanceof Error)) return next(error);
    // The router could not percent-decode a path parameter (e.g. /records/%FF): the caller's URL is at fault.
    if (error instanceof URIError) return next(problems.badRequest('the URL path contains an invalid percent-encoding'));
    const failure = error as BodyParserError;
    switch (failure.type) {
      case 'entity.parse.failed':
        return next(problems.malformedJson(`the body is not valid JSON: ${failure.message}`));
      case 'entity.too.large':
        return next(bodyTooLarge(limitBytes));
      case 'charset.unsupported':
        return next(problems.unsupportedMediaType(`charset ${failure.charset ?? ''} is not supported; use utf-8`));
      case 'encoding.unsupported':
        return next(problems.unsupportedMediaType('the Content-Encoding is not supported'));
      case 'request.aborted':
      case 'request.size.invalid':
        return next(problems.badRequest('the request body was incomplete'));
      case 'entity.verify.failed': {
        const cause = (error as { cause?: unknown }).cause;
        return next(cause instanceof ProblemError ? cause : problems.badRequest('the request body is not valid UTF-8'));
      }
      default:
        return next(error);
    }
  };
}
