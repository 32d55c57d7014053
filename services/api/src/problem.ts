import { DependencyUnavailableError, ProcessingError, RpcTimeoutError, type OperationName } from '@flowgate/common';
import type { HttpResult } from './httpResult.js';

const PROBLEM_BASE = 'https://flowgate.dev/problems/';

/** RFC 9457 problem details. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

/**
 * One entry of a validation problem's `errors`: `pointer` is an RFC 6901 JSON
 * Pointer into the request body ("" is the whole body); `parameter` names a
 * query parameter.
 */
export type FieldError = { pointer: string; detail: string } | { parameter: string; detail: string };

/** An error that already knows its HTTP problem. Thrown anywhere below a route. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const problems = {
  malformedJson: (detail: string) => new ProblemError(400, 'malformed-json', 'Malformed JSON', detail),
  badRequest: (detail: string) => new ProblemError(400, 'bad-request', 'Bad Request', detail),
  malformedHttp: (detail: string) => new ProblemError(400, 'malformed-http', 'Bad Request', detail),
  unauthorized: (detail: string) =>
    new ProblemError(401, 'unauthorized', 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="flowgate"' }),
  notFound: (detail: string) => new ProblemError(404, 'not-found', 'Not Found', detail),
  methodNotAllowed: (detail: string, allow: string) =>
    new ProblemError(405, 'method-not-allowed', 'Method Not Allowed', detail, {}, { Allow: allow }),
  conflict: (detail: string) => new ProblemError(409, 'conflict', 'Conflict', detail, {}, { 'Retry-After': '1' }),
  headersTooLarge: (detail: string) => new ProblemError(431, 'headers-too-large', 'Request Header Fields Too Large', detail),
  tooLarge: (detail: string) => new ProblemError(413, 'payload-too-large', 'Payload Too Large', detail),
  expectationFailed: (detail: string) => new ProblemError(417, 'expectation-failed', 'Expectation Failed', detail),
  unsupportedMediaType: (detail: string) => new ProblemError(415, 'unsupported-media-type', 'Unsupported Media Type', detail),
  validation: (detail: string, errors: FieldError[]) =>
    new ProblemError(422, 'validation-error', 'Validation Error', detail, { errors }),
  unsupportedOperation: (detail: string, supported: readonly OperationName[]) =>
    new ProblemError(422, 'unsupported-operation', 'Unsupported Operation', detail, { supported_operations: supported }),
  idempotencyMismatch: (detail: string) =>
    new ProblemError(422, 'idempotency-key-reused', 'Idempotency Key Reused', detail),
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    new ProblemError(429, 'rate-limited', 'Too Many Requests', detail, {}, { 'Retry-After': String(retryAfterSeconds) }),
  notImplemented: (detail: string) => new ProblemError(501, 'method-not-implemented', 'Not Implemented', detail),
  unavailable: (detail: string, retryAfterSeconds = 1) =>
    new ProblemError(503, 'service-unavailable', 'Service Unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) }),
  timeout: (detail: string) => new ProblemError(504, 'processing-timeout', 'Processing Timeout', detail),
  internal: () => new ProblemError(500, 'internal-error', 'Internal Server Error', 'An unexpected error occurred; it has been logged.'),
};

/** Maps any error to a problem; unknown errors become a 500 with no internals exposed. */
export function toProblemError(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof DependencyUnavailableError) {
    return problems.unavailable(`${dependencyNames[error.dependency]} is unavailable; retry shortly`);
  }
  if (error instanceof RpcTimeoutError) {
    return problems.timeout(`the processor did not answer within ${error.timeoutMs} ms`);
  }
  if (error instanceof ProcessingError) {
    return new ProblemError(422, error.type, 'Processing Failed', error.detail, {
      ...(error.supportedOperations ? { supported_operations: error.supportedOperations } : {}),
    });
  }
  return problems.internal();
}

const dependencyNames = { rabbitmq: 'RabbitMQ', redis: 'Redis', postgres: 'PostgreSQL' } as const;

export function problemResult(error: ProblemError, instance?: string): HttpResult {
  const body: Problem = {
    type: PROBLEM_BASE + error.slug,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...error.extensions,
  };
  return { status: error.status, body, headers: error.headers, contentType: 'application/problem+json' };
}
