import assert from 'node:assert/strict';
import { eventually, request } from '../support/http.js';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { scrape, scrapeAll, SERVICES, total, type Scrape, type Service } from './scrape.js';

/** Every metric DESIGN.md's Observability section names, and the services that record it. */
const DESIGN_METRICS: Record<string, Service[]> = {
  flowgate_http_requests_total: ['api'],
  flowgate_http_request_duration_seconds: ['api'],
  flowgate_rpc_client_duration_seconds: ['api', 'worker'],
  flowgate_rpc_server_duration_seconds: ['processor'],
  flowgate_rpc_timeouts_total: ['api', 'worker'],
  flowgate_jobs_total: ['worker'],
  flowgate_job_duration_seconds: ['worker'],
  flowgate_queue_depth: ['api', 'worker', 'processor', 'logger'],
  flowgate_idempotency_replays_total: ['api'],
  flowgate_task_events_published_total: ['api', 'worker', 'processor'],
  flowgate_task_events_written_total: ['logger'],
  flowgate_task_event_batch_duration_seconds: ['logger'],
};

/** Default process metrics the per-service dashboard relies on (prom-client, prefixed flowgate_). */
const PROCESS_METRICS = [
  'flowgate_process_cpu_seconds_total',
  'flowgate_process_resident_memory_bytes',
  'flowgate_process_open_fds',
  'flowgate_nodejs_eventloop_lag_seconds',
  'flowgate_nodejs_eventloop_lag_p99_seconds',
  'flowgate_nodejs_heap_size_used_bytes',
  'flowgate_nodejs_heap_size_total_bytes',
  'flowgate_nodejs_active_handles_total',
  'flowgate_nodejs_gc_duration_seconds',
];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const body = { payload: 'hello world', description: 'uppercase' };

function delta(before: Scrape, after: Scrape, name: string, match: Record<string, string> = {}): number {
  return total(after, name, match) - total(before, name, match);
}

