#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --url http://host:port [--nginx-url URL]] [-- --profile]`
//
// Measures Flowgate against the floors of its own parts on the same servers in the same run:
//   sync   POST /api/v1/data/process at concurrency 1, 16, 64, straight to the api and through nginx (autocannon)
//   async  accept rate of POST /api/v1/data/process-async (autocannon, fixed amount) and drain throughput
//          (first submit until every accepted task is Success in Postgres, counted in SQL)
//   floors raw amqplib direct-reply-to RPC to an echo consumer, raw BullMQ add+process of empty jobs,
//          raw pg single-row insert into a copy of data_records, bare express answering a fixed JSON body
//   memory peak RSS (VmHWM) of each service
// Floor chain for sync at concurrency c: per-request time is the sum of the three per-op times,
//   1 / chain(c) = 1 / rpc(c) + 1 / insert(c) + 1 / http(c)        (throughputs in ops/s)
// Prints a Markdown table and writes bench/results/<date>.json. See docs/performance.md.
import { fork, execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { freePort } from './lib/freePort.mjs';
import { ensureInstalledAndBuilt, ROOT, NODE } from './lib/prerequisites.mjs';
import { removeRunResources } from './lib/runResources.mjs';
import { cpuByGroup, cpuSnapshot } from './lib/cpuUsage.mjs';
import { insertFloorRecord, openRawRpc } from './lib/floorWork.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    url: { type: 'string' },
    'nginx-url': { type: 'string' },
    profile: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    duration: { type: 'string' },
  },
});

const QUICK = args.quick;
const DURATION_S = Number(args.duration ?? (QUICK ? 3 : 10));
const WARMUP_S = QUICK ? 1 : 2;
const JOBS = Number(args.jobs ?? (QUICK ? 2_000 : 10_000));
const CONCURRENCIES = [1, 16, 64];
const RUN = `bench_${Date.now().toString(36)}`;
const log = (message) => console.error(`[bench] ${message}`);

// Like `npm start` and `npm test`: install and build first if this checkout has not been.
ensureInstalledAndBuilt(log);
const { default: autocannon } = await import('autocannon');

