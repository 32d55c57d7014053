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
//   cross-checks  the HTTP floor and Flowgate's sync endpoint again with wrk, the insert floor with pgbench,
//          Redis with redis-benchmark (scripts/lib/crossChecks.mjs), so the floors can be judged against tools
//          that are not Node clients
// Floor chain for sync at concurrency c: per-request time is the sum of the three per-op times,
//   1 / chain(c) = 1 / rpc(c) + 1 / insert(c) + 1 / http(c)        (throughputs in ops/s)
// Every point starts once the machine is quiet (settle), so no point pays for the one before.
// Prints a Markdown table and writes bench/results/<date>.json. See docs/performance.md.
import { fork, execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { freePort } from './lib/freePort.mjs';
import { ensureInstalledAndBuilt, ROOT, NODE } from './lib/prerequisites.mjs';
import { removeRunResources } from './lib/runResources.mjs';
import { cpuByGroup, cpuSnapshot, machineBusyShare } from './lib/cpuUsage.mjs';
import { insertFloorRecord, openRawRpc } from './lib/floorWork.mjs';
import { crossCheckToolVersions, ensureCrossCheckTools, pgbenchInsert, PGBENCH_SETUP_SQL, redisBenchmark, wrkLoad } from './lib/crossChecks.mjs';

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
const DURATION_S = Number(args.duration ?? (QUICK ? 3 : 8));
const WARMUP_S = QUICK ? 1 : 2;
const JOBS = Number(args.jobs ?? (QUICK ? 2_000 : 10_000));
const CONCURRENCIES = [1, 16, 64];
// The independent tools re-measure every concurrency in a full run, only the targets' (64) in a quick one.
const CROSS_CHECK_CONCURRENCIES = QUICK ? [64] : CONCURRENCIES;
const REDIS_BENCHMARK_REQUESTS = QUICK ? 50_000 : 200_000;
// A full run measures what the targets compare in rounds, every other one in reverse order, and keeps
// each figure's best round: on a shared machine one point can lose a fifth of its speed to a
// neighbour, and the best round is the nearest to what the part can do. Concurrency 64 gets three
// rounds, the async drain (10,000 tasks a round) two.
const SYNC_TARGET_ROUNDS = QUICK ? 1 : 3;
const ASYNC_ROUNDS = QUICK ? 1 : 2;
const RUN = `bench_${Date.now().toString(36)}`;
const log = (message) => console.error(`[bench] ${message}`);

// Like `npm start` and `npm test`: install and build first if this checkout has not been.
ensureInstalledAndBuilt(log);
const TOOLS = ensureCrossCheckTools(log);
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
const QUIET_SHARE = 0.15;
const SETTLE_MAX_MS = 30_000;
const DRAIN_POLL_MS = 50;
const ASYNC_WARMUP_JOBS = QUICK ? 200 : 500;


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

/**
 * The floor chain at one concurrency: per-request time is the sum of the three per-op times. Its
 * latencies are not a measured distribution but the sum of the three floors' percentiles, a reference.
 */
function chainOf(rpc, insert, http) {
  const sum = (p) => Math.round((rpc[p] + insert[p] + http[p]) * 100) / 100;
  return { rps: Math.round(10 / (1 / rpc.rps + 1 / insert.rps + 1 / http.rps)) / 10, p50: sum('p50'), p95: sum('p95'), p99: sum('p99') };
}

/** Adds a round of a figure to `slot[key]`: every round under `rounds`, the best (by `score`) at the top. */
function recordRound(slot, key, result, score = (round) => round.rps) {
  const rounds = [...(slot[key]?.rounds ?? []), result];
  const best = rounds.reduce((a, b) => (score(b) > score(a) ? b : a));
  slot[key] = { ...best, rounds };
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

/**
 * Waits until the logger has written every task event of the point before and the machine is quiet
 * (under QUIET_SHARE of its CPU busy), so every point, Flowgate's and the floors', starts from rest:
 * without it a floor ran while the logger still drained the events of the Flowgate run before it.
 */
async function settle(label, taskLogBacklog) {
  const started = performance.now();
  let backlog = 0;
  let busy = 0;
  while (performance.now() - started < SETTLE_MAX_MS) {
    backlog = await taskLogBacklog();
    busy = await machineBusyShare(250);
    if (backlog === 0 && busy < QUIET_SHARE) break;
  }
  const waited = performance.now() - started;
  if (backlog > 0 || busy >= QUIET_SHARE) log(`${label}: not quiet after ${SETTLE_MAX_MS / 1000} s (${backlog} task events waiting, CPU ${Math.round(busy * 100)}% busy); measuring anyway`);
  else if (waited > 1_000) log(`${label}: waited ${(waited / 1000).toFixed(1)} s for the machine to be quiet`);
  return Math.round(waited);
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

/**
 * Flowgate's async flow: `jobs` POSTs to process-async on 64 connections (autocannon, fixed amount), from
 * the first submit until no task of the run is Processing any more; then the exact Success and record
 * counts of the accepted ids.
 */
async function flowgateAsyncRun({ apiUrl, recordsDb, jobs, pids }) {
  const ids = [];
  let non2xx = 0;
  let responses = 0;
  let submittedAt;
  // Every row this run writes has a larger id (the api inserts each task's row before its 202).
  const firstId = Number((await recordsDb.query('SELECT coalesce(max(id), 0) AS id FROM data_records')).rows[0].id);
  const cpuBefore = cpuSnapshot();
  const started = Date.now();
  const instance = autocannon({
    url: apiUrl,
    connections: 64,
    amount: jobs,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/data/process-async',
        headers: { 'content-type': 'application/json' },
        body: SYNC_BODY,
        onResponse: (status, body) => {
          if (status === 202) ids.push(JSON.parse(body).task_id);
          else non2xx += 1;
          // autocannon resolves with `amount` only on its next one-second tick, so the last answer marks the end.
          if (++responses === jobs) submittedAt = Date.now();
        },
      },
    ],
  });
  void instance.then(() => {
    submittedAt ??= Date.now();
  });
  // Cheap to ask while the drain runs: only this run's rows still Processing, through the status index.
  const countProcessing = async () =>
    Number((await recordsDb.query(`SELECT count(*) AS n FROM data_records WHERE task_status = 'Processing' AND id > $1`, [firstId])).rows[0].n);
  let processing = -1;
  let lastProgress = Date.now();
  let finishedAt;
  for (;;) {
    await sleep(DRAIN_POLL_MS);
    const now = Date.now();
    const count = await countProcessing();
    if (count !== processing) lastProgress = now;
    processing = count;
    if (submittedAt !== undefined && processing === 0) {
      finishedAt = now;
      break;
    }
    if (now - lastProgress > 60_000) {
      log(`async drain stalled with ${processing} tasks Processing`);
      break;
    }
  }
  const cpu = cpuPerItem(cpuBefore, pids, ids.length);
  await instance;
  const counts = (await recordsDb.query(`SELECT count(*) AS records, count(*) FILTER (WHERE task_status = 'Success') AS success FROM data_records WHERE task_id = ANY($1::uuid[])`, [ids])).rows[0];
  const success = Number(counts.success);
  const records = Number(counts.records);
  return {
    jobs,
    accepted: ids.length,
    non2xx,
    accept_rate: Math.round((ids.length / ((submittedAt - started) / 1000)) * 10) / 10,
    drain_rate: finishedAt ? Math.round((success / ((finishedAt - started) / 1000)) * 10) / 10 : null,
    drain_s: finishedAt ? (finishedAt - started) / 1000 : null,
    success,
    records,
    complete: Boolean(finishedAt) && success === jobs && records === jobs,
    cpu_ms_per_task: cpu,
  };
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
  // The same floors (and Flowgate's sync endpoint) measured by independent tools: wrk, pgbench, redis-benchmark.
  cross_checks: { tools: [], http: {}, insert: {}, sync_api: {}, chain: {} },
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
    log(`starting Flowgate (run ${RUN}; its logs in ${runDir} are removed after a run that succeeds, kept after one that fails or profiles)`);
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
  await pgFloor.query(PGBENCH_SETUP_SQL);
  results.cross_checks.tools = [...TOOLS];
  Object.assign(results.versions, await crossCheckToolVersions(TOOLS));

  // Floor helpers: bare HTTP server and echo RPC consumer, each in its own process.
  const httpHelper = forkHelper('http', {});
  const echoHelper = forkHelper('echo', { RABBITMQ_URL, FLOOR_QUEUE: `${RUN}_floor_rpc`, PROCESSOR_PREFETCH: String(PREFETCH) });
  helpers.push(httpHelper.child, echoHelper.child);
  const bareUrl = `http://127.0.0.1:${(await httpHelper.ready).port}`;
  await echoHelper.ready;

  const rpcCall = await openRawRpc(amqpConnection, `${RUN}_floor_rpc`);
  // A running system (--url) has a task-logs queue of its own naming: there only the CPU says when it is quiet.
  const backlogChannel = system ? await amqpConnection.createChannel() : undefined;
  const taskLogBacklog = async () => (backlogChannel ? (await backlogChannel.checkQueue(RUN_ENV.TASK_LOGS_QUEUE)).messageCount : 0);
  let insertId = 0;
  const insertOne = () => insertFloorRecord(pgFloor, '8000', ++insertId);

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
  await flowgateAsyncRun({ apiUrl, recordsDb, jobs: ASYNC_WARMUP_JOBS, pids: {} });

  // ---------- sync and its floors, alternating per concurrency ----------
  for (const c of CONCURRENCIES) {
    const crossCheck = CROSS_CHECK_CONCURRENCIES.includes(c);
    const wrkAt = (url) => wrkLoad({ url: `${url}/api/v1/data/process`, connections: c, durationS: DURATION_S, body: SYNC_BODY, scriptDir: runDir });
    const order = [
      ['sync', 'api', () => httpLoad(apiUrl, c, DURATION_S)],
      ['floor', 'rpc', () => boundedLoop(c, DURATION_S, rpcCall)],
      ...(crossCheck && TOOLS.has('wrk') ? [['cross', 'http', () => wrkAt(bareUrl)]] : []),
      ...(nginxUrl ? [['sync', 'nginx', () => httpLoad(nginxUrl, c, DURATION_S)]] : []),
      ['floor', 'insert', () => boundedLoop(c, DURATION_S, insertOne)],
      ...(crossCheck && TOOLS.has('wrk') ? [['cross', 'sync_api', () => wrkAt(apiUrl)]] : []),
      ['floor', 'http', () => httpLoad(bareUrl, c, DURATION_S)],
      ...(crossCheck && TOOLS.has('pgbench')
        ? [['cross', 'insert', (round) => pgbenchInsert({ databaseUrl: benchDbUrl, clients: Math.min(c, POOL_MAX), durationS: DURATION_S, scriptDir: runDir, label: `c${c}-${round}` })]]
        : []),
    ];
    const rounds = c === 64 ? SYNC_TARGET_ROUNDS : 1;
    for (let round = 1; round <= rounds; round++) {
      for (const [kind, name, run] of round % 2 === 1 ? order : [...order].reverse()) {
        const settleMs = await settle(`c${c} ${kind} ${name}`, taskLogBacklog);
        const result = { ...(await run(round)), settle_ms: settleMs, round };
        const slot = kind === 'sync' ? (results.sync[name] ??= {}) : kind === 'cross' ? results.cross_checks[name] : results.floors[name];
        recordRound(slot, `c${c}`, result);
        log(`${rounds > 1 ? `round ${round} ` : ''}c${c} ${kind} ${name}${result.tool ? ` (${result.tool})` : ''}: ${result.rps} /s  p50 ${result.p50} p95 ${result.p95} p99 ${result.p99} ms${result.non2xx || result.failures || result.errors ? `  (non-2xx ${result.non2xx ?? 0}, errors ${result.errors ?? result.failures ?? 0})` : ''}`);
      }
    }
    const rpc = results.floors.rpc[`c${c}`];
    results.floors.chain[`c${c}`] = chainOf(rpc, results.floors.insert[`c${c}`], results.floors.http[`c${c}`]);
    // The chain again with the insert and the HTTP floor as pgbench and wrk measured them (no independent RPC tool).
    const independent = { insert: results.cross_checks.insert[`c${c}`], http: results.cross_checks.http[`c${c}`] };
    if (independent.insert && independent.http) results.cross_checks.chain[`c${c}`] = chainOf(rpc, independent.insert, independent.http);
  }

  // ---------- async: raw BullMQ floor, then Flowgate ----------
  /**
   * Raw BullMQ: N jobs added by 64 concurrent adders with Flowgate's job options, processed by a worker
   * in its own process (concurrency = WORKER_CONCURRENCY); first add to last completion. `work` is what
   * the worker does per job: nothing, or Flowgate's per-task work done raw (an RPC to the echo consumer,
   * then a single-row insert).
   */
  const runBullmqFloor = async (label, work, round) => {
    const settleMs = await settle(label, taskLogBacklog);
    const floorPrefix = `${RUN}_floor_${work}_${round}`;
    const worker = forkHelper('bullmq', {
      REDIS_HOST: redisUrl.hostname,
      REDIS_PORT: redisUrl.port || '6379',
      FLOOR_QUEUE: 'floor',
      FLOOR_PREFIX: floorPrefix,
      FLOOR_JOBS: String(JOBS),
      FLOOR_WORK: work,
      FLOOR_RPC_QUEUE: `${RUN}_floor_rpc`,
      FLOOR_ID_SERIES: `9${String(round).padStart(3, '0')}`,
      RABBITMQ_URL,
      DATABASE_URL: benchDbUrl,
      DATABASE_POOL_MAX: String(POOL_MAX),
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    });
    helpers.push(worker.child);
    await worker.ready;
    const done = new Promise((resolve, reject) =>
      worker.child.on('message', (message) => {
        if (message?.done) resolve(message.at);
        if (message?.failed) reject(new Error(`${label}: a job failed (${message.failed}); the floor would measure retries`));
      }),
    );
    done.catch(() => undefined); // awaited below, once every job is added
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
      settle_ms: settleMs,
      round,
      cpu_ms_per_job: cpuPerItem(cpuBefore, { load_generator: process.pid, floor_worker: worker.child.pid }, JOBS),
    };
    await queue.close();
    await stopHelper(worker.child);
    log(`${label}: add ${floor.add_rate}/s, add+process ${floor.drain_rate} jobs/s`);
    return floor;
  };

  if (TOOLS.has('redis-benchmark')) {
    await settle('redis-benchmark', taskLogBacklog);
    results.cross_checks.redis = await redisBenchmark({ redisUrl: REDIS_URL, clients: 64, requests: REDIS_BENCHMARK_REQUESTS, keyPrefix: RUN });
    log(`redis-benchmark, 64 clients: SET ${results.cross_checks.redis.set.rps}/s, EVAL ${results.cross_checks.redis.eval.rps}/s`);
  }
  const servicePids = Object.fromEntries([...(system?.children ?? [])].filter(([name]) => name !== 'nginx').map(([name, child]) => [name, child.pid]));
  const asyncRuns = [
    [results.floors, 'bullmq', (round) => {
      log(`raw BullMQ: add+process ${JOBS} empty jobs`);
      return runBullmqFloor('raw BullMQ, empty jobs', 'empty', round);
    }],
    [results.floors, 'bullmq_chain', (round) => {
      log(`raw BullMQ: add+process ${JOBS} jobs that each make the RPC and the insert`);
      return runBullmqFloor('raw BullMQ, RPC + insert per job', 'rpc+insert', round);
    }],
    [results, 'async', async (round) => {
      log(`Flowgate async: submit ${JOBS} tasks, wait until all are Success`);
      const settleMs = await settle('Flowgate async', taskLogBacklog);
      const run = await flowgateAsyncRun({ apiUrl, recordsDb, jobs: JOBS, pids: { ...servicePids, load_generator: process.pid } });
      log(`Flowgate async: accept ${run.accept_rate}/s, drain ${run.drain_rate} jobs/s (${run.success}/${JOBS} Success, ${run.records} records)`);
      return { ...run, settle_ms: settleMs, round };
    }],
  ];
  for (let round = 1; round <= ASYNC_ROUNDS; round++) {
    for (const [slot, name, run] of round % 2 === 1 ? asyncRuns : [...asyncRuns].reverse()) {
      recordRound(slot, name, await run(round), (result) => result.drain_rate ?? 0);
    }
  }
  // A round that lost or failed a task fails the run, whichever round was faster.
  results.async.complete = results.async.rounds.every((round) => round.complete);
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
  if (c64) rows.push(['sync c64 via api: p99 ÷ p50, median of rounds (target < 4)', fmt(tailRatio(c64).value, 2), '—', '—']);
  const wrkC64 = r.cross_checks?.sync_api?.c64;
  const independentChain = r.cross_checks?.chain?.c64;
  if (wrkC64 && independentChain) {
    rows.push(['sync c64 via api, wrk: req/s vs chain of RPC, pgbench, wrk floors', fmt(wrkC64.rps), fmt(independentChain.rps), ratio(wrkC64.rps, independentChain.rps)]);
    rows.push(['sync c64 via api, wrk: p99 ÷ p50, median of rounds (target < 4)', fmt(tailRatio(wrkC64).value, 2), '—', '—']);
  }
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

/** The floors next to what independent tools measured on the same servers in the same run. */
export function renderCrossCheckTable(r) {
  const x = r.cross_checks;
  const rows = [['figure', 'bench', 'independent tool', 'bench ÷ tool']];
  const latency = (m) => `${fmt(m.p50, 2)} / ${fmt(m.p95, 2)} / ${fmt(m.p99, 2)}`;
  const pairs = [
    ['bare HTTP floor (autocannon vs wrk)', r.floors.http, x.http],
    ['pg insert floor (node-postgres vs pgbench -M prepared, clients = min(c, pool))', r.floors.insert, x.insert],
    ['Flowgate sync via api (autocannon vs wrk)', r.sync.api ?? {}, x.sync_api],
  ];
  for (const c of CONCURRENCIES) {
    for (const [label, bench, tool] of pairs) {
      const b = bench[`c${c}`];
      const t = tool[`c${c}`];
      if (!b || !t) continue;
      rows.push([`c${c} ${label}: req/s`, fmt(b.rps), fmt(t.rps), ratio(b.rps, t.rps)]);
      rows.push([`c${c} ${label}: p50 / p95 / p99 ms`, latency(b), latency(t), ratio(b.p99, t.p99)]);
    }
    const chain = r.floors.chain[`c${c}`];
    const independent = x.chain[`c${c}`];
    if (chain && independent) rows.push([`c${c} floor chain (RPC + insert + HTTP): req/s`, fmt(chain.rps), fmt(independent.rps), ratio(chain.rps, independent.rps)]);
  }
  if (x.redis) {
    rows.push([`Redis at 64 clients (redis-benchmark): SET / EVAL of 2 commands, ops/s`, '—', `${fmt(x.redis.set.rps)} / ${fmt(x.redis.eval.rps)}`, '—']);
  }
  return rows.length > 1 ? markdownTable(rows) : 'no independent tool was available (wrk, pgbench, redis-benchmark)';
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

/**
 * The tail target of a figure measured in rounds: p99 ÷ p50 of each round, and their median as the
 * value. The best round by throughput need not be the one with the steadiest tail, and one stall of
 * the machine in one round should neither decide nor hide it: every round's value is printed.
 */
function tailRatio(figure) {
  const perRound = (figure.rounds ?? [figure]).map((round) => Math.round((100 * round.p99) / round.p50) / 100);
  const sorted = [...perRound].sort((a, b) => a - b);
  const median = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { value: median, target: '< 4', met: median < 4, ...(perRound.length > 1 ? { per_round: perRound } : {}) };
}

/**
 * Flowgate's c64 throughput over the chain of `floors` (rpc, insert, http) round by round, each round
 * against the floors of the same round: how far the best-of figure could be from any one round.
 */
function perRoundRatios(flowgate, [rpc, insert, http]) {
  const rounds = flowgate?.rounds ?? [];
  if (rounds.length < 2 || ![rpc, insert, http].every((floor) => floor?.rounds?.length === rounds.length)) return undefined;
  return rounds.map((round, i) => Math.round((100 * round.rps) / chainOf(rpc.rounds[i], insert.rounds[i], http.rounds[i]).rps) / 100);
}

function crossCheckedSyncTargets(r) {
  const wrkC64 = r.cross_checks?.sync_api?.c64;
  const chain = r.cross_checks?.chain?.c64;
  if (!wrkC64 || !chain) return {};
  const floors = [r.floors.rpc.c64, r.cross_checks.insert.c64, r.cross_checks.http.c64];
  return {
    sync_c64_wrk_vs_chain_of_independent_tools: { value: wrkC64.rps / chain.rps, target: '>= 0.5', met: wrkC64.rps / chain.rps >= 0.5, per_round: perRoundRatios(wrkC64, floors) },
    sync_c64_wrk_p99_over_p50: tailRatio(wrkC64),
  };
}

export function targets(r) {
  const c64 = r.sync.api?.c64;
  const chain = r.floors.chain.c64;
  const maxRss = Math.max(...Object.values(r.memory).map((m) => m.peak_mb), 0);
  return {
    sync_c64_vs_chain: {
      value: c64 && chain ? c64.rps / chain.rps : null,
      target: '>= 0.5',
      met: Boolean(c64 && c64.rps / chain.rps >= 0.5),
      per_round: perRoundRatios(c64, [r.floors.rpc.c64, r.floors.insert.c64, r.floors.http.c64]),
    },
    sync_c64_p99_over_p50: c64 ? tailRatio(c64) : { value: null, target: '< 4', met: false },
    // The same two targets with every measurement an independent tool can make made by one: Flowgate and the
    // HTTP floor driven by wrk, the insert floor by pgbench (RabbitMQ has no such tool here: the RPC floor stays).
    ...crossCheckedSyncTargets(r),
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
  const crossCheckTable = renderCrossCheckTable(r);
  r.cross_check_table = crossCheckTable;
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.date.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  console.log(`\nFlowgate benchmark, ${r.mode} run, ${r.date}, ${r.machine.cpus} CPUs, ${r.machine.memory_mb} MB, kernel ${r.machine.kernel}`);
  console.log(`node ${r.versions.node}, postgres ${r.versions.postgres}, redis ${r.versions.redis}, rabbitmq ${r.versions.rabbitmq}\n`);
  console.log(table);
  console.log(`\n${crossCheckTable}`);
  console.log(`\n${cpuTable}`);
  console.log('\ntargets:');
  for (const [name, t] of Object.entries(r.targets)) {
    const rounds = t.per_round ? `; round by round ${t.per_round.map((value) => fmt(value, 2)).join(' / ')}` : '';
    console.log(`  ${t.met ? 'met   ' : t.met === null ? 'n/a   ' : 'MISSED'} ${name} = ${t.value === null ? '—' : fmt(t.value, 2)} (target ${t.target}${rounds})`);
  }
  console.log(`\nresults written to ${file.slice(ROOT.length)} (took ${r.elapsed_s} s)`);
  await cleanup();
  if (!args.profile) rmSync(join(ROOT, '.run', RUN), { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  console.error(`[bench] failed: ${error.stack ?? error.message}`);
  await cleanup();
  process.exit(1);
}
