/** A dependency (broker, queue store or database) cannot be reached; callers answer 503. */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: 'rabbitmq' | 'redis' | 'postgres',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No reply arrived within the RPC timeout; callers answer 504. */
export class RpcTimeoutError extends Error {
  override name = 'RpcTimeoutError';
  constructor(
    readonly queue: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply on ${queue} within ${timeoutMs} ms`);
  }
}

/** The processor understood the request and refused it (wrong operation, overflow). Not retryable. */
export class ProcessingError extends Error {
  override name = 'ProcessingError';
  constructor(
    readonly type: string,
    readonly detail: string,
    readonly supportedOperations?: string[],
  ) {
    super(detail);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
