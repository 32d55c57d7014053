// JSON-lines logging to stdout, the same shape the other Flowgate services write.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export function jsonLog(minimum: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Log {
  return (level, message, fields = {}) => {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[minimum]) return;
    const serialisable = Object.fromEntries(
      Object.entries(fields).map(([key, value]) => [key, value instanceof Error ? { name: value.name, message: value.message } : value]),
    );
    write(`${JSON.stringify({ level, time: new Date().toISOString(), service: 'flowgate-operator', msg: message, ...serialisable })}\n`);
  };
}

export const silentLog: Log = () => {};
