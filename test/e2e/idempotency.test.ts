import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from '../support/http.js';
import { sharedSystem, type TestSystem } from '../support/system.js';
import { assertProblem, asTestResponse, pollUntilFinished, rawHttp, recordCount, sql } from './helpers.js';

describe('idempotency keys on both POST endpoints', () => {
  let system: TestSystem;
  let api: string;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
    api = `${system.urls.api}/api/v1`;
  });

  const endpoints = [
    { path: '/data/process', status: 200 },
    { path: '/data/process-async', status: 202 },
  ];

  for (const { path, status } of endpoints) {
    describe(`POST ${path}`, () => {
      it('replays the first response verbatim with Idempotent-Replayed: true, without running again', async () => {
        const key = randomUUID();
        const body = { payload: `replay ${key}`, description: 'uppercase' };
        const first = await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } });
        assert.equal(first.status, status);
        assert.equal(first.headers.get('idempotent-replayed'), null);
        const countAfterFirst = await recordCount();

        for (let i = 0; i < 3; i++) {
          const again = await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } });
          assert.equal(again.status, status);
          assert.equal(again.headers.get('idempotent-replayed'), 'true');
          assert.equal(again.text, first.text, 'the replayed body is byte-for-byte the first');
          assert.equal(again.headers.get('location'), first.headers.get('location'));
        }
        assert.equal(await recordCount(), countAfterFirst, 'a replay created a record');
        const rows = await sql('SELECT task_id FROM data_records WHERE payload = $1::jsonb', [JSON.stringify(body.payload)]);
        assert.deepEqual(rows, [{ task_id: (first.body as any).task_id }]);
        if (status === 202) {
          const done = await pollUntilFinished(api, (first.body as any).task_id);
          assert.equal((done.body as any).outcome.result, body.payload.toUpperCase());
        }
      });

      it('the same key with a different body → 422, and the original is still replayed', async () => {
        const key = randomUUID();
        const first = await request(`${api}${path}`, { json: { payload: 'one', description: 'reverse' }, headers: { 'idempotency-key': key } });
        assert.equal(first.status, status);
        const before = await recordCount();
        const other = await request(`${api}${path}`, { json: { payload: 'two', description: 'reverse' }, headers: { 'idempotency-key': key } });
        assertProblem(other, 422, /different request body/);
        assert.equal(await recordCount(), before);
        const replay = await request(`${api}${path}`, { json: { payload: 'one', description: 'reverse' }, headers: { 'idempotency-key': key } });
        assert.equal(replay.headers.get('idempotent-replayed'), 'true');
        assert.equal(replay.text, first.text);
      });

      it('a 4xx is stored and replayed too', async () => {
        const key = randomUUID();
        const body = { payload: 'text', description: 'square' };
        const first = await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } });
        assertProblem(first, 422);
        const replay = await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } });
        assertProblem(replay, 422);
        assert.equal(replay.headers.get('idempotent-replayed'), 'true');
        assert.equal(replay.text, first.text);
      });

      it('two concurrent requests with one key: exactly one runs, the other replays or gets 409', async () => {
        const key = randomUUID();
        const body = { payload: `race ${key}`, description: 'lowercase' };
        const before = await recordCount();
        const answers = await Promise.all(
          Array.from({ length: 8 }, () => request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } })),
        );
        const ran = answers.filter((answer) => answer.status === status && answer.headers.get('idempotent-replayed') === null);
        assert.equal(ran.length, 1, `statuses: ${answers.map((answer) => answer.status).join(',')}`);
        for (const answer of answers) {
          if (answer === ran[0]) continue;
          if (answer.status === 409) assertProblem(answer, 409, /still being processed/);
          else {
            assert.equal(answer.status, status);
            assert.equal(answer.text, ran[0]!.text);
          }
        }
        assert.equal(await recordCount(), before + 1);
        const rows = await sql('SELECT count(*)::int AS n FROM data_records WHERE payload = $1::jsonb', [JSON.stringify(body.payload)]);
        assert.deepEqual(rows, [{ n: 1 }]);
      });

      it('keys are per endpoint: one key on the other endpoint runs there', async () => {
        const key = randomUUID();
        const body = { payload: 'shared key', description: 'length' };
        const here = await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } });
        const otherPath = path === '/data/process' ? '/data/process-async' : '/data/process';
        const there = await request(`${api}${otherPath}`, { json: body, headers: { 'idempotency-key': key } });
        assert.equal(here.headers.get('idempotent-replayed'), null);
        assert.equal(there.headers.get('idempotent-replayed'), null);
        assert.notEqual((here.body as any).task_id, (there.body as any).task_id);
      });

      it('hostile keys → 400, nothing runs', async () => {
        const before = await recordCount();
        const body = { payload: 'k' };
        const hostile = ['x'.repeat(256), 'x'.repeat(10_000), 'caf\u00e9', 'tab\there'];
        for (const key of hostile) {
          assertProblem(await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': key } }), 400, /Idempotency-Key/);
        }
        // fetch strips surrounding spaces: an all-space key arrives empty.
        assertProblem(await request(`${api}${path}`, { json: body, headers: { 'idempotency-key': '   ' } }), 400, /Idempotency-Key/);
        // Control characters fetch refuses to send go over a raw socket.
        for (const key of ['a\x01b', 'a\x7fb', 'a\x00b']) {
          const raw = await rawHttp(
            api,
            `POST /api/v1${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\nContent-Length: 15\r\nConnection: close\r\n\r\n`,
            '{"payload":"k"}',
          );
          assertProblem(asTestResponse(raw), 400);
        }
        // 255 printable characters is the longest key allowed.
        const longest = await request(`${api}${path}`, { json: { payload: `k ${randomUUID()}` }, headers: { 'idempotency-key': `${randomUUID()}${'k'.repeat(219)}` } });
        assert.equal(longest.status, status);
        assert.equal(await recordCount(), before + 1);
      });
    });
  }
});