const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const BASE_DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/flowgate';
// The floors use the services' settings: their pool size, worker concurrency and prefetch defaults.
const POOL_MAX = Number(process.env.DATABASE_POOL_MAX || 20);
const WORKER_CONCURRENCY = Number(process.env.WORKER_CONCURRENCY || 64);
const PREFETCH = Number(process.env.PROCESSOR_PREFETCH || 64);
// The benchmark's own database (created by the migrate step, dropped at the end).
const benchDbUrl = (() => {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/flowgate_${RUN}`;
  return url.toString();
})();

const requireFrom = (await import('node:module')).createRequire(join(ROOT, 'services/common/package.json'));
const load = async (name) => import(requireFrom.resolve(name));
const { default: pg } = await load('pg');
const amqp = await load('amqplib');
const { Queue } = await load('bullmq');
const { Redis } = await load('ioredis');
const { jobOptionsFrom } = await import(join(ROOT, 'services/common/dist/index.js'));

const SYNC_BODY = JSON.stringify({ payload: 'hello world', description: 'uppercase' });
const JOB_OPTIONS = jobOptionsFrom({
  JOB_ATTEMPTS: 5,
  JOB_BACKOFF_MS: 1_000,
  JOB_KEEP_COMPLETED_SECONDS: 3_600,
  JOB_KEEP_COMPLETED_COUNT: 10_000,
  JOB_KEEP_FAILED_SECONDS: 86_400,
});

// ---------- helpers ----------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));


function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summarise(latencies, count, elapsedS, extra = {}) {
  const sorted = Float64Array.from(latencies).sort();
  const round = (value) => (value === null ? null : Math.round(value * 100) / 100);
  return {
    rps: Math.round((count / elapsedS) * 10) / 10,
    count,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    ...extra,
  };
}

/** autocannon for a fixed duration; latencies (ms) of 2xx answers collected per response for exact percentiles. */
async function httpLoad(url, connections, durationS, body = SYNC_BODY, path = '/api/v1/data/process') {
  const latencies = [];
  let ok = 0;
  let non2xx = 0;
  const started = performance.now();
  const instance = autocannon({
    url: url + path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: durationS,
    timeout: 30,
  });
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) {
      ok += 1;
      latencies.push(responseTime);
    } else non2xx += 1;
  });
  const result = await instance;
  const elapsedS = (performance.now() - started) / 1000;
  return summarise(latencies, ok, elapsedS, { non2xx, errors: result.errors, timeouts: result.timeouts });
}

/** `connections` loops, each running `op` back to back until the deadline. */
async function boundedLoop(concurrency, durationS, op) {
  const latencies = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await op();
        latencies.push(performance.now() - t);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  return summarise(latencies, latencies.length, elapsedS, { failures });
}

function forkHelper(mode, env) {
  const child = fork(join(ROOT, 'scripts/lib/benchFloors.mjs'), [mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise((resolve, reject) => {
    child.on('message', (message) => message?.ready && resolve(message));
    child.once('exit', (code) => reject(new Error(`floor helper ${mode} exited with code ${code}`)));
  });
  return { child, ready };
}

function stopHelper(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
  });
}

/** Peak resident set (VmHWM) and current RSS of a pid, in MB. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { peak_mb: Math.round(kb('VmHWM') / 102.4) / 10, rss_mb: Math.round(kb('VmRSS') / 102.4) / 10 };
  } catch {
    return undefined;
  }
}

/** CPU milliseconds per item (task, job) each group of processes used since `before`, and their total. */
function cpuPerItem(before, pids, items) {
  const perItem = {};
  let total = 0;
  for (const [group, seconds] of Object.entries(cpuByGroup(before, cpuSnapshot(), pids))) {
    perItem[group] = Math.round((seconds * 1000 * 1000) / items) / 1000;
    total += seconds;
  }
  perItem.total = Math.round((total * 1000 * 1000) / items) / 1000;
  return perItem;
}

// ---------- setup ----------

const results = {
  date: new Date().toISOString(),
  mode: QUICK ? 'quick' : 'full',
  settings: { duration_s: DURATION_S, warmup_s: WARMUP_S, jobs: JOBS, concurrencies: CONCURRENCIES, pool_max: POOL_MAX, worker_concurrency: WORKER_CONCURRENCY, processor_prefetch: PREFETCH },
  machine: { hostname: hostname(), cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_mb: Math.round(totalmem() / 2 ** 20), kernel: release() },
  versions: {},
  sync: {},
  floors: { rpc: {}, insert: {}, http: {}, chain: {} },
  async: {},
  memory: {},
};

let system;
let cleanupDone = false;
const helpers = [];
const pgFloor = new pg.Pool({ connectionString: benchDbUrl, max: POOL_MAX, application_name: 'flowgate-bench' });
pgFloor.on('error', () => undefined);
let amqpConnection;
let redis;

const RUN_ENV = {
  DATABASE_URL: benchDbUrl,
  RABBITMQ_URL,
  REDIS_URL,
  RPC_QUEUE: `${RUN}_data`,
  BULLMQ_PREFIX: RUN,
  JOBS_QUEUE: 'data',
  TASK_EVENTS_EXCHANGE: `${RUN}_events`,
  TASK_LOGS_QUEUE: `${RUN}_task_logs`,
  // One load generator is one client: the limiter still runs on every request (its cost is measured), but never refuses.
  RATE_LIMIT_MAX: '100000000',
};

async function cleanup() {
  if (cleanupDone) return;
  cleanupDone = true;
  for (const child of helpers) await stopHelper(child).catch(() => undefined);
  if (system) {
    log('stopping the system');
    await system.stop().catch(() => undefined);
  }
  await pgFloor.end().catch(() => undefined);
  await amqpConnection?.close().catch(() => undefined);
  redis?.disconnect();
  await removeRunResources(
    {
      databaseUrl: benchDbUrl,
      rabbitmqUrl: RABBITMQ_URL,
      queues: [RUN_ENV.RPC_QUEUE, RUN_ENV.TASK_LOGS_QUEUE, `${RUN}_floor_rpc`],
      exchanges: [RUN_ENV.TASK_EVENTS_EXCHANGE],
      redisUrl: REDIS_URL,
      redisPrefix: RUN,
    },
    log,
  );
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main() {
  const benchStarted = performance.now();
  const { checkServers } = await import('./lib/prerequisites.mjs');
  await checkServers({ ...process.env, DATABASE_URL: BASE_DATABASE_URL });
  const runDir = join(ROOT, '.run', RUN);
  mkdirSync(runDir, { recursive: true });

  let apiUrl;
  let nginxUrl;
  if (args.url) {
    apiUrl = args.url.replace(/\/$/, '');
    nginxUrl = args['nginx-url']?.replace(/\/$/, '');
    // Only the floors' table lives in the bench database then.
    await promisify(execFile)(NODE, [join(ROOT, 'services/common/dist/bin/migrate.js')], {
      env: { ...process.env, DATABASE_URL: benchDbUrl, CREATE_DATABASE: 'true' },
    });
  } else {
    const { startSystem } = await import('./lib/system.mjs');
    const ports = { api: await freePort(), nginx: await freePort(), worker: await freePort(), processor: await freePort(), logger: await freePort() };
    const serviceEnv = {};
    if (args.profile) {
      const dir = join(runDir, 'profiles');
      mkdirSync(dir, { recursive: true });
      for (const name of ['api', 'worker', 'processor', 'logger']) {
        serviceEnv[name] = { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-name=${name}.cpuprofile` };
      }
      log(`CPU profiles will be written to ${dir}`);
    }
    log(`starting Flowgate (run ${RUN}, logs in ${runDir})`);
    system = await startSystem({ env: RUN_ENV, ports, runDir, output: 'files', serviceEnv });
    apiUrl = system.urls.api;
    nginxUrl = system.urls.nginx;
  }
  const dbUrlForRecords = args.url ? BASE_DATABASE_URL : benchDbUrl;
  const recordsDb = new pg.Pool({ connectionString: dbUrlForRecords, max: 2 });

  // Versions and the floors' own clients.
  // Nagle off: the best a raw amqplib client can do (amqplib leaves noDelay false by default).
  amqpConnection = await amqp.connect(RABBITMQ_URL, { noDelay: true });
  const redisUrl = new URL(REDIS_URL);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  results.versions = {
    node: process.version,
    postgres: (await pgFloor.query('SHOW server_version')).rows[0].server_version,
    redis: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1],
    rabbitmq: String(amqpConnection.connection.serverProperties?.version ?? 'unknown'),
    autocannon: JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version,
    bullmq: JSON.parse(readFileSync(requireFrom.resolve('bullmq/package.json'), 'utf8')).version,
  };
  await pgFloor.query('CREATE TABLE IF NOT EXISTS bench_floor_records (LIKE data_records INCLUDING ALL)');

  // Floor helpers: bare HTTP server and echo RPC consumer, each in its own process.
  const httpHelper = forkHelper('http', {});
  const echoHelper = forkHelper('echo', { RABBITMQ_URL, FLOOR_QUEUE: `${RUN}_floor_rpc`, PROCESSOR_PREFETCH: String(PREFETCH) });
  helpers.push(httpHelper.child, echoHelper.child);
  const bareUrl = `http://127.0.0.1:${(await httpHelper.ready).port}`;
  await echoHelper.ready;

  const rpcCall = await openRawRpc(amqpConnection, `${RUN}_floor_rpc`);
  let insertId = 0;
  const insertOne = () => insertFloorRecord(pgFloor, 8, ++insertId);

  // ---------- RSS sampling ----------
  const peakRss = {};
  const sampleRss = () => {
    for (const [name, child] of system?.children ?? []) {
      if (name === 'nginx' || !child.pid) continue;
      const memory = memoryOf(child.pid);
      if (!memory) continue;
      const entry = (peakRss[name] ??= { pid: child.pid, peak_mb: 0, max_sampled_rss_mb: 0 });
      entry.peak_mb = Math.max(entry.peak_mb, memory.peak_mb);
      entry.max_sampled_rss_mb = Math.max(entry.max_sampled_rss_mb, memory.rss_mb);
    }
  };
  const rssTimer = setInterval(sampleRss, 500);

  // ---------- warm-up ----------
  log('warming up');
  const targets = [['api', apiUrl], ...(nginxUrl ? [['nginx', nginxUrl]] : [])];
  for (const [, url] of targets) await httpLoad(url, 16, WARMUP_S);
  await httpLoad(bareUrl, 16, WARMUP_S);
  await boundedLoop(16, WARMUP_S / 2, rpcCall);
  await boundedLoop(16, WARMUP_S / 2, insertOne);

  // ---------- sync and its floors, alternating per concurrency ----------
  for (const c of CONCURRENCIES) {
    const order = [
      ['sync', 'api', () => httpLoad(apiUrl, c, DURATION_S)],
      ['floor', 'rpc', () => boundedLoop(c, DURATION_S, rpcCall)],
      ...(nginxUrl ? [['sync', 'nginx', () => httpLoad(nginxUrl, c, DURATION_S)]] : []),
      ['floor', 'insert', () => boundedLoop(c, DURATION_S, insertOne)],
      ['floor', 'http', () => httpLoad(bareUrl, c, DURATION_S)],
    ];
    for (const [kind, name, run] of order) {
      const result = await run();
      if (kind === 'sync') (results.sync[name] ??= {})[`c${c}`] = result;
      else results.floors[name][`c${c}`] = result;
      log(`c${c} ${kind} ${name}: ${result.rps} /s  p50 ${result.p50} p95 ${result.p95} p99 ${result.p99} ms${result.non2xx || result.failures || result.errors ? `  (non-2xx ${result.non2xx ?? 0}, errors ${result.errors ?? result.failures ?? 0})` : ''}`);
    }
    const { rpc, insert, http } = { rpc: results.floors.rpc[`c${c}`], insert: results.floors.insert[`c${c}`], http: results.floors.http[`c${c}`] };
    results.floors.chain[`c${c}`] = {
      rps: Math.round(10 / (1 / rpc.rps + 1 / insert.rps + 1 / http.rps)) / 10,
      // Not a measured distribution: the sum of the three floors' percentiles, as a reference.
      p50: Math.round((rpc.p50 + insert.p50 + http.p50) * 100) / 100,
      p95: Math.round((rpc.p95 + insert.p95 + http.p95) * 100) / 100,
      p99: Math.round((rpc.p99 + insert.p99 + http.p99) * 100) / 100,
    };
  }

  // ---------- async: raw BullMQ floor, then Flowgate ----------
  /**
   * Raw BullMQ: N jobs added by 64 concurrent adders with Flowgate's job options, processed by a worker
   * in its own process (concurrency = WORKER_CONCURRENCY); first add to last completion. `work` is what
   * the worker does per job: nothing, or Flowgate's per-task work done raw (an RPC to the echo consumer,
   * then a single-row insert).
   */
  const runBullmqFloor = async (label, work) => {
    const floorPrefix = `${RUN}_floor_${work}`;
    const worker = forkHelper('bullmq', {
      REDIS_HOST: redisUrl.hostname,
      REDIS_PORT: redisUrl.port || '6379',
      FLOOR_QUEUE: 'floor',
      FLOOR_PREFIX: floorPrefix,
      FLOOR_JOBS: String(JOBS),
      FLOOR_WORK: work,
      FLOOR_RPC_QUEUE: `${RUN}_floor_rpc`,
      RABBITMQ_URL,
      DATABASE_URL: benchDbUrl,
      DATABASE_POOL_MAX: String(POOL_MAX),
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    });
    helpers.push(worker.child);
    await worker.ready;
    const done = new Promise((resolve) => worker.child.on('message', (message) => message?.done && resolve(message.at)));
    const queue = new Queue('floor', { connection: redis, prefix: floorPrefix });
    await queue.waitUntilReady();
    let added = 0;
    const cpuBefore = cpuSnapshot();
    const started = Date.now();
    const adder = async () => {
      while (added < JOBS) {
        added += 1;
        await queue.add(work, {}, JOB_OPTIONS);
      }
    };
    await Promise.all(Array.from({ length: 64 }, adder));
    const addedAt = Date.now();
    const finishedAt = await done;
    const floor = {
      jobs: JOBS,
      work,
      add_rate: Math.round((JOBS / ((addedAt - started) / 1000)) * 10) / 10,
      drain_rate: Math.round((JOBS / ((finishedAt - started) / 1000)) * 10) / 10,
      drain_s: (finishedAt - started) / 1000,
      worker_concurrency: WORKER_CONCURRENCY,
      cpu_ms_per_job: cpuPerItem(cpuBefore, { load_generator: process.pid, floor_worker: worker.child.pid }, JOBS),
    };
    await queue.close();
    await stopHelper(worker.child);
    log(`${label}: add ${floor.add_rate}/s, add+process ${floor.drain_rate} jobs/s`);
    return floor;
  };

  log(`raw BullMQ: add+process ${JOBS} empty jobs`);
  results.floors.bullmq = await runBullmqFloor('raw BullMQ, empty jobs', 'empty');
  log(`raw BullMQ: add+process ${JOBS} jobs that each make the RPC and the insert`);
  results.floors.bullmq_chain = await runBullmqFloor('raw BullMQ, RPC + insert per job', 'rpc+insert');

  log(`Flowgate async: submit ${JOBS} tasks, wait until all are Success`);
  {
    const ids = [];
    let non2xx = 0;
    const cpuBefore = cpuSnapshot();
    const started = Date.now();
    const instance = autocannon({
      url: apiUrl,
      connections: 64,
      amount: JOBS,
      timeout: 30,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/data/process-async',
          headers: { 'content-type': 'application/json' },
          body: SYNC_BODY,
          onResponse: (status, body) => {
            if (status === 202) ids.push(JSON.parse(body).task_id);
          },
        },
      ],
    });
    instance.on('response', (_client, status) => {
      if (status !== 202) non2xx += 1;
    });
    let submitted = false;
    let submittedAt;
    void instance.then(() => {
      submitted = true;
      submittedAt = Date.now();
    });
    const countSuccess = async () =>
      Number((await recordsDb.query(`SELECT count(*) AS n FROM data_records WHERE task_status = 'Success' AND task_id = ANY($1::uuid[])`, [ids])).rows[0].n);
    let success = 0;
    let lastProgress = Date.now();
    let finishedAt;
    for (;;) {
      await sleep(100);
      const now = Date.now();
      const count = ids.length > 0 ? await countSuccess() : 0;
      if (count > success) lastProgress = now;
      success = count;
      if (submitted && success >= ids.length) {
        finishedAt = Date.now();
        break;
      }
      if (now - lastProgress > 60_000) {
        log(`async drain stalled at ${success}/${ids.length}`);
        break;
      }
    }
    await instance;
    const servicePids = Object.fromEntries([...(system?.children ?? [])].filter(([name]) => name !== 'nginx').map(([name, child]) => [name, child.pid]));
    const cpu = cpuPerItem(cpuBefore, { ...servicePids, load_generator: process.pid }, ids.length);
    const records = Number((await recordsDb.query(`SELECT count(*) AS n FROM data_records WHERE task_id = ANY($1::uuid[])`, [ids])).rows[0].n);
    results.async = {
      jobs: JOBS,
      accepted: ids.length,
      non2xx,
      accept_rate: Math.round((ids.length / ((submittedAt - started) / 1000)) * 10) / 10,
      drain_rate: finishedAt ? Math.round((success / ((finishedAt - started) / 1000)) * 10) / 10 : null,
      drain_s: finishedAt ? (finishedAt - started) / 1000 : null,
      success,
      records,
      complete: Boolean(finishedAt) && success === JOBS && records === JOBS,
      cpu_ms_per_task: cpu,
    };
    log(`Flowgate async: accept ${results.async.accept_rate}/s, drain ${results.async.drain_rate} jobs/s (${success}/${JOBS} Success, ${records} records)`);
  }
  await recordsDb.end();

  clearInterval(rssTimer);
  sampleRss();
  results.memory = peakRss;
  results.elapsed_s = Math.round((performance.now() - benchStarted) / 100) / 10;
  return results;
}

