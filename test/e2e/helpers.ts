import assert from 'node:assert/strict';
import { connect } from 'node:net';
import pg from 'pg';
import { eventually, request, type TestResponse } from '../support/http.js';
import { DATABASE_URL } from '../support/testEnv.js';
import { problemTitles } from '../../services/api/src/problem.js';

const PROBLEM_BASE = 'https://flowgate.dev/problems/';

/** Asserts an RFC 9457 problem with this status, a clear detail, and no internals leaked. */
export function assertProblem(response: TestResponse, status: number, detail?: RegExp): void {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text.slice(0, 300)}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, `content-type of ${response.text.slice(0, 200)}`);
  const body = response.body as Record<string, unknown>;
  assert.equal(typeof body, 'object');
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  assert.match(String(body.type), /^https:\/\//);
  assertOneTitlePerType(body);
  assert.equal(typeof body.detail, 'string');
  assert.ok((body.detail as string).length > 5, 'detail says something');
  if (detail) assert.match(body.detail as string, detail);
  assertNoInternals(response.text);
}

/**
 * RFC 9457 §3.1.3: a type has one title. Every problem a test sees, from the api
 * or from nginx, must be a type of problem.ts's table and carry that type's title.
 */
export function assertOneTitlePerType(body: Record<string, unknown>): void {
  const type = String(body.type);
  assert.ok(type.startsWith(PROBLEM_BASE), `problem type outside ${PROBLEM_BASE}: ${type}`);
  const slug = type.slice(PROBLEM_BASE.length);
  assert.ok(Object.hasOwn(problemTitles, slug), `problem type ${slug} is missing from problemTitles`);
  assert.equal(body.title, problemTitles[slug as keyof typeof problemTitles], `the title of problem type ${slug}`);
}

/** No stack frames, source paths or dependency names in what a caller sees. */
export function assertNoInternals(text: string): void {
  assert.doesNotMatch(text, /\bat [^\s]+ \(|node_modules|\.(ts|js):\d+|\/work\/|Error: /, `internals leaked: ${text.slice(0, 300)}`);
}

/** A 503 with Retry-After, fast: "within a second", asserted loosely as a hang detector. */
export async function expectUnavailable(call: () => Promise<TestResponse>, dependency: RegExp): Promise<void> {
  const started = Date.now();
  const response = await call();
  const elapsed = Date.now() - started;
  assertProblem(response, 503, dependency);
  assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
  assert.ok(elapsed < 2_500, `503 took ${elapsed} ms`);
}

let pool: pg.Pool | undefined;
/** SQL against this run's database, independent of the api under test. */
export async function sql<Row extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<Row[]> {
  pool ??= new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  return (await pool.query<Row>(text, values)).rows;
}

export async function recordCount(): Promise<number> {
  const [row] = await sql<{ count: string }>('SELECT count(*) AS count FROM data_records');
  return Number(row!.count);
}

after(async () => {
  await pool?.end();
  pool = undefined;
});

/** Polls an async task until it is no longer 202, asserting every poll is 200 or 202. */
export async function pollUntilFinished(base: string, taskId: string, timeoutMs = 20_000): Promise<TestResponse> {
  return eventually(async () => {
    const poll = await request(`${base}/data/process-async/${taskId}`);
    assert.ok(poll.status === 200 || poll.status === 202, `unexpected status ${poll.status}: ${poll.text}`);
    return poll.status === 200 ? poll : undefined;
  }, timeoutMs, 100);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes exactly as given (for what fetch refuses to send: control
 * characters in headers, lying Content-Length) and parses the one response.
 */
export async function rawHttp(url: string, head: string, body: Buffer | string = '', timeoutMs = 10_000, halfClose = false): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, timeoutMs);
    const tryParse = (final: boolean) => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return final ? reject(new Error(`no response head: ${text.slice(0, 200)}`)) : undefined;
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = Buffer.concat(chunks).subarray(Buffer.byteLength(text.slice(0, split + 4), 'latin1'));
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (length !== undefined && rest.length < length && !final) return undefined;
      if (length === undefined && !final) return undefined;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        status: Number(statusLine!.split(' ')[1]),
        headers,
        body: (length === undefined ? rest : rest.subarray(0, length)).toString('utf8'),
      });
      return undefined;
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (error) => {
      if (chunks.length > 0) tryParse(true);
      else {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.write(head);
    if (body.length > 0) socket.write(body);
    if (halfClose) socket.end();
  });
}

/** Sends bytes as given and returns everything the server writes until it closes (for pipelined requests). */
export async function rawExchange(url: string, bytes: string, timeoutMs = 10_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close within ${timeoutMs} ms: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

/** Wraps a raw response so {@link assertProblem} can check it. */
export function asTestResponse(raw: RawResponse): TestResponse {
  const headers = new Headers(raw.headers);
  let body: unknown = raw.body;
  if (/json/.test(raw.headers['content-type'] ?? '') && raw.body.length > 0) body = JSON.parse(raw.body);
  return { status: raw.status, headers, body, text: raw.body };
}

/** Runs `tasks` with at most `limit` in flight. */
export async function withConcurrency<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}
