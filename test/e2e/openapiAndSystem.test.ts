import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { COMPONENTS } from '../../services/operator/src/flowgateResource.js';
import { READINESS_PATHS } from '../../services/operator/src/render/deployments.js';
import { request } from '../support/http.js';
import { sharedSystem, type TestSystem } from '../support/system.js';
import { assertProblem } from './helpers.js';

describe('OpenAPI document, docs page and system endpoints', () => {
  let system: TestSystem;
  let api: string;

  before(async function () {
    this.timeout(60_000);
    system = await sharedSystem();
    api = system.urls.api;
  });

  describe('GET /api/v1/openapi.json', () => {
    let document: any;

    before(async () => {
      const response = await request(`${api}/api/v1/openapi.json`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      document = response.body;
    });

    it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
      assert.match(document.openapi, /^3\.1\.\d+$/);
      const validator = new Validator();
      const result = await validator.validate(structuredClone(document));
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
      assert.equal(validator.version, '3.1');
      // The validator checks structure, not references: every $ref must name an existing component.
      const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]!);
      assert.ok(refs.length > 5);
      for (const ref of new Set(refs)) {
        const match = /^#\/components\/schemas\/([A-Za-z0-9_]+)$/.exec(ref);
        assert.ok(match && document.components.schemas[match[1]!], `dangling or malformed $ref ${ref}`);
      }
      // JSON Schema 2020-12 forbids a fragment in $id.
      assert.doesNotMatch(JSON.stringify(document), /"\$id":"[^"]*#[^"]/);
    });

    it("states the paging bounds the README's API section gives, and the api enforces them", async () => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
      const apiSection = readme.slice(readme.indexOf('## API reference'), readme.indexOf('\n## ', readme.indexOf('## API reference') + 1));
      const bounds = {
        limit: { minimum: 1, maximum: 100, default: 20 },
        offset: { minimum: 0, maximum: 1_000_000, default: 0 },
      };
      assert.match(apiSection, /`limit` 1–100 \(default 20\)/);
      assert.match(apiSection, /`offset` 0–1,000,000\s+\(default 0\)/);
      for (const path of ['/api/v1/database/records', '/api/v1/database/logs']) {
        for (const [name, expected] of Object.entries(bounds)) {
          const parameter = document.paths[path].get.parameters.find((candidate: any) => candidate.name === name && candidate.in === 'query');
          assert.deepEqual(
            { type: parameter.schema.type, minimum: parameter.schema.minimum, maximum: parameter.schema.maximum, default: parameter.schema.default },
            { type: 'integer', ...expected },
            `${path} ${name}`,
          );
          for (const outside of [expected.minimum - 1, expected.maximum + 1].filter((value) => value >= 0)) {
            assertProblem(await request(`${api}${path}?${name}=${outside}`), 422, new RegExp(`${name}: must be an integer from ${expected.minimum} to ${expected.maximum}`));
          }
          const inside = await request(`${api}${path}?${name}=${expected.maximum}`);
          assert.equal(inside.status, 200, `${path}?${name}=${expected.maximum}: ${inside.text.slice(0, 200)}`);
          assert.equal((await request(`${api}${path}`)).body[name], expected.default);
        }
      }
    });

    it('describes every route the api serves, with its status codes', () => {
      const expected: Record<string, Record<string, string[]>> = {
        '/api/v1/data/process': { post: ['200', '400', '413', '415', '422', '503', '504'] },
        '/api/v1/data/process-async': { post: ['202', '400', '413', '415', '422', '503'] },
        '/api/v1/data/process-async/{task_id}': { get: ['200', '202', '404'] },
        '/api/v1/database/records': { get: ['200', '422'] },
        '/api/v1/database/records/{task_id}': { get: ['200', '404'], delete: ['204', '404'] },
        '/api/v1/database/logs': { get: ['200', '422'] },
        '/health': { get: ['200'] },
        '/ready': { get: ['200', '503'] },
        '/ready/serving': { get: ['200', '503'] },
      };
      for (const [path, methods] of Object.entries(expected)) {
        assert.ok(document.paths[path], `missing ${path}`);
        for (const [method, statuses] of Object.entries(methods)) {
          const operation = document.paths[path][method];
          assert.ok(operation, `missing ${method} ${path}`);
          for (const status of statuses) assert.ok(operation.responses[status], `${method} ${path} lacks ${status}`);
        }
      }
      const post = document.paths['/api/v1/data/process'].post;
      assert.ok(post.parameters.some((parameter: any) => parameter.in === 'header' && /idempotency-key/i.test(parameter.name)));
    });

    it('its DataRequest schema is the one that validates requests: operations, required payload, no extra fields', () => {
      const schema = document.components.schemas.DataRequest;
      assert.deepEqual(new Set(schema.properties.description.enum), new Set([
        'uppercase', 'lowercase', 'reverse', 'capitalize', 'trim', 'length', 'word_count', 'square', 'double', 'negate', 'abs',
        'sort', 'unique', 'sum', 'count', 'keys', 'echo',
      ]));
      assert.equal(schema.additionalProperties, false);
      assert.ok(schema.required.includes('payload'));
    });

    it('real responses match the documented schemas', async () => {
      const ajv = new Ajv2020({ strict: false, validateFormats: false });
      // The document is the root the schemas' own "#/components/schemas/..." references resolve against.
      const root = 'https://flowgate.test/openapi.json';
      ajv.addSchema({ $id: root, components: document.components });
      const check = (id: string, value: unknown) => {
        const validate = ajv.compile({ $ref: `${root}#/components/schemas/${id}` });
        assert.equal(validate(value), true, `${id}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(value).slice(0, 300)}`);
      };
      const sync = await request(`${api}/api/v1/data/process`, { json: { payload: 'schema', description: 'reverse' } });
      check('TaskResponse', sync.body);
      const problem = await request(`${api}/api/v1/data/process`, { json: { payload: 'schema', description: 'sum' } });
      check('Problem', problem.body);
      // Validation problems: errors[] entries are RFC 6901 pointers (body) or parameter names (query), as documented.
      for (const invalid of [
        await request(`${api}/api/v1/data/process`, { json: { payload: 'x', description: 42, extra: 1 } }),
        await request(`${api}/api/v1/data/process`, { body: 'null', headers: { 'content-type': 'application/json' } }),
        await request(`${api}/api/v1/database/records?limit=abc&foo=1`),
      ]) {
        assert.equal(invalid.status, 422);
        assert.ok((invalid.body as any).errors.length > 0);
        check('Problem', invalid.body);
      }
      check('DataRecord', (await request(`${api}/api/v1/database/records/${(sync.body as any).task_id}`)).body);
      check('RecordsPage', (await request(`${api}/api/v1/database/records?limit=5`)).body);
      check('TaskLogsPage', (await request(`${api}/api/v1/database/logs?limit=5`)).body);
    });
  });

  describe('docs page', () => {
    for (const via of ['api', 'nginx'] as const) {
      it(`loads with its JS and CSS from local files (via ${via})`, async () => {
        const base = via === 'api' ? api : system.urls.nginx;
        const redirect = await fetch(`${base}/api/v1/docs`, { redirect: 'manual' });
        assert.equal(redirect.status, 301);
        assert.equal(redirect.headers.get('location'), '/api/v1/docs/');

        const page = await request(`${base}/api/v1/docs/`);
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(page.text, /swagger-ui/);
        assert.doesNotMatch(page.text, /https?:\/\//, 'the page loads nothing from the network');
        const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
        assert.ok(assets.some((asset) => asset.endsWith('.js')) && assets.some((asset) => asset.endsWith('.css')), assets.join(','));
        for (const asset of assets) {
          const response = await fetch(new URL(asset, `${base}/api/v1/docs/`));
          assert.equal(response.status, 200, asset);
          const body = await response.text();
          assert.ok(body.length > 20, asset);
          assert.match(response.headers.get('content-type') ?? '', asset.endsWith('.css') ? /text\/css/ : /javascript/, asset);
        }
        const init = await (await fetch(`${base}/api/v1/docs/init.js`)).text();
        assert.match(init, /SwaggerUIBundle/);
        assert.match(page.text, /\/api\/v1\/openapi\.json/);
      });
    }
  });

  describe('system endpoints', () => {
    it('GET / describes the service and its links resolve through the public front (nginx)', async () => {
      const info = await request(`${system.urls.nginx}/`);
      assert.equal(info.status, 200);
      assert.equal((info.body as any).name, 'Flowgate');
      assert.match((info.body as any).version, /^\d+\.\d+\.\d+/);
      const links = (info.body as any).links as Record<string, string>;
      assert.ok(!Object.values(links).includes('/metrics'), 'links name /metrics, which is not served publicly');
      for (const [name, link] of Object.entries(links)) {
        if (name === 'sync' || name === 'async') continue; // POST only
        const response = await fetch(`${system.urls.nginx}${link}`, { redirect: 'manual' });
        assert.ok(response.status === 200 || response.status === 301, `${name} ${link}: ${response.status}`);
      }
    });

    it('every service answers, with its checks, the readinessProbe path the operator renders for it', async () => {
      for (const component of COMPONENTS) {
        const response = await request(`${system.urls[component]}${READINESS_PATHS[component]}`);
        assert.equal(response.status, 200, `${component} ${READINESS_PATHS[component]}: ${response.text}`);
        assert.equal((response.body as any).checks.rabbitmq, true, component);
      }
    });

    it('/health is 200 without touching dependencies; /ready is 200 with every check true', async () => {
      const health = await request(`${api}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok' });
      const ready = await request(`${system.urls.nginx}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready', checks: { rabbitmq: true, redis: true, postgres: true } });
    });

    it('HEAD answers like GET without a body: same status, type and length', async () => {
      for (const path of ['/health', '/', `/api/v1/data/process-async/${'0'.repeat(8)}-0000-4000-8000-000000000000`]) {
        const get = await request(`${api}${path}`);
        const head = await request(`${api}${path}`, { method: 'HEAD' });
        assert.equal(head.status, get.status, path);
        assert.equal(head.text, '', path);
        assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
        assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(get.text)), path);
      }
    });

    it('/metrics is Prometheus text with flowgate_ HTTP metrics by route template', async () => {
      await request(`${api}/api/v1/data/process-async/${'0'.repeat(8)}-0000-4000-8000-000000000000`);
      const metrics = await request(`${api}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /^flowgate_\w+/m);
      assert.doesNotMatch(metrics.text, /00000000-0000-4000-8000-000000000000/, 'metrics labelled with raw ids explode in cardinality');
    });

    it('/metrics is not served through nginx, in any spelling express would route to it', async () => {
      for (const path of ['/metrics', '/metrics/', '/METRICS', '/Metrics/?name[]=1', '//metrics', '/%6detrics']) {
        const response = await request(`${system.urls.nginx}${path}`);
        assertProblem(response, 404);
        assert.doesNotMatch(response.text, /flowgate_/, `${path} leaked metrics`);
      }
      // Express matches paths case-insensitively and ignores a trailing slash: why nginx must refuse each spelling.
      for (const path of ['/METRICS', '/metrics/']) assert.equal((await request(`${api}${path}`)).status, 200, path);
      assert.equal((await request(`${system.urls.nginx}/health`)).status, 200);
    });
  });
});
