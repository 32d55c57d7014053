import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { request, type TestResponse } from '../support/http.js';
import { AUTHORIZATION } from '../support/testEnv.js';
import { sharedSystem, type TestSystem } from '../support/system.js';
import { assertProblem, asTestResponse, rawExchange, rawHttp, recordCount } from './helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const LIMIT = 1_048_576;

/**
 * Issue 6 part 2: each hostile request gets a 4xx problem+json, stores nothing,
 * and the api keeps serving. Sent straight to the api unless the case is about nginx.
 */
describe('hostile input', () => {
  let system: TestSystem;
  let api: string;
  let nginx: string;
  let stored: number;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
    api = `${system.urls.api}/api/v1`;
    nginx = `${system.urls.nginx}/api/v1`;
  });

  beforeEach(async () => {
    stored = await recordCount();
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'passed') return;
    assert.equal(await recordCount(), stored, 'a hostile request stored a record');
    // Still serving, both ways in.
    for (const base of [api, nginx]) {
      const health = await request(`${base}/data/process`, { json: { payload: 'still here', description: 'uppercase' } });
      assert.equal(health.status, 200, `after the test: ${health.text}`);
      assert.equal((health.body as any).outcome.result, 'STILL HERE');
    }
    stored += 2;
    assert.equal(await recordCount(), stored);
  });

  const post = (body: string | Buffer, headers: Record<string, string> = JSON_TYPE, path = '/data/process') =>
    request(`${api}${path}`, { body, headers });

  it('malformed and truncated JSON → 400', async () => {
    const full = JSON.stringify({ payload: { a: [1, 2, { b: 'c' }] }, description: 'keys' });
    for (let cut = 1; cut < full.length; cut += 3) {
      assertProblem(await post(full.slice(0, cut)), 400, /not valid JSON/);
    }
    for (const body of ['{', '}', '{"payload":}', "{'payload':'x'}", '{"payload":"x"', '{"payload":"x"}}', 'NaN', '{"payload":NaN}',
      '{"payload":Infinity}', '{"payload":0x10}', '{"payload":01}', '{"payload":"x",}', '{"payload":"a\nb"}', '\u00ef\u00bb\u00bf{}']) {
      for (const path of ['/data/process', '/data/process-async']) assertProblem(await post(body, JSON_TYPE, path), 400);
    }
  });

  it('a body shorter than its Content-Length, then the client half-closes → 400 problem, not a hang', async () => {
    const raw = await rawHttp(
      api,
      'POST /api/v1/data/process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
      '{"payload":"truncat',
      5_000,
      true,
    );
    assertProblem(asTestResponse(raw), 400);
  });

  it('JSON that is not an object → 422', async () => {
    for (const body of ['null', '"payload"', '42', '[]', '[{"payload":1}]', 'true']) {
      assertProblem(await post(body), 422, /body/);
    }
  });

  it('an empty body → 4xx problem', async () => {
    const response = await post('');
    assert.ok(response.status === 400 || response.status === 422, String(response.status));
    assertProblem(response, response.status);
  });

  it('wrong and missing content types → 415, through nginx too', async () => {
    const body = JSON.stringify({ payload: 'x' });
    for (const base of [api, nginx]) {
      for (const type of ['text/plain', 'text/json', 'application/javascript', 'application/jsonp', 'application/json-patch', '*/*', 'json', '',
        // README: anything that is not application/json is a 415, +json media types included.
        'application/vnd.api+json', 'application/merge-patch+json', 'application/problem+json', 'application/json+x']) {
        const response = await request(`${base}/data/process`, { body, headers: { 'content-type': type } });
        assertProblem(response, 415);
      }
      // Accepted types get past the check to validation (a 422 here, so nothing is stored).
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON; charset="UTF-8"']) {
        const response = await request(`${base}/data/process`, { body: '{"payload":"x","extra":1}', headers: { 'content-type': type } });
        assertProblem(response, 422, /unknown field/);
      }
      for (const charset of ['utf-16', 'latin1', 'utf-7']) {
        assertProblem(await request(`${base}/data/process`, { body, headers: { 'content-type': `application/json; charset=${charset}` } }), 415);
      }
    }
  });

  it('bodies over the limit → 413 directly and through nginx, whatever the framing', async function () {
    this.timeout(20_000);
    const big = `{"payload":"${'x'.repeat(LIMIT)}"}`;
    for (const base of [api, nginx]) {
      assertProblem(await request(`${base}/data/process-async`, { body: big, headers: JSON_TYPE }), 413);
      assertProblem(await request(`${base}/data/process`, { body: Buffer.alloc(10 * LIMIT, 0x20), headers: JSON_TYPE }), 413);
      // Chunked, no Content-Length: the limit still holds.
      const chunked = await fetch(`${base}/data/process`, {
        method: 'POST',
        headers: JSON_TYPE,
        body: new Blob([big]).stream(),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413);
      assert.match(chunked.headers.get('content-type') ?? '', /problem\+json/);
    }
  });

  it('a gzip bomb (10 MiB of JSON in a few KiB) → 413 after inflating, not an OOM', async () => {
    const inflated = Buffer.from(`{"payload":"${'a'.repeat(10 * LIMIT)}"}`);
    const bomb = gzipSync(inflated);
    assert.ok(bomb.length < 64 * 1024);
    const response = await request(`${api}/data/process`, { body: bomb, headers: { ...JSON_TYPE, 'content-encoding': 'gzip' } });
    assertProblem(response, 413);
    const unknownEncoding = await request(`${api}/data/process`, { body: 'x', headers: { ...JSON_TYPE, 'content-encoding': 'compress' } });
    assertProblem(unknownEncoding, 415);
  });

  it('deeply nested JSON (10,000 and 150,000 levels) → 4xx, not a stack overflow', async () => {
    for (const depth of [10_000, 150_000]) {
      const arrays = `{"payload":${'['.repeat(depth)}${']'.repeat(depth)},"description":"count"}`;
      const objects = `{"payload":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
      for (const body of [arrays, objects]) {
        assert.ok(body.length <= LIMIT, `${depth} fits the limit`);
        for (const path of ['/data/process', '/data/process-async']) {
          const response = await post(body, JSON_TYPE, path);
          assert.ok(response.status === 400 || response.status === 422, `${depth}: ${response.status}`);
          assertProblem(response, response.status);
        }
      }
      // Nested inside an unknown field or in description, too.
      assertProblem(await post(`{"payload":1,"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`), 422);
      assertProblem(await post(`{"payload":1,"description":${'['.repeat(depth)}${']'.repeat(depth)}}`), 422);
    }
    // 64 levels is the documented maximum; 63 nested arrays inside payload pass.
    const ok = await post(`{"payload":${'['.repeat(64)}${']'.repeat(64)},"description":"echo"}`);
    assert.equal(ok.status, 200, ok.text);
    stored += 1;
  });

  it('huge strings and arrays within the limit are processed correctly', async function () {
    this.timeout(20_000);
    const text = 'ab'.repeat(400_000);
    const reversed = await request(`${api}/data/process`, { json: { payload: text, description: 'length' } });
    assert.equal(reversed.status, 200);
    assert.equal((reversed.body as any).outcome.result, 800_000);
    const numbers = Array.from({ length: 200_000 }, (_, i) => i % 10);
    const sum = await request(`${api}/data/process`, { json: { payload: numbers, description: 'sum' } });
    assert.equal(sum.status, 200);
    assert.equal((sum.body as any).outcome.result, 900_000);
    const unique = await request(`${api}/data/process`, { json: { payload: numbers, description: 'unique' } });
    assert.deepEqual((unique.body as any).outcome.result, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const manyKeys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
    const count = await request(`${api}/data/process`, { json: { payload: manyKeys, description: 'count' } });
    assert.equal((count.body as any).outcome.result, 50_000);
    stored += 4;
  });

  it('NUL characters, lone surrogates and invalid UTF-8 → 4xx', async () => {
    const problemsFor: Array<[string | Buffer, number]> = [
      ['{"payload":"a\\u0000b"}', 422],
      ['{"payload":{"a\\u0000":1},"description":"keys"}', 422],
      ['{"payload":["ok","\\u0000"],"description":"sort"}', 422],
      ['{"payload":"x","description":"echo\\u0000"}', 422],
      ['{"payload":"\\ud800"}', 422],
      ['{"payload":"\\udc00x\\ud83d"}', 422],
      [Buffer.from('{"payload":"a\u0000b"}'), 400], // a raw NUL is a control character JSON forbids in strings
      [Buffer.concat([Buffer.from('{"payload":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 400],
      [Buffer.concat([Buffer.from('{"payload":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), 400], // overlong "/"
      [Buffer.concat([Buffer.from('{"payload":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 400], // UTF-8 encoded surrogate
      [Buffer.concat([Buffer.from('{"payload":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]), 400], // truncated sequence
      [Buffer.from('\u0000'), 400],
    ];
    for (const [body, status] of problemsFor) {
      for (const path of ['/data/process', '/data/process-async']) {
        const response = await post(body, JSON_TYPE, path);
        assertProblem(response, status);
      }
    }
    // Valid astral characters are fine and survive a reverse intact.
    const emoji = await request(`${api}/data/process`, { json: { payload: 'a😀b', description: 'reverse' } });
    assert.equal((emoji.body as any).outcome.result, 'b😀a');
    stored += 1;
  });

  it('numbers at the edges of IEEE-754', async () => {
    for (const literal of ['1e309', '-1e309', '1e400', '-1.8e308']) {
      for (const path of ['/data/process', '/data/process-async']) {
        assertProblem(await post(`{"payload":${literal},"description":"abs"}`, JSON_TYPE, path), 422, /finite/);
        assertProblem(await post(`{"payload":[1,${literal}],"description":"sum"}`, JSON_TYPE, path), 422, /finite/);
      }
    }
    // The largest double squared or doubled overflows: refused synchronously with nothing stored.
    for (const [payload, description] of [[1.7976931348623157e308, 'square'], [1.7976931348623157e308, 'double'], [[1.7976931348623157e308, 1.7976931348623157e308], 'sum']] as const) {
      assertProblem(await request(`${api}/data/process`, { json: { payload, description } }), 422, /overflow/);
    }
    // Representable edge values are processed exactly.
    const cases: Array<[number | number[], string, unknown]> = [
      [5e-324, 'echo', 5e-324],
      [5e-324, 'negate', -5e-324],
      [5e-324, 'square', 0],
      [1.7976931348623157e308, 'negate', -1.7976931348623157e308],
      [-1.7976931348623157e308, 'abs', 1.7976931348623157e308],
      [[1.7976931348623157e308, -1.7976931348623157e308, 1], 'sum', 1],
      [9007199254740993, 'echo', 9007199254740992],
    ];
    for (const [payload, description, result] of cases) {
      const response = await request(`${api}/data/process`, { json: { payload, description } });
      assert.equal(response.status, 200, `${description}(${payload}): ${response.text}`);
      assert.deepEqual((response.body as any).outcome.result, result, `${description}(${payload})`);
    }
    stored += cases.length;
    // -0 and 0 are the same JSON number.
    const negativeZero = await post('{"payload":-0,"description":"negate"}');
    assert.equal(negativeZero.status, 200);
    assert.equal(Object.is((negativeZero.body as any).outcome.result, 0), true);
    stored += 1;
  });

  it('prototype-pollution keys at the top level and nested → 422', async () => {
    const bodies = [
      '{"__proto__":{"polluted":true},"payload":1}',
      '{"payload":1,"constructor":{"prototype":{"polluted":true}}}',
      '{"payload":{"__proto__":{"polluted":true}},"description":"keys"}',
      '{"payload":{"a":{"constructor":{"prototype":{"polluted":true}}}},"description":"count"}',
      '{"payload":[{"__proto__":{"isAdmin":true}}],"description":"unique"}',
      '{"payload":{"prototype":1},"description":"keys"}',
    ];
    for (const body of bodies) {
      for (const path of ['/data/process', '/data/process-async']) {
        const response = await post(body, JSON_TYPE, path);
        assertProblem(response, 422);
        assert.doesNotMatch(response.text, /"polluted"|"isAdmin"/);
      }
    }
    // Nothing leaked into the api's objects: an ordinary request's answer has no such property.
    const ordinary = await request(`${api}/data/process`, { json: { payload: { a: 1 }, description: 'keys' } });
    assert.deepEqual((ordinary.body as any).outcome.result, ['a']);
    assert.doesNotMatch(ordinary.text, /polluted|isAdmin/);
    stored += 1;
  });

  it('hostile task ids → 404 on every task route, through nginx too', async () => {
    const ids = [
      '..%2F..%2Fetc%2Fpasswd', '%2e%2e', encodeURIComponent("1' OR '1'='1"), encodeURIComponent('1; DROP TABLE data_records; --'),
      '%00', '%0d%0aSet-Cookie:%20x=1', '%E2%80%AE', '%FF', '%', 'x'.repeat(4000), '00000000-0000-0000-0000-00000000000g',
      '00000000-0000-4000-8000-0000000000001', '{{7*7}}', '$where', 'null', 'undefined', '__proto__', 'constructor',
    ];
    for (const id of ids) {
      for (const base of [api, nginx]) {
        const responses: TestResponse[] = [
          await request(`${base}/data/process-async/${id}`),
          await request(`${base}/database/records/${id}`),
          await request(`${base}/database/records/${id}`, { method: 'DELETE', headers: AUTHORIZATION }),
        ];
        for (const response of responses) {
          // Unknown ids are 404; an undecodable escape (%, %FF) is a 400. Never a 5xx.
          assert.ok(response.status === 404 || response.status === 400, `${id}: ${response.status} ${response.text.slice(0, 200)}`);
          // nginx itself refuses %00 and a bare % before the api sees them, also as a problem.
          assertProblem(response, response.status);
          assert.equal(response.headers.get('set-cookie'), null);
        }
      }
    }
  });

  it('very long URLs → 4xx problem (431 from the api; 414 from nginx)', async () => {
    const direct = await request(`${api}/data/process-async/${'x'.repeat(100_000)}`);
    assertProblem(direct, 431);
    const proxied = await request(`${nginx}/data/process-async/${'x'.repeat(100_000)}`);
    assertProblem(proxied, 414);
  });

  it('malformed HTTP framing → 400 problem', async () => {
    const raw = await rawHttp(api, 'POST /api/v1/data/process HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', '0\r\n\r\n');
    assertProblem(asTestResponse(raw), 400);
    const badHeader = await rawHttp(api, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad\x01: 1\r\n\r\n');
    assertProblem(asTestResponse(badHeader), 400);
  });

  it('what Node answers before express (no Host, an unknown Expect) is problem+json too', async () => {
    const noHost = await rawHttp(api, 'GET /health HTTP/1.1\r\n\r\n');
    assertProblem(asTestResponse(noHost), 400, /Host header/);
    const expect = await rawHttp(api, 'GET /health HTTP/1.1\r\nHost: x\r\nExpect: 100-banana\r\n\r\n');
    assertProblem(asTestResponse(expect), 417, /100-continue/);
    // HTTP/1.0 needs no Host; 100-continue is still honoured.
    assert.equal((await rawHttp(api, 'GET /health HTTP/1.0\r\n\r\n')).status, 200);
    const body = '{"payload":"go on"}';
    const continued = await rawExchange(
      api,
      `POST /api/v1/data/process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
        `Expect: 100-continue\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.match(continued, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    stored += 1;
    // A client that announces a body over the limit is refused before it sends a byte of it.
    const refused = await rawExchange(
      api,
      `POST /api/v1/data/process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1_048_577}\r\n` +
        `Expect: 100-continue\r\n\r\n`,
    );
    assert.match(refused, /^HTTP\/1\.1 413 Payload Too Large\r\n/);
    assert.match(refused, /the body exceeds the 1048576-byte limit/);
  });

  it("nginx's own refusals are problem+json with a matching status, not its HTML pages", async () => {
    const cases: Array<[string, number, RegExp]> = [
      // nginx implements no Transfer-Encoding but chunked (its own 501).
      ['POST /api/v1/data/process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n', 501, /Transfer-Encoding/],
      ['GET /health HTTP/2.0\r\nHost: x\r\n\r\n', 505, /HTTP\/1\.1/],
      // Over large_client_header_buffers: nginx's 494, answered as the api answers it.
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /headers are too large/],
    ];
    for (const [head, status, detail] of cases) {
      assertProblem(asTestResponse(await rawHttp(system.urls.nginx, head)), status, detail);
    }
    const direct = await rawHttp(system.urls.api, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assertProblem(asTestResponse(direct), 431, /headers are too large/);
  });

  it('paging params out of range, non-numeric or repeated → 422 (through nginx too)', async () => {
    for (const base of [api, nginx]) {
      for (const query of ['limit=1000000000000000000000', 'limit=NaN', 'limit=Infinity', 'offset=-0.5', 'limit=%00', 'offset=1&offset=2',
        'status=Processing&status=Processing', 'limit=20&limit=', 'task_id=&limit=1']) {
        const response = await request(`${base}/database/records?${query}`);
        assertProblem(response, 422);
      }
      const longFilter = await request(`${base}/database/logs?task_id=${'x'.repeat(256)}`);
      assertProblem(longFilter, 422);
    }
  });
});
