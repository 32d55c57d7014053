#!/usr/bin/env node
// `npm run dashboards:render`: renders charts/flowgate/dashboards/*.json to SVG pictures in
// docs/dashboards/ from real data. It starts the whole system on free ports (own database and
// queue names), scrapes all four /metrics endpoints with a real Prometheus (Debian package
// `prometheus`, 1 s scrape interval), drives a bounded load with autocannon (sync, async,
// idempotent replays, invalid requests, and a processor paused for a while so RPCs time out and
// queues fill), then runs every panel's PromQL through Prometheus' query_range API and draws the
// panels with vega-lite in the dashboard's own grid. Not part of `npm test`.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { startSystem } from './lib/system.mjs';
import { freePort } from './lib/freePort.mjs';
import { ROOT } from './lib/prerequisites.mjs';
import { removeRunResources } from './lib/runResources.mjs';

const log = (message) => console.log(`[dashboards] ${new Date().toISOString().slice(11, 19)} ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const LOAD_SECONDS = Number(process.env.RENDER_LOAD_SECONDS ?? 150);


const runId = Date.now().toString(36);
const runDir = join(ROOT, '.run', 'dashboards');
rmSync(runDir, { recursive: true, force: true });
mkdirSync(runDir, { recursive: true });
const ports = { api: await freePort(), nginx: await freePort(), worker: await freePort(), processor: await freePort(), logger: await freePort() };
const prefix = `render_${runId}`;
const env = {
  DATABASE_URL: `postgres://postgres@127.0.0.1:5432/flowgate_${prefix}`,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  RABBITMQ_URL: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  RPC_QUEUE: `${prefix}_data_queue`,
  TASK_EVENTS_EXCHANGE: `${prefix}_task_events`,
  TASK_LOGS_QUEUE: `${prefix}_task_logs`,
  BULLMQ_PREFIX: prefix,
  JOBS_QUEUE: 'data',
  RPC_TIMEOUT_MS: '1500',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_MAX: '0',
};

let system;
let promUrl;

function startPrometheus(port) {
  const config = join(runDir, 'prometheus.yml');
  const targets = ['api', 'worker', 'processor', 'logger'].map((service) => `'127.0.0.1:${ports[service]}'`).join(', ');
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: flowgate\n    static_configs:\n      - targets: [${targets}]\n`,
  );
  const child = spawn(
    process.env.PROMETHEUS ?? 'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(runDir, 'prometheus-data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  child.on('error', (error) => {
    console.error(`[dashboards] cannot run prometheus (apt-get install -y prometheus): ${error.message}`);
    process.exitCode = 1;
  });
  return child;
}

async function waitFor(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await sleep(250);
  }
  throw new Error(`${url} not ready`);
}

function cannon(options) {
  return autocannon({ url: `http://127.0.0.1:${ports.api}`, duration: 10, headers: { 'content-type': 'application/json' }, ...options });
}

const bodies = [
  { payload: 'hello world', description: 'uppercase' },
  { payload: 'Flowgate Observability', description: 'word_count' },
  { payload: [5, 3, 9, 1, 7, 3], description: 'sort' },
  { payload: 12, description: 'square' },
  { payload: { a: 1, b: 2 }, description: 'keys' },
];
const requests = (path) => bodies.map((body) => ({ method: 'POST', path, body: JSON.stringify(body) }));

/** Bounded phases: steady sync and async traffic, replays and client errors, a paused processor, a burst, recovery. */
async function driveLoad() {
  const phase = LOAD_SECONDS / 6;
  const steady = () =>
    Promise.all([
      cannon({ connections: 4, overallRate: 120, duration: phase, requests: requests('/api/v1/data/process') }),
      cannon({ connections: 4, overallRate: 60, duration: phase, requests: requests('/api/v1/data/process-async') }),
      cannon({
        connections: 1,
        overallRate: 10,
        duration: phase,
        requests: [{ method: 'POST', path: '/api/v1/data/process', headers: { 'content-type': 'application/json', 'idempotency-key': `k-${runId}` }, body: JSON.stringify(bodies[0]) }],
      }),
      cannon({ connections: 1, overallRate: 5, duration: phase, requests: [{ method: 'POST', path: '/api/v1/data/process', body: '{"payload": 12, "description": "uppercase"}' }] }),
      cannon({ connections: 1, overallRate: 20, duration: phase, requests: [{ method: 'GET', path: '/api/v1/data/process-async/00000000-0000-4000-8000-000000000000' }] }),
    ]);
  log('phase 1: steady traffic');
  await steady();
  await steady();
  log('phase 2: processor paused (SIGSTOP): RPC timeouts, jobs and RPC requests queue up');
  const processor = system.children.get('processor');
  processor.kill('SIGSTOP');
  await steady();
  processor.kill('SIGCONT');
  log('phase 3: processor resumed, burst of async jobs');
  await Promise.all([steady(), cannon({ connections: 16, overallRate: 300, duration: phase, requests: requests('/api/v1/data/process-async') })]);
  log('phase 4: steady traffic again');
  await steady();
  await steady();
}

