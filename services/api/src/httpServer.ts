import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from '@flowgate/common';

/**
 * The HTTP server around the app: keep-alive longer than nginx's upstream
 * keepalive so the proxy never reuses a socket we are closing, bounded header
 * and request times, and a problem+json answer to requests Node's parser refuses.
 */
export function configureHttpServer(app: Express, logger: Logger): Server {
  const server = createServer(app);
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
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