// ---------- report ----------

function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
const ratio = (a, b) => (a && b ? fmt(a / b, 2) : '—');

export function renderTable(r) {
  const rows = [['figure', 'Flowgate', 'floor', 'ratio']];
  for (const c of CONCURRENCIES) {
    const chain = r.floors.chain[`c${c}`];
    for (const via of ['api', 'nginx']) {
      const s = r.sync[via]?.[`c${c}`];
      if (!s) continue;
      rows.push([`sync c${c} via ${via}: req/s`, fmt(s.rps), fmt(chain.rps), ratio(s.rps, chain.rps)]);
      rows.push([`sync c${c} via ${via}: p50 / p95 / p99 ms`, `${fmt(s.p50, 2)} / ${fmt(s.p95, 2)} / ${fmt(s.p99, 2)}`, `${fmt(chain.p50, 2)} / ${fmt(chain.p95, 2)} / ${fmt(chain.p99, 2)}`, ratio(s.p99, chain.p99)]);
    }
  }
  const c64 = r.sync.api?.c64;
  if (c64) rows.push(['sync c64 via api: p99 ÷ p50 (target < 4)', fmt(c64.p99 / c64.p50, 2), '—', '—']);
  for (const c of CONCURRENCIES) {
    const f = r.floors;
    rows.push([`floor c${c}: RPC round trip / pg insert / bare HTTP, ops/s`, '—', `${fmt(f.rpc[`c${c}`].rps)} / ${fmt(f.insert[`c${c}`].rps)} / ${fmt(f.http[`c${c}`].rps)}`, '—']);
  }
  rows.push([`async accept (${r.async.jobs} POSTs, c64): req/s vs raw BullMQ add/s`, fmt(r.async.accept_rate), fmt(r.floors.bullmq.add_rate), ratio(r.async.accept_rate, r.floors.bullmq.add_rate)]);
  rows.push([`async drain (${r.async.jobs} jobs to Success): jobs/s vs raw BullMQ, empty jobs`, fmt(r.async.drain_rate), fmt(r.floors.bullmq.drain_rate), ratio(r.async.drain_rate, r.floors.bullmq.drain_rate)]);
  rows.push([`async drain (${r.async.jobs} jobs to Success): jobs/s vs raw BullMQ, RPC + insert per job`, fmt(r.async.drain_rate), fmt(r.floors.bullmq_chain.drain_rate), ratio(r.async.drain_rate, r.floors.bullmq_chain.drain_rate)]);
  for (const [name, m] of Object.entries(r.memory)) rows.push([`peak RSS ${name}, MB (limit 200)`, fmt(m.peak_mb), '200.0', ratio(m.peak_mb, 200)]);
  return markdownTable(rows);
}

