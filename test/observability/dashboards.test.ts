import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { startTestSystem, stopTestSystem, type TestSystem } from '../support/system.js';
import { scrapeAll, seriesNames } from './scrape.js';

const DASHBOARDS = join(process.cwd(), 'charts/flowgate/dashboards');

interface Target {
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  title: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

function load(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));
}

function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Grafana substitutes its variables before Prometheus sees a query; do the same with plausible values. */
function substitute(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{(\w+)(:\w+)?\}|\$(\w+)/g, 'x');
}

interface ParsedQuery {
  metrics: string[];
  /** Metric names read inside a sum(...) aggregation. */
  summed: string[];
}

function analyse(expr: string): ParsedQuery {
  const text = substitute(expr);
  const tree = parser.parse(text);
  const metrics: string[] = [];
  const summed: string[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(node.from, node.to + 10)}"`);
      if (node.name === 'VectorSelector') {
        const identifier = node.node.getChild('Identifier');
        assert.ok(identifier, `selector without a metric name in ${expr}`);
        const name = text.slice(identifier.from, identifier.to);
        metrics.push(name);
        for (let up: SyntaxNode | null = node.node.parent; up; up = up.parent) {
          if (up.name === 'AggregateExpr' && up.getChild('AggregateOp')?.getChild('Sum')) summed.push(name);
        }
      }
    },
  });
  assert.deepEqual(errors, [], `PromQL does not parse: ${expr}`);
  return { metrics, summed };
}

describe('Grafana dashboards', function () {
  this.timeout(40_000);
  let system: TestSystem;
  let exported: Set<string>;

  before(async function () {
    this.timeout(60_000);
    system = await startTestSystem('dashboards', { nginx: false });
    exported = seriesNames(Object.values(await scrapeAll(system)));
  });

  after(async () => {
    if (system) await stopTestSystem(system);
  });

  it('ships the overview and per-service dashboards', () => {
    const files = load().map(({ file }) => file).sort();
    assert.deepEqual(files, ['flowgate-overview.json', 'flowgate-services.json']);
    const uids = load().map(({ dashboard }) => dashboard.uid);
    assert.equal(new Set(uids).size, uids.length, 'dashboard uids are unique');
  });

  it('queries a ${datasource} Prometheus variable, never a hard-coded uid', () => {
    for (const { file, dashboard } of load()) {
      const variable = dashboard.templating.list.find((entry) => entry.name === 'datasource');
      assert.ok(variable, `${file}: no datasource variable`);
      assert.equal(variable.type, 'datasource');
      assert.equal(variable.query, 'prometheus');
      for (const panel of panelsOf(dashboard).filter((candidate) => candidate.type !== 'row')) {
        assert.equal(panel.datasource?.uid, '${datasource}', `${file} "${panel.title}"`);
        assert.ok((panel.targets ?? []).length > 0, `${file} "${panel.title}" has no query`);
        for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid ?? '${datasource}', '${datasource}');
      }
    }
  });

  it('every PromQL expression parses and names only metrics the four services really export', () => {
    assert.ok(exported.has('flowgate_http_request_duration_seconds_bucket'), 'histogram series are offered');
    let checked = 0;
    for (const { file, dashboard } of load()) {
      for (const panel of panelsOf(dashboard)) {
        for (const target of panel.targets ?? []) {
          const { metrics } = analyse(target.expr);
          assert.ok(metrics.length > 0, `${file} "${panel.title}": no metric in ${target.expr}`);
          for (const metric of metrics) {
            assert.ok(exported.has(metric), `${file} "${panel.title}" queries ${metric}, which no service exports`);
            checked += 1;
          }
        }
      }
      for (const variable of dashboard.templating.list.filter((entry) => entry.type === 'query')) {
        const query = (variable.query as { query: string }).query;
        const selector = /^label_values\((.+),\s*\w+\)$/.exec(query);
        assert.ok(selector, `${file} variable ${variable.name}: ${query}`);
        for (const metric of analyse(selector[1]!).metrics) assert.ok(exported.has(metric), `${file} variable ${variable.name}: ${metric}`);
      }
    }
    assert.ok(checked >= 30, `only ${checked} metric references checked`);
  });

  it('aggregates queue depth with max(), never sum(): every replica reports the same broker-wide numbers', () => {
    // The check itself sees a sum wherever it is.
    assert.deepEqual(analyse('sum by (queue) (flowgate_queue_depth{state="waiting"})').summed, ['flowgate_queue_depth']);
    assert.deepEqual(analyse('max by (queue) (flowgate_queue_depth)').summed, []);
    let depthQueries = 0;
    for (const { file, dashboard } of load()) {
      for (const panel of panelsOf(dashboard)) {
        for (const target of panel.targets ?? []) {
          const { metrics, summed } = analyse(target.expr);
          if (!metrics.includes('flowgate_queue_depth')) continue;
          depthQueries += 1;
          assert.ok(!summed.includes('flowgate_queue_depth'), `${file} "${panel.title}" sums queue depth: ${target.expr}`);
          assert.match(target.expr, /max(\s+by\s*\([^)]*\))?\s*\(\s*flowgate_queue_depth/, `${file} "${panel.title}"`);
        }
      }
    }
    assert.ok(depthQueries >= 4, 'queue depth, RPC queue, failed jobs and logger lag panels');
  });

  it('the overview covers request rate, errors, sync and async latency, queues, jobs, RPC timeouts, logger lag and replays', () => {
    const overview = load().find(({ file }) => file === 'flowgate-overview.json')!.dashboard;
    const exprs = panelsOf(overview).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    const uses = (pattern: RegExp) => assert.ok(exprs.some((expr) => pattern.test(expr)), `no query matches ${pattern}`);
    uses(/rate\(flowgate_http_requests_total\{/);
    uses(/flowgate_http_requests_total\{[^}]*status=~"5\.\."/);
    for (const quantile of ['0.5', '0.95', '0.99']) {
      uses(new RegExp(`histogram_quantile\\(${quantile}, .*flowgate_http_request_duration_seconds_bucket\\{[^}]*route="/api/v1/data/process"`));
      uses(new RegExp(`histogram_quantile\\(${quantile}, .*flowgate_http_request_duration_seconds_bucket\\{[^}]*route="/api/v1/data/process-async"`));
      uses(new RegExp(`histogram_quantile\\(${quantile}, .*flowgate_job_duration_seconds_bucket`));
    }
    uses(/flowgate_jobs_total\{[^}]*status="failed"/);
    uses(/flowgate_rpc_timeouts_total/);
    uses(/flowgate_queue_depth\{[^}]*service="logger"/);
    uses(/flowgate_idempotency_replays_total/);
    const services = load().find(({ file }) => file === 'flowgate-services.json')!.dashboard;
    const serviceExprs = panelsOf(services).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)).join('\n');
    for (const metric of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles_total', 'process_open_fds']) {
      assert.ok(serviceExprs.includes(`flowgate_${metric}`), `services dashboard lacks ${metric}`);
    }
  });
});
