import { pino, type Logger } from 'pino';
import { activeTraceIds } from './tracing/traceContext.js';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level: string;
}

/**
 * JSON lines on stdout. Writes are asynchronous so logging never sits on a
 * request's hot path; shutdown calls `logger.flush()` before exiting.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Ties each line to its trace when tracing is on.
      mixin: activeTraceIds,
    },
    destination,
  );
}