/** Where the CPU of the async run went, next to the raw BullMQ floor's: the reason for the async ratio. */
export function renderCpuTable(r) {
  const columns = [r.async.cpu_ms_per_task, r.floors.bullmq?.cpu_ms_per_job, r.floors.bullmq_chain?.cpu_ms_per_job].map((cpu) => cpu ?? {});
  const order = ['api', 'worker', 'processor', 'logger', 'floor_worker', 'postgres', 'redis', 'rabbitmq', 'nginx', 'load_generator', 'other'];
  const present = new Set(columns.flatMap((cpu) => Object.keys(cpu)));
  const groups = [...order.filter((group) => present.has(group)), ...[...present].filter((group) => !order.includes(group) && group !== 'total')];
  const rows = [['CPU ms per item, by process', 'Flowgate async task', 'raw BullMQ, empty job', 'raw BullMQ, RPC + insert job']];
  for (const group of [...groups, 'total']) rows.push([group.replace('_', ' '), ...columns.map((cpu) => fmt(cpu[group], 3))]);
  return markdownTable(rows);
}

function markdownTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

function drainTarget(r, floor) {
  const value = r.async.drain_rate && floor?.drain_rate ? r.async.drain_rate / floor.drain_rate : null;
  return { value, target: '>= 0.5', met: Boolean(r.async.complete && value !== null && value >= 0.5) };
}