function substitute(expr, rangeSeconds) {
  return expr
    .replaceAll('$__rate_interval', '15s')
    .replaceAll('$__range', `${Math.round(rangeSeconds)}s`)
    .replaceAll('$__interval', '5s')
    .replace(/\$\{?(namespace|service)\}?/g, '.*');
}

async function queryRange(expr, start, end) {
  const url = new URL('/api/v1/query_range', promUrl);
  url.search = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: '2' }).toString();
  const response = await fetch(url);
  const body = await response.json();
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

function legend(format, labels) {
  return format ? format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name) => labels[name] ?? '') : JSON.stringify(labels);
}

const UNIT_FORMAT = { s: '.2~s', bytes: '.3~s', reqps: '.3~f', ops: '.3~f', percentunit: '.1~%', short: '~s' };
const UNIT_SUFFIX = { s: 's', bytes: 'B', reqps: 'req/s', ops: '/s', percentunit: '', short: '' };

async function renderDashboard(dashboard, start, end) {
  const rows = [];
  let current;
  const panels = dashboard.panels;
  for (const panel of panels) {
    if (panel.type === 'row') {
      current = { title: panel.title, panels: [] };
      rows.push(current);
      continue;
    }
    const points = [];
    for (const target of panel.targets) {
      for (const series of await queryRange(substitute(target.expr, end - start), start, end)) {
        const name = legend(target.legendFormat, series.metric).trim() || target.refId;
        for (const [t, v] of series.values) {
          const value = Number(v);
          if (Number.isFinite(value)) points.push({ t: (t - start) / 60, v: value, series: name });
        }
      }
    }
    current.panels.push({ panel, points });
  }
  const unitOf = (panel) => panel.fieldConfig?.defaults?.unit ?? 'short';
  const chart = ({ panel, points }) => {
    const unit = unitOf(panel);
    const width = Math.round((panel.gridPos.w / 24) * 1500) - 60;
    return {
      title: { text: panel.title, anchor: 'start', fontSize: 13 },
      width,
      height: 150,
      data: { values: points.length > 0 ? points : [{ t: 0, v: 0, series: 'no data' }] },
      mark: { type: 'line', strokeWidth: 1.5, interpolate: 'monotone' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'minutes into the load run', scale: { domain: [0, (end - start) / 60] } },
        y: {
          field: 'v',
          type: 'quantitative',
          title: UNIT_SUFFIX[unit] || null,
          axis: { format: UNIT_FORMAT[unit] ?? '~s' },
          // An all-zero series (no failures) still gets a readable axis.
          scale: points.some((point) => point.v > 0) ? { domainMin: 0 } : { domain: [0, 1] },
        },
        color: { field: 'series', type: 'nominal', legend: { orient: 'bottom', title: null, columns: Math.max(1, Math.floor(width / 220)), labelLimit: 260 } },
      },
    };
  };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${dashboard.title}`, subtitle: `${dashboard.description} — rendered from a ${Math.round((end - start) / 60)}-minute local load run scraped by Prometheus`, anchor: 'start', fontSize: 20 },
    background: 'white',
    padding: 16,
    config: { view: { stroke: '#ddd' }, axis: { labelFontSize: 10, titleFontSize: 10 }, legend: { labelFontSize: 10 } },
    vconcat: rows.map((row) => ({
      title: { text: row.title, anchor: 'start', fontSize: 16, color: '#444' },
      hconcat: row.panels.map(chart),
      resolve: { scale: { color: 'independent', y: 'independent' } },
    })),
    resolve: { scale: { color: 'independent', y: 'independent' } },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

async function main() {
  log(`starting the system in ${runDir}`);
  system = await startSystem({ env, ports, runDir, output: 'files', nginx: false });
  const promPort = await freePort();
  const prometheus = startPrometheus(promPort);
  promUrl = `http://127.0.0.1:${promPort}`;
  try {
    await waitFor(`${promUrl}/-/ready`);
    log(`prometheus on ${promUrl}; load for ${LOAD_SECONDS} s`);
    const started = Date.now() / 1000;
    await driveLoad();
    await sleep(6_000); // let the last scrapes land
    const ended = Date.now() / 1000;
    const outDir = join(ROOT, 'docs', 'dashboards');
    mkdirSync(outDir, { recursive: true });
    for (const file of readdirSync(join(ROOT, 'charts/flowgate/dashboards')).filter((name) => name.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(join(ROOT, 'charts/flowgate/dashboards', file), 'utf8'));
      const svg = await renderDashboard(dashboard, started, ended);
      const target = join(outDir, file.replace(/\.json$/, '.svg'));
      writeFileSync(target, svg);
      log(`wrote ${target}`);
    }
  } finally {
    prometheus.kill('SIGTERM');
    await system.stop();
    await removeRunResources(
      {
        databaseUrl: env.DATABASE_URL,
        rabbitmqUrl: env.RABBITMQ_URL,
        queues: [env.RPC_QUEUE, env.TASK_LOGS_QUEUE],
        exchanges: [env.TASK_EVENTS_EXCHANGE],
        redisUrl: env.REDIS_URL,
        redisPrefix: prefix,
      },
      log,
    );
  }
}

await main();
