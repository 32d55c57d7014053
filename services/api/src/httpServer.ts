import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { Logger } from '@flowgate/common';
import { clientErrorProblem, endWithProblem, lacksHost, respondWithProblem, type ParserError } from './clientErrors.js';
import { bodyTooLarge } from './bodyParsing.js';
import { problems } from './problem.js';

/**
 * The HTTP server around the app: keep-alive longer than nginx's upstream
 * keepalive so the proxy never reuses a socket we are closing, bounded header
 * and request times, a problem+json answer to requests Node's parser refuses
 * (501 for a method it does not know, see {@link clientErrorProblem}), to CONNECT,
 * to a missing Host and to an unsupported Expect, a 413 instead of `100 Continue`
 * to a client that announces a body over `bodyLimitBytes`, and a close() that
 * drains keep-alive connections (see {@link drainOnClose}).
 */
export function configureHttpServer(app: Express, logger: Logger, options: { bodyLimitBytes: number }): Server {
  // Node's own Host check answers a bare 400; this one answers a problem.
  const server = createServer({ requireHostHeader: false }, (request, response) => {
    if (lacksHost(request)) {
      respondWithProblem(response, problems.malformedHttp('an HTTP/1.1 request needs a Host header'));
      return;
    }
    app(request, response);
  });
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  drainOnClose(server);
  const responding = respondingOn(server);
  server.on('clientError', (error: ParserError, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    logger.debug({ code: error.code }, 'client error');
    // A whole earlier (pipelined) request may still be answering on this socket: its
    // response goes first. One whose body was still arriving is the one that failed.
    const pending = responding.get(socket);
    if (pending && pending.request.complete && !pending.response.writableFinished) {
      pending.response.once('close', () => endWithProblem(socket, clientErrorProblem(error)));
      return;
    }
    endWithProblem(socket, clientErrorProblem(error));
  });
  // Without a listener Node drops a CONNECT without a word. Its target is a host:port,
  // not one of our resources, so there is no Allow to name: tunnelling is simply not
  // something this server does (RFC 9110 §15.6.2).
  server.on('connect', (_request, socket) => {
    endWithProblem(socket, problems.notImplemented('CONNECT (tunnelling) is not supported; the api uses GET, HEAD, POST and DELETE'));
  });
  // Node would send 100 Continue to every client that asks; one announcing a body over the limit is
  // refused first, so it never uploads what would be refused anyway.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > options.bodyLimitBytes) {
      respondWithProblem(response, bodyTooLarge(options.bodyLimitBytes));
      return;
    }
    response.writeContinue();
    server.emit('request', request, response);
  });
  // Node answers any Expect but 100-continue with a bare 417 unless someone listens.
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const expectation = JSON.stringify(String(request.headers.expect).slice(0, 100));
    respondWithProblem(response, problems.expectationFailed(`Expect: ${expectation} is not supported; only 100-continue is`));
  });
  return server;
}

/** The exchange each socket is on, so an error later on the same socket can wait its turn. */
function respondingOn(server: Server): WeakMap<Duplex, { request: IncomingMessage; response: ServerResponse }> {
  const responding = new WeakMap<Duplex, { request: IncomingMessage; response: ServerResponse }>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    responding.set(request.socket, { request, response });
  });
  return responding;
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