export function targets(r) {
  const c64 = r.sync.api?.c64;
  const chain = r.floors.chain.c64;
  const maxRss = Math.max(...Object.values(r.memory).map((m) => m.peak_mb), 0);
  return {
    sync_c64_vs_chain: { value: c64 && chain ? c64.rps / chain.rps : null, target: '>= 0.5', met: Boolean(c64 && c64.rps / chain.rps >= 0.5) },
    sync_c64_p99_over_p50: { value: c64 ? c64.p99 / c64.p50 : null, target: '< 4', met: Boolean(c64 && c64.p99 / c64.p50 < 4) },
    // The issue asks for "50% of raw BullMQ throughput with the RPC and the insert included"; both readings
    // are reported: the floor's jobs doing that RPC and insert (as the sync target's floor chain does), and empty jobs.
    async_drain_vs_bullmq_with_rpc_and_insert: drainTarget(r, r.floors.bullmq_chain),
    async_drain_vs_bullmq_empty_jobs: drainTarget(r, r.floors.bullmq),
    max_service_rss_mb: { value: Object.keys(r.memory).length ? maxRss : null, target: '< 200', met: Object.keys(r.memory).length ? maxRss < 200 : null },
  };
}

try {
  const r = await main();
  r.targets = targets(r);
  const table = renderTable(r);
  r.table = table;
  const cpuTable = renderCpuTable(r);
  r.cpu_table = cpuTable;
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.date.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  console.log(`\nFlowgate benchmark, ${r.mode} run, ${r.date}, ${r.machine.cpus} CPUs, ${r.machine.memory_mb} MB, kernel ${r.machine.kernel}`);
  console.log(`node ${r.versions.node}, postgres ${r.versions.postgres}, redis ${r.versions.redis}, rabbitmq ${r.versions.rabbitmq}\n`);
  console.log(table);
  console.log(`\n${cpuTable}`);
  console.log('\ntargets:');
  for (const [name, t] of Object.entries(r.targets)) console.log(`  ${t.met ? 'met   ' : t.met === null ? 'n/a   ' : 'MISSED'} ${name} = ${t.value === null ? '—' : fmt(t.value, 2)} (target ${t.target})`);
  console.log(`\nresults written to ${file.slice(ROOT.length)} (took ${r.elapsed_s} s)`);
  await cleanup();
  if (!args.profile) rmSync(join(ROOT, '.run', RUN), { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  console.error(`[bench] failed: ${error.stack ?? error.message}`);
  await cleanup();
  process.exit(1);
}
