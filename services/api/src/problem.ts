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

/**
 * Every problem type Flowgate answers with, and its one title (RFC 9457 §3.1.3:
 * the title is the same for every occurrence of a type). Types from the
 * processor's refusals and nginx's own error pages are here too, so a type
 * cannot get a second title by taking another path out.
 */
export const problemTitles = {
  'malformed-json': 'Malformed JSON',
  'bad-request': 'Bad Request',
  'malformed-http': 'Bad Request',
  'invalid-utf8': 'Invalid UTF-8',
  unauthorized: 'Unauthorized',
  'not-found': 'Not Found',
  'method-not-allowed': 'Method Not Allowed',
  conflict: 'Conflict',
  'payload-too-large': 'Payload Too Large',
  'uri-too-long': 'URI Too Long', // nginx only
  'unsupported-media-type': 'Unsupported Media Type',
  'expectation-failed': 'Expectation Failed',
  'validation-error': 'Validation Error',
  'unsupported-operation': 'Unsupported Operation',
  'non-finite-result': 'Non-Finite Result', // the processor's refusal
  'malformed-request': 'Malformed Request', // the processor's refusal of an RPC it cannot read
  'processing-failed': 'Processing Failed', // a processor refusal of a type not listed here
  'idempotency-key-reused': 'Idempotency Key Reused',
  'rate-limited': 'Too Many Requests',
  'headers-too-large': 'Request Header Fields Too Large',
  'internal-error': 'Internal Server Error',
  'method-not-implemented': 'Not Implemented',
  'not-implemented': 'Not Implemented', // nginx only: an unknown Transfer-Encoding
  'service-unavailable': 'Service Unavailable',
  'processing-timeout': 'Processing Timeout',
  'http-version-not-supported': 'HTTP Version Not Supported', // nginx only
} as const satisfies Record<string, string>;

export type ProblemSlug = keyof typeof problemTitles;

function isProblemSlug(type: string): type is ProblemSlug {
  return Object.hasOwn(problemTitles, type);
}

/** An error that already knows its HTTP problem. Thrown anywhere below a route; its title comes from `problemTitles`. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly title: string;
  constructor(
    readonly status: number,
    readonly slug: ProblemSlug,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.title = problemTitles[slug];
  }
}

export const problems = {
  malformedJson: (detail: string) => new ProblemError(400, 'malformed-json', detail),
  badRequest: (detail: string) => new ProblemError(400, 'bad-request', detail),
  malformedHttp: (detail: string) => new ProblemError(400, 'malformed-http', detail),
  invalidUtf8: (detail: string) => new ProblemError(400, 'invalid-utf8', detail),
  unauthorized: (detail: string) => new ProblemError(401, 'unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="flowgate"' }),
  notFound: (detail: string) => new ProblemError(404, 'not-found', detail),
  methodNotAllowed: (detail: string, allow: string) => new ProblemError(405, 'method-not-allowed', detail, {}, { Allow: allow }),
  conflict: (detail: string) => new ProblemError(409, 'conflict', detail, {}, { 'Retry-After': '1' }),
  headersTooLarge: (detail: string) => new ProblemError(431, 'headers-too-large', detail),
  tooLarge: (detail: string) => new ProblemError(413, 'payload-too-large', detail),
  expectationFailed: (detail: string) => new ProblemError(417, 'expectation-failed', detail),
  unsupportedMediaType: (detail: string) => new ProblemError(415, 'unsupported-media-type', detail),
  validation: (detail: string, errors: FieldError[]) => new ProblemError(422, 'validation-error', detail, { errors }),
  unsupportedOperation: (detail: string, supported: readonly OperationName[]) =>
    new ProblemError(422, 'unsupported-operation', detail, { supported_operations: supported }),
  idempotencyMismatch: (detail: string) => new ProblemError(422, 'idempotency-key-reused', detail),
  tooManyRequests: (detail: string, retryAfterSeconds: number) =>
    new ProblemError(429, 'rate-limited', detail, {}, { 'Retry-After': String(retryAfterSeconds) }),
  notImplemented: (detail: string) => new ProblemError(501, 'method-not-implemented', detail),
  unavailable: (detail: string, retryAfterSeconds = 1) =>
    new ProblemError(503, 'service-unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) }),
  timeout: (detail: string) => new ProblemError(504, 'processing-timeout', detail),
  internal: () => new ProblemError(500, 'internal-error', 'An unexpected error occurred; it has been logged.'),
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
    // The processor's own type when it is a known one, so its title is the type's one title.
    return new ProblemError(422, isProblemSlug(error.type) ? error.type : 'processing-failed', error.detail, {
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