describe('metrics on every service', function () {
  this.timeout(40_000);
  let full: TestSystem;
  /** api alone: no processor answers, no worker takes jobs. */
  let lonely: TestSystem;

  before(async function () {
    this.timeout(60_000);
    [full, lonely] = await Promise.all([
      startTestSystem('metrics', { nginx: false }),
      startTestSystem('metrics-no-processor', { nginx: false, only: ['api'], env: { RPC_TIMEOUT_MS: '300' } }),
    ]);
  });

  after(async () => {
    await Promise.all([full && stopTestSystem(full), lonely && stopTestSystem(lonely)]);
  });

  it('exports every metric DESIGN.md names, plus default process metrics, with a constant service label', async () => {
    const scrapes = await scrapeAll(full);
    for (const service of SERVICES) {
      const families = scrapes[service];
      for (const name of [...Object.keys(DESIGN_METRICS), ...PROCESS_METRICS]) {
        assert.ok(families.has(name), `${service} does not export ${name}`);
      }
      for (const family of families.values()) {
        assert.match(family.name, /^flowgate_/, `${service} exports ${family.name} without the flowgate_ prefix`);
        for (const sample of family.samples) assert.equal(sample.labels.service, service, `${family.name} on ${service}`);
      }
      assert.ok(total(families, 'flowgate_process_resident_memory_bytes') > 0, `${service} reports no resident memory`);
      assert.equal(families.get('flowgate_queue_depth')!.type, 'gauge');
      assert.equal(families.get('flowgate_http_request_duration_seconds')!.type, 'histogram');
      assert.equal(families.get('flowgate_jobs_total')!.type, 'counter');
    }
  });

  it('moves every counter and histogram when sync, async, replayed and polled requests flow', async () => {
    const before = await scrapeAll(full);
    const api = `${full.urls.api}/api/v1`;

    const key = `metrics-${Date.now()}`;
    const first = await request(`${api}/data/process`, { json: body, headers: { 'idempotency-key': key } });
    const replay = await request(`${api}/data/process`, { json: body, headers: { 'idempotency-key': key } });
    const plain = await request(`${api}/data/process`, { json: { payload: [3, 1, 2], description: 'sort' } });
    assert.deepEqual([first.status, replay.status, plain.status], [200, 200, 200]);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');

    const accepted = await Promise.all([0, 1].map(() => request(`${api}/data/process-async`, { json: body })));
    for (const response of accepted) {
      assert.equal(response.status, 202);
      await eventually(async () => ((await request(`${api}/data/process-async/${response.body.task_id}`)).status === 200 ? true : undefined));
    }
    const unknown = await request(`${api}/data/process-async/00000000-0000-4000-8000-000000000000`);
    assert.equal(unknown.status, 404);

    // The logger writes what the others published; wait until it has caught up.
    let seen = '';
    const after = await eventually(async () => {
      const scrapes = await scrapeAll(full);
      const published = (['api', 'worker', 'processor'] as const).reduce(
        (sum, service) => sum + delta(before[service], scrapes[service], 'flowgate_task_events_published_total', { outcome: 'published' }),
        0,
      );
      const written = delta(before.logger, scrapes.logger, 'flowgate_task_events_written_total');
      seen = `published ${published}, written ${written}`;
      return published > 0 && written === published ? scrapes : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; task events ${seen}`);
    });

    const processRoute = { method: 'POST', route: '/api/v1/data/process', status: '200' };
    assert.equal(delta(before.api, after.api, 'flowgate_http_requests_total', processRoute), 3);
    assert.equal(delta(before.api, after.api, 'flowgate_http_request_duration_seconds', processRoute), 3);
    assert.equal(delta(before.api, after.api, 'flowgate_http_requests_total', { method: 'POST', route: '/api/v1/data/process-async', status: '202' }), 2);
    const pollRoute = { method: 'GET', route: '/api/v1/data/process-async/:task_id' };
    assert.ok(delta(before.api, after.api, 'flowgate_http_requests_total', { ...pollRoute, status: '200' }) >= 2);
    assert.equal(delta(before.api, after.api, 'flowgate_http_requests_total', { ...pollRoute, status: '404' }), 1);
    assert.equal(delta(before.api, after.api, 'flowgate_idempotency_replays_total', { route: '/api/v1/data/process' }), 1);

    // Two sync calls ran (the replay did not); each async task is one worker RPC and one completed job.
    assert.equal(delta(before.api, after.api, 'flowgate_rpc_client_duration_seconds', { outcome: 'success' }), 2);
    assert.equal(delta(before.api, after.api, 'flowgate_rpc_client_duration_seconds', { operation: 'sort', outcome: 'success' }), 1);
    assert.equal(delta(before.worker, after.worker, 'flowgate_rpc_client_duration_seconds', { outcome: 'success' }), 2);
    assert.equal(delta(before.processor, after.processor, 'flowgate_rpc_server_duration_seconds', { outcome: 'success' }), 4);
    assert.equal(delta(before.worker, after.worker, 'flowgate_jobs_total', { queue: 'data', status: 'completed' }), 2);
    assert.equal(delta(before.worker, after.worker, 'flowgate_job_duration_seconds', { status: 'completed' }), 2);
    for (const service of ['api', 'worker', 'processor'] as const) {
      assert.ok(delta(before[service], after[service], 'flowgate_task_events_published_total', { outcome: 'published' }) > 0, service);
    }
    assert.ok(delta(before.logger, after.logger, 'flowgate_task_event_batch_duration_seconds', { outcome: 'success' }) > 0);
    for (const service of SERVICES) {
      assert.ok(delta(before[service], after[service], 'flowgate_process_cpu_seconds_total') > 0, `${service} CPU did not move`);
    }

    // Route labels are templates: no task id ever becomes a label value.
    const routes = new Set(after.api.get('flowgate_http_requests_total')!.samples.map((sample) => sample.labels.route));
    assert.ok(routes.has('/api/v1/data/process-async/:task_id'));
    for (const route of routes) assert.doesNotMatch(route ?? '', UUID);
    for (const family of after.api.values()) {
      for (const sample of family.samples) {
        for (const value of Object.values(sample.labels)) assert.doesNotMatch(value, UUID, `${family.name} carries an id`);
      }
    }
  });

  it('reports queue depth from the brokers with queue, broker and state labels', async () => {
    // Gauges refresh every 5 s from the brokers; the first RabbitMQ reading needs the channel open.
    const scrapes = await eventually(async () => {
      const all = await scrapeAll(full);
      return SERVICES.every((service) => all[service].get('flowgate_queue_depth')!.samples.length > 0) ? all : undefined;
    }, 15_000, 250);
    const depth = (service: Service) => scrapes[service].get('flowgate_queue_depth')!.samples;
    for (const service of ['api', 'worker'] as const) {
      const states = depth(service)
        .filter((sample) => sample.labels.queue === 'data' && sample.labels.broker === 'bullmq')
        .map((sample) => sample.labels.state);
      for (const state of ['waiting', 'active', 'delayed', 'failed']) assert.ok(states.includes(state), `${service}: no ${state}`);
    }
    const rabbit = (service: Service, queue: string, state: string) =>
      depth(service).find((sample) => sample.labels.queue === queue && sample.labels.broker === 'rabbitmq' && sample.labels.state === state);
    assert.equal(rabbit('processor', full.env.RPC_QUEUE!, 'ready')?.value, 0);
    assert.equal(rabbit('processor', full.env.RPC_QUEUE!, 'consumers')?.value, 1);
    assert.equal(rabbit('logger', full.env.TASK_LOGS_QUEUE!, 'ready')?.value, 0);
    assert.equal(rabbit('logger', full.env.TASK_LOGS_QUEUE!, 'consumers')?.value, 1);

    // With no worker, accepted jobs wait in BullMQ and the api's gauge climbs to exactly that many.
    const waiting = () => scrape(lonely.urls.api).then((api) => total(api, 'flowgate_queue_depth', { queue: 'data', broker: 'bullmq', state: 'waiting' }));
    const start = await waiting();
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await request(`${lonely.urls.api}/api/v1/data/process-async`, { json: body })).status, 202);
    }
    await eventually(async () => ((await waiting()) === start + 3 ? true : undefined), 15_000, 250);
  });

  it('counts RPC timeouts when no processor answers', async () => {
    const before = await scrape(lonely.urls.api);
    const queue = lonely.env.RPC_QUEUE!;
    const response = await request(`${lonely.urls.api}/api/v1/data/process`, { json: body });
    assert.equal(response.status, 504);
    const after = await scrape(lonely.urls.api);
    assert.equal(delta(before, after, 'flowgate_rpc_timeouts_total', { queue, operation: 'uppercase' }), 1);
    assert.equal(delta(before, after, 'flowgate_rpc_client_duration_seconds', { queue, operation: 'uppercase', outcome: 'timeout' }), 1);
    assert.equal(delta(before, after, 'flowgate_http_requests_total', { route: '/api/v1/data/process', status: '504' }), 1);
  });
});
