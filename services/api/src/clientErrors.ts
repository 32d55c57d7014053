import { METHODS, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { problemResult, problems, type ProblemError } from './problem.js';

/** What Node's HTTP parser hands to 'clientError' (llhttp's code and the bytes it choked on). */
export interface ParserError extends Error {
  code?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

// RFC 9110 §5.6.2: method = token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The problem for a request Node's parser refused before express saw it.
 * llhttp knows only a fixed list of methods and calls any other one a parse
 * error, but a request line that starts with a well-formed token is an
 * unrecognised method, not malformed HTTP: RFC 9110 §15.6.2 answers that 501.
 */
export function clientErrorProblem(error: ParserError): ProblemError {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return problems.headersTooLarge('the request headers are too large');
  }
  const method = error.code === 'HPE_INVALID_METHOD' ? unrecognisedMethod(error) : undefined;
  if (method !== undefined) {
    const upper = method.toUpperCase();
    const hint = upper !== method && METHODS.includes(upper) ? ` (methods are case-sensitive: did you mean ${upper}?)` : '';
    return problems.notImplemented(`the method ${method.slice(0, 40)} is not recognised; the api uses GET, HEAD, POST and DELETE${hint}`);
  }
  return problems.malformedHttp('the HTTP request is malformed (invalid header characters or framing)');
}

/**
 * The method the failing request line starts with, if it is a token. The
 * packet may begin with earlier pipelined requests (so the line is found from
 * `bytesParsed`) and may end inside the method (llhttp gives up as soon as no
 * method it knows has that prefix), so a token running to the end counts too.
 * Anything else, such as a TLS handshake sent to the plain-HTTP port, is malformed.
 */
function unrecognisedMethod(error: ParserError): string | undefined {
  if (!error.rawPacket) return undefined;
  const text = error.rawPacket.toString('latin1');
  const at = Math.min(error.bytesParsed ?? 0, text.length);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const rest = text.slice(lineStart);
  const space = rest.indexOf(' ');
  const method = space === -1 ? rest : rest.slice(0, space);
  return TOKEN.test(method) ? method : undefined;
}

/** Writes a problem as a complete HTTP/1.1 response on a socket the parser gave up on, then closes it. */
export function endWithProblem(socket: Duplex, problem: ProblemError): void {
  const result = problemResult(problem);
  const body = JSON.stringify(result.body);
  const headers = [
    `HTTP/1.1 ${result.status} ${problem.title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(result.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}

/** Answers with a problem from below express (no route, no middleware), closing the connection. */
export function respondWithProblem(response: ServerResponse, problem: ProblemError): void {
  const result = problemResult(problem);
  const body = JSON.stringify(result.body);
  response.writeHead(result.status, {
    ...result.headers,
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
    // Whatever body the client holds back or sends next is not read.
    Connection: 'close',
  });
  response.end(body);
}

/** RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400 (Node's own check answers without a body type). */
export function lacksHost(request: IncomingMessage): boolean {
  return request.httpVersionMajor === 1 && request.httpVersionMinor >= 1 && request.headers.host === undefined;
}
