import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../support/http.js';
import { sharedSystem, startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { AUTHORIZATION, TEST_API_KEY } from '../support/testEnv.js';

const seedBody = { payload: 'hello world', description: 'uppercase' };

describe('protection: API keys, rate limits, security headers', () => {
  describe('with the default settings', () => {
    let api: string;
    before(async function () {
      this.timeout(60_000);
      api = `${(await sharedSystem()).urls.api}/api/v1`;
    });

    it('needs an API key to DELETE a record, and refuses a wrong one', async () => {
      const created = await request(`${api}/data/process`, { json: seedBody });
      const url = `${api}/database/records/${created.body.task_id}`;

      const anonymous = await request(url, { method: 'DELETE' });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
      const wrong = await request(url, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_API_KEY}x` } });
      assert.equal(wrong.status, 401);
      assert.equal((await request(url)).status, 200, 'a refused DELETE removes nothing');

      assert.equal((await request(url, { method: 'DELETE', headers: AUTHORIZATION })).status, 204);
    });

    it('serves without a key when keys are not required for every route', async () => {
      assert.equal((await request(`${api}/data/process`, { json: seedBody })).status, 200);
    });

    it('scopes idempotency keys per API key: one caller never replays another\'s response', async () => {
      const key = `scoped-${Date.now()}`;
      const anonymous = await request(`${api}/data/process`, { json: seedBody, headers: { 'idempotency-key': key } });
      const withKey = await request(`${api}/data/process`, { json: seedBody, headers: { 'idempotency-key': key, ...AUTHORIZATION } });
      assert.equal(anonymous.status, 200);
      assert.equal(withKey.status, 200);
      assert.equal(withKey.headers.get('idempotent-replayed'), null);
      assert.notEqual(withKey.body.task_id, anonymous.body.task_id);
    });

    it('sends security headers on API responses and the docs page', async () => {
      for (const url of [`${api}/data/process-async/00000000-0000-4000-8000-000000000000`, `${api}/docs/`]) {
        const response = await request(url);
        assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN');
        assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
        assert.doesNotMatch(response.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/, 'the docs page must load over plain HTTP');
        assert.equal(response.headers.get('x-powered-by'), null);
      }
    });
  });

  describe('with keys required and a small rate limit', () => {
    let system: TestSystem;
    let api: string;
    before(async function () {
      this.timeout(60_000);
      system = await startTestSystem('protection', {
        only: ['api', 'processor'],
        nginx: false,
        env: { REQUIRE_API_KEY: 'true', RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_SECONDS: '60' },
      });
      api = system.urls.api;
    });
    after(async () => stopTestSystem(system));

    it('refuses every route without a key except probes and metrics', async () => {
      assert.equal((await request(`${api}/api/v1/data/process`, { json: seedBody })).status, 401);
      assert.equal((await request(`${api}/api/v1/database/records`)).status, 401);
      assert.equal((await request(`${api}/health`)).status, 200);
      assert.equal((await request(`${api}/ready`)).status, 200);
      assert.equal((await request(`${api}/ready/serving`)).status, 200, 'the kubelet sends no key');
      assert.equal((await request(`${api}/metrics`)).status, 200);
    });

    it('answers 429 with Retry-After past the per-client limit, per key', async () => {
      const answers = [];
      for (let i = 0; i < 7; i++) answers.push(await request(`${api}/api/v1/database/records`, { headers: AUTHORIZATION }));
      assert.deepEqual(answers.slice(0, 5).map((answer) => answer.status), [200, 200, 200, 200, 200]);
      // The IETF draft-7 headers say how much of the window's quota is left.
      assert.equal(answers[0]!.headers.get('ratelimit-policy'), '5;w=60');
      assert.match(answers[1]!.headers.get('ratelimit') ?? '', /^limit=5, remaining=3, reset=\d+$/);
      const limited = await request(`${api}/api/v1/database/records`, { headers: AUTHORIZATION });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await request(`${api}/health`)).status, 200, 'probes are never limited');
      assert.equal((await request(`${api}/ready/serving`)).status, 200, 'probes are never limited');
    });

    it('logs only JSON lines: no library warning or stack trace in the log stream', () => {
      // Runs after the requests above, which went through every guard, the rate limiter included.
      const lines = readFileSync(join(system.runDir, 'api.log'), 'utf8').split('\n').filter((line) => line.trim() !== '');
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line.slice(0, 200)}`);
    });
  });
});
