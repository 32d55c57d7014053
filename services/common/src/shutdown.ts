import type { Logger } from './logging.js';
import { flushTracing } from './tracing/traceContext.js';

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits. A second signal, or
 * `timeoutMs` passing, exits at once so a stuck dependency cannot hold a pod.
 */
export function onShutdown(logger: Logger, timeoutMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'shutdown timed out; exiting');
      logger.flush();
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop()
      .then(flushTracing)
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
