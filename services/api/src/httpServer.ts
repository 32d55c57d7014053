import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from '@flowgate/common';

/**
 * The HTTP server around the app: keep-alive longer than nginx's upstream
 * keepalive so the proxy never reuses a socket we are closing, bounded header
 * and request times, a problem+json answer to requests Node's parser refuses,
 * and a close() that drains keep-alive connections (see {@link drainOnClose}).
 */
export function configureHttpServer(app: Express, logger: Logger): Server {
  const server = createServer(app);
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  drainOnClose(server);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const title = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    const body = JSON.stringify({
      type: `https://flowgate.dev/problems/${tooLarge ? 'headers-too-large' : 'malformed-http'}`,
      title,
      status,
      detail: tooLarge ? 'the request headers are too large' : 'the HTTP request is malformed (invalid header characters or framing)',
    });
    logger.debug({ code: error.code }, 'client error');
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/**
 * `server.close()` waits for every connection to end, but closes only the ones
 * idle at that moment. A connection whose in-flight request finishes afterwards
 * stays open as keep-alive (nginx's upstream pool holds it for a minute), so a
 * graceful shutdown would hang until the shutdown timeout and exit 1. Once
 * close() is called, responses say `Connection: close` and idle connections are
 * swept until the server has closed.
 */
function drainOnClose(server: Server): void {
  let closing = false;
  server.on('request', (_request, response) => {
    if (closing && !response.headersSent) response.setHeader('Connection', 'close');
  });
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    closing = true;
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    return close((error?: Error) => {
      clearInterval(sweep);
      callback?.(error);
    });
  }) as Server['close'];
}
