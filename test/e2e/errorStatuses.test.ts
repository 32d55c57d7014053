import assert from 'node:assert/strict';
import { request } from '../support/http.js';
import { AUTHORIZATION } from '../support/testEnv.js';
import { sharedSystem, type TestSystem } from '../support/system.js';
import { asTestResponse, assertProblem, rawExchange, rawHttp, recordCount } from './helpers.js';

const LIMIT = 1_048_576;

/** A JSON body of exactly `bytes` bytes: a string payload padded to size. */
function bodyOfSize(bytes: number): string {
  const frame = '{"payload":""}';
  return `{"payload":"${'a'.repeat(bytes - frame.length)}"}`;
}

describe('error statuses (DESIGN.md): problem+json with a clear detail', () => {
  let system: TestSystem;
  let api: string;
  let nginx: string;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
    api = `${system.urls.api}/api/v1`;
    nginx = `${system.urls.nginx}/api/v1`;
  });

  for (const path of ['/data/process', '/data/process-async']) {
    describe(`POST ${path}`, () => {
      let before: number;
      beforeEach(async () => {
        before = await recordCount();
      });
      afterEach(async function () {
        if (this.currentTest?.state === 'passed') assert.equal(await recordCount(), before, 'a refused request stored a record');
      });

      it('an empty body → 400 saying so', async () => {
        const response = await request(`${api}${path}`, { body: '', headers: { 'content-type': 'application/json' } });
        assertProblem(response, 400, /body is empty/);
      });

      it('two Idempotency-Key headers → 400, not one merged key', async () => {
        const body = JSON.stringify({ payload: 'x' });
        const raw = await rawHttp(
          api,
          `POST /api/v1${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
            'Idempotency-Key: first\r\nIdempotency-Key: second\r\nConnection: close\r\n\r\n',
          body,
        );
        assertProblem(asTestResponse(raw), 400, /one Idempotency-Key/);
      });

      it('malformed JSON → 400', async () => {
        const response = await request(`${api}${path}`, { body: '{"payload": "x",}', headers: { 'content-type': 'application/json' } });
        assertProblem(response, 400, /not valid JSON/);
      });

      it('missing payload → 422 naming the field', async () => {
        const response = await request(`${api}${path}`, { json: { description: 'uppercase' } });
        assertProblem(response, 422, /payload/);
        assert.deepEqual((response.body as any).errors.map((e: any) => e.pointer), ['/payload']);
      });

      it('unknown fields → 422 naming them, each with its own JSON pointer', async () => {
        const response = await request(`${api}${path}`, { json: { payload: 'x', task_type: 'data', extra: 1, 'a/b~c': 2 } });
        assertProblem(response, 422, /unknown field\(s\): task_type, extra, a\/b~c \(accepted: payload, description\)/);
        assert.deepEqual(
          (response.body as any).errors.map((e: any) => e.pointer),
          ['/task_type', '/extra', '/a~1b~0c'], // RFC 6901 escapes "/" as ~1 and "~" as ~0
        );
      });

      it('thousands of unknown fields → 422 naming the first 20 and counting the rest', async () => {
        const json: Record<string, unknown> = { payload: 'x', description: 'uppercase' };
        for (let index = 0; index < 5_000; index++) json[`field_${index}`] = index;
        const response = await request(`${api}${path}`, { json });
        assertProblem(response, 422, /unknown field\(s\): field_0, .*field_19 .*; and 4980 more problem\(s\)$/);
        assert.equal((response.body as any).errors.length, 20);
      });

      it('a body that is not an object → 422 pointing at the whole document with ""', async () => {
        for (const [body, kind] of [['null', 'null'], ['[1]', 'an array'], ['"x"', 'a string']] as const) {
          const response = await request(`${api}${path}`, { body, headers: { 'content-type': 'application/json' } });
          assertProblem(response, 422, new RegExp(`must be a JSON object, not ${kind}`));
          assert.deepEqual((response.body as any).errors, [{ pointer: '', detail: `must be a JSON object, not ${kind}` }]);
        }
      });

      it('a description that is not a string → 422 saying it must be a string, not listing operations', async () => {
        for (const [description, kind] of [[42, 'a number'], [null, 'null'], [['uppercase'], 'an array'], [{}, 'an object']] as const) {
          const response = await request(`${api}${path}`, { json: { payload: 'x', description } });
          assertProblem(response, 422, new RegExp(`/description: must be a string naming an operation, not ${kind}`));
          assert.doesNotMatch((response.body as any).detail, /uppercase/);
          assert.deepEqual((response.body as any).errors.map((e: any) => e.pointer), ['/description']);
        }
        const unknown = await request(`${api}${path}`, { json: { payload: 'x', description: 'shout' } });
        assertProblem(unknown, 422, /"shout" is not an operation; use one of: uppercase, lowercase, .*echo$/);
      });

      it('an unknown operation → 422', async () => {
        for (const description of ['shout', '', 42, null, ['uppercase']]) {
          const response = await request(`${api}${path}`, { json: { payload: 'x', description } });
          assertProblem(response, 422, /description/);
        }
      });

      it('an operation that does not fit the payload → 422 listing the supported ones', async () => {
        const response = await request(`${api}${path}`, { json: { payload: 'hello', description: 'square' } });
        assertProblem(response, 422, /"square" does not apply to a string payload/);
        assert.deepEqual((response.body as any).supported_operations, [
          'uppercase', 'lowercase', 'reverse', 'capitalize', 'trim', 'length', 'word_count', 'echo',
        ]);
        const onBoolean = await request(`${api}${path}`, { json: { payload: true, description: 'count' } });
        assertProblem(onBoolean, 422, /boolean/);
        assert.deepEqual((onBoolean.body as any).supported_operations, ['echo']);
      });

      it('a body over 1 MiB → 413, directly and through nginx', async () => {
        for (const base of [api, nginx]) {
          const response = await request(`${base}${path}`, { body: bodyOfSize(LIMIT + 1), headers: { 'content-type': 'application/json' } });
          assertProblem(response, 413, /1048576-byte limit/);
        }
      });

      it('wrong or missing content type → 415', async () => {
        const body = JSON.stringify({ payload: 'x' });
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
          assertProblem(await request(`${api}${path}`, { body, headers: { 'content-type': type } }), 415, /application\/json/);
        }
        // fetch adds text/plain to a string body; a Uint8Array body goes without any content type.
        const untyped = await fetch(`${api}${path}`, { method: 'POST', body: new TextEncoder().encode(body) });
        assert.equal(untyped.headers.get('content-type')?.startsWith('application/problem+json'), true);
        assert.equal(untyped.status, 415);
        const latin1 = await request(`${api}${path}`, { body, headers: { 'content-type': 'application/json; charset=iso-8859-1' } });
        assertProblem(latin1, 415, /charset/);
      });
    });
  }

  it('a body of exactly 1 MiB is accepted through nginx and directly', async function () {
    this.timeout(20_000);
    for (const base of [api, nginx]) {
      const response = await request(`${base}/data/process`, { body: bodyOfSize(LIMIT), headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 200, response.text.slice(0, 300));
      assert.equal((response.body as any).outcome.result.length, LIMIT - '{"payload":""}'.length);
    }
  });

  it("one title per problem type, whether the api or the processor refuses (RFC 9457 §3.1.3)", async () => {
    // The api refuses square on a string; the processor refuses sum over an array holding a string.
    const byApi = await request(`${api}/data/process`, { json: { payload: 'x', description: 'square' } });
    const byProcessor = await request(`${api}/data/process`, { json: { payload: [1, 'a'], description: 'sum' } });
    for (const response of [byApi, byProcessor]) {
      assertProblem(response, 422);
      assert.equal((response.body as any).type, 'https://flowgate.dev/problems/unsupported-operation');
      assert.equal((response.body as any).title, 'Unsupported Operation');
    }
    const overflow = await request(`${api}/data/process`, { json: { payload: 1e308, description: 'square' } });
    assertProblem(overflow, 422, /overflows/);
    assert.equal((overflow.body as any).type, 'https://flowgate.dev/problems/non-finite-result');
    assert.equal((overflow.body as any).title, 'Non-Finite Result');
  });

  it('unknown task → 404 on the poll, the record and its deletion', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    assertProblem(await request(`${api}/data/process-async/${id}`), 404, /no task/);
    assertProblem(await request(`${api}/database/records/${id}`), 404, /no record/);
    assertProblem(await request(`${api}/database/records/${id}`, { method: 'DELETE', headers: AUTHORIZATION }), 404, /no record/);
  });

  it('unknown routes → 404 and wrong methods → 405 with Allow, as problems', async () => {
    assertProblem(await request(`${api}/nothing-here`), 404, /no route/);
    const wrongMethod = await request(`${api}/data/process`);
    assertProblem(wrongMethod, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const putPoll = await request(`${api}/data/process-async/00000000-0000-4000-8000-000000000000`, { method: 'PUT', json: {} });
    assertProblem(putPoll, 405);
    assert.equal(putPoll.headers.get('allow'), 'GET');
    for (const [method, path, allow] of [
      ['POST', '/database/records', 'GET'],
      ['PUT', '/database/records/00000000-0000-4000-8000-000000000000', 'GET, DELETE'],
      ['DELETE', '/database/logs', 'GET'],
    ] as const) {
      const response = await request(`${api}${path}`, { method, headers: AUTHORIZATION });
      assertProblem(response, 405);
      assert.equal(response.headers.get('allow'), allow);
    }
    const trace = await rawHttp(system.urls.nginx, 'TRACE /api/v1/data/process HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assertProblem(asTestResponse(trace), 405);
    assert.ok(trace.headers.allow, 'nginx names the methods it allows');
    for (const [method, path] of [['POST', '/health'], ['DELETE', '/metrics'], ['PUT', '/'], ['POST', '/api/v1/openapi.json']] as const) {
      const response = await request(`${system.urls.api}${path}`, { method });
      assertProblem(response, 405);
      assert.equal(response.headers.get('allow'), 'GET');
    }
  });

  describe('query parameters', () => {
    it('a non-integer or out-of-range limit → 422 saying it must be an integer within its bounds', async () => {
      for (const limit of ['abc', '1.5', '0', '101', '', 'Infinity']) {
        const response = await request(`${api}/database/records?limit=${limit}`);
        assertProblem(response, 422, /^the query is invalid: limit: must be an integer from 1 to 100 in plain decimal digits$/);
        assert.doesNotMatch(response.text, /NaN|expected number/);
        assert.deepEqual((response.body as any).errors, [{ parameter: 'limit', detail: 'must be an integer from 1 to 100 in plain decimal digits' }]);
      }
      const offset = await request(`${api}/database/logs?offset=-1`);
      assertProblem(offset, 422, /offset: must be an integer from 0 to 1000000/);
    });

    it('limit and offset are plain decimal digits: no exponent, sign, leading zero, hex, fraction or whitespace', async () => {
      for (const path of ['/database/records', '/database/logs']) {
        for (const [name, value] of [
          ['offset', '1e3'], ['limit', '1e1'], ['limit', '%2B5'], ['offset', '-0'], ['limit', '05'], ['offset', '00'],
          ['limit', '0x10'], ['limit', '0b1'], ['limit', '5.0'], ['limit', '%205'], ['limit', '5%20'], ['limit', '%095'], ['limit', '５'],
        ] as const) {
          const response = await request(`${api}${path}?${name}=${value}`);
          assertProblem(response, 422, new RegExp(`^the query is invalid: ${name}: must be an integer from \\d+ to \\d+ in plain decimal digits$`));
          assert.deepEqual((response.body as any).errors.map((error: any) => error.parameter), [name], `${name}=${value}`);
        }
        const plain = await request(`${api}${path}?limit=5&offset=0`);
        assert.equal(plain.status, 200, plain.text.slice(0, 300));
        assert.deepEqual([(plain.body as any).limit, (plain.body as any).offset], [5, 0]);
        const edges = await request(`${api}${path}?limit=100&offset=1000000`);
        assert.equal(edges.status, 200, edges.text.slice(0, 300));
      }
    });

    it('a value that breaks several checks names its parameter once', async () => {
      for (const query of ['offset=99999999999999999999', 'offset=9007199254740993', 'limit=99999999999999999999', `limit=${'9'.repeat(400)}`]) {
        for (const path of ['/database/records', '/database/logs']) {
          const response = await request(`${api}${path}?${query}`);
          const name = query.split('=')[0]!;
          assertProblem(response, 422);
          assert.deepEqual((response.body as any).errors.map((error: any) => error.parameter), [name], `${path}?${query}`);
          assert.equal((response.body as any).detail.split(`${name}:`).length, 2, (response.body as any).detail);
        }
      }
      // A filter both too long and holding NUL: one entry, both reasons.
      const filter = await request(`${api}/database/logs?task_id=${'x'.repeat(256)}%00`);
      assertProblem(filter, 422);
      assert.deepEqual((filter.body as any).errors, [
        { parameter: 'task_id', detail: 'must be at most 255 characters and must not contain NUL (U+0000)' },
      ]);
    });

    it('errors name the parameter, not a JSON pointer; unknown and repeated ones too', async () => {
      const response = await request(`${api}/database/records?limit=abc&status=Nope&foo=1&offset=1&offset=2`);
      assertProblem(response, 422);
      const errors = (response.body as any).errors as Array<Record<string, string>>;
      assert.ok(errors.every((error) => !('pointer' in error)), JSON.stringify(errors));
      assert.deepEqual(
        errors.map((error) => error.parameter).sort(),
        ['foo', 'limit', 'offset', 'status'],
      );
      assert.match((response.body as any).detail, /offset: must be given once, not 2 times/);
      assert.match((response.body as any).detail, /status: must be one of Processing, Success, Failed/);
      assert.match((response.body as any).detail, /unknown parameter\(s\): foo \(accepted: limit, offset, status\)/);
    });
  });

  it('an unrecognised method → 501 problem+json (RFC 9110 §15.6.2), directly and through nginx', async () => {
    for (const base of [system.urls.api, system.urls.nginx]) {
      for (const method of ['FOO', 'BREW', 'GETX']) {
        const raw = await rawHttp(base, `${method} /api/v1/data/process HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`);
        const response = asTestResponse(raw);
        assertProblem(response, 501, new RegExp(`the method ${method} is not recognised`));
        assert.equal((response.body as any).type, 'https://flowgate.dev/problems/method-not-implemented');
      }
    }
    // Methods are case-sensitive tokens: "get" is not GET (nginx refuses lower case as malformed: 400).
    const lower = asTestResponse(await rawHttp(system.urls.api, 'get /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    assertProblem(lower, 501, /did you mean GET\?/);
    // Found from where the parser stopped, not from the start of a packet holding an earlier pipelined request.
    const pipelined = await rawExchange(system.urls.api, 'GET /nothing HTTP/1.1\r\nHost: x\r\n\r\nFOO / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(pipelined, /^HTTP\/1\.1 404 [^]*"no route for GET \/nothing"[^]*HTTP\/1\.1 501 Not Implemented\r\n[^]*the method FOO is not recognised/);
    // Bytes that are not a method at all (a TLS handshake on the plain port) stay malformed.
    const tls = await rawHttp(system.urls.api, '\x16\x03\x01\x02\x00\x01\x00\r\n\r\n');
    assertProblem(asTestResponse(tls), 400, /malformed/);
    // Node drops CONNECT without an answer unless told otherwise.
    const connect = await rawHttp(system.urls.api, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assertProblem(asTestResponse(connect), 501, /CONNECT/);
  });

  it('task ids are case-insensitive and answered in lower case', async () => {
    const created = await request(`${api}/data/process`, { json: { payload: 'case' } });
    const upper = (created.body.task_id as string).toUpperCase();
    const record = await request(`${api}/database/records/${upper}`);
    assert.equal(record.status, 200);
    assert.equal(record.body.task_id, created.body.task_id);
  });

  it('errors through nginx are the api\'s own problems', async () => {
    assertProblem(await request(`${nginx}/data/process`, { body: '{', headers: { 'content-type': 'application/json' } }), 400);
    assertProblem(await request(`${nginx}/data/process`, { json: { payload: 1, description: 'reverse' } }), 422);
  });
});
