// The NetworkPolicies the operator renders for a Flowgate: who may reach which pod on which port,
// valid against the Kubernetes schemas, and none at all when switched off.
import assert from 'node:assert/strict';
import { parseFlowgate } from '../src/parseFlowgate.js';
import { renderManifests, type Manifest } from '../src/render/index.js';
import { schemaProblems } from './support/kubernetesSchemas.js';
import { sampleFlowgate } from './support/sampleFlowgate.js';

interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
}

interface Policy {
  metadata: { name: string };
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress?: { from: Peer[]; ports: { protocol: string; port: number }[] }[];
    egress?: { to?: Peer[]; ports: { protocol: string; port: number }[] }[];
  };
}

const INGRESS_NGINX = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} };
const PROMETHEUS = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: {} };
const HELM_TEST_CLIENT = { podSelector: { matchLabels: { 'flowgate.dev/api-client': 'flowgate' } } };

function render(networkPolicy?: Record<string, unknown>): Manifest[] {
  const sample = sampleFlowgate();
  const spec = networkPolicy === undefined ? sample.spec : { ...sample.spec, networkPolicy };
  return renderManifests(parseFlowgate({ ...sample, spec }), { serviceMonitors: true });
}

function policies(manifests: Manifest[]): Map<string, Policy> {
  return new Map(
    manifests.filter((manifest) => manifest.kind === 'NetworkPolicy').map((manifest) => [manifest.metadata.name, manifest as unknown as Policy]),
  );
}

function policy(manifests: Manifest[], name: string): Policy {
  const found = policies(manifests).get(name);
  assert.ok(found, `NetworkPolicy/${name} rendered`);
  return found;
}

describe('network policies', () => {
  it('are rendered by default, valid against the Kubernetes schemas, before any pod', () => {
    const manifests = render();
    const rendered = manifests.filter((manifest) => manifest.kind === 'NetworkPolicy');
    assert.deepEqual(
      rendered.map((manifest) => manifest.metadata.name),
      ['flowgate-deny-ingress', 'flowgate-api', 'flowgate-worker', 'flowgate-processor', 'flowgate-logger'],
    );
    assert.deepEqual(rendered.flatMap(schemaProblems), []);
    const firstPolicy = manifests.findIndex((manifest) => manifest.kind === 'NetworkPolicy');
    const firstPodOwner = manifests.findIndex((manifest) => manifest.kind === 'Job' || manifest.kind === 'Deployment');
    assert.ok(firstPolicy < firstPodOwner, 'policies are applied before the workloads');
  });

  it('deny ingress to every pod the operator runs for the Flowgate, the migration Job included', () => {
    const manifests = render();
    const deny = policy(manifests, 'flowgate-deny-ingress');
    assert.deepEqual(deny.spec, {
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'flowgate', 'app.kubernetes.io/managed-by': 'flowgate-operator' } },
      policyTypes: ['Ingress'],
    });
    const podLabels = manifests
      .filter((manifest) => manifest.kind === 'Deployment' || manifest.kind === 'Job')
      .map((manifest) => (manifest as any).spec.template.metadata.labels as Record<string, string>);
    assert.equal(podLabels.length, 5);
    for (const labels of podLabels) {
      for (const [key, value] of Object.entries(deny.spec.podSelector.matchLabels)) assert.equal(labels[key], value);
    }
  });

  it('let only the ingress controller, Prometheus and labelled api clients reach the api, on port 8000', () => {
    const manifests = render();
    const api = policy(manifests, 'flowgate-api');
    const deployment = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'flowgate-api') as any;
    assert.deepEqual(api.spec.podSelector, deployment.spec.selector);
    assert.deepEqual(api.spec.policyTypes, ['Ingress']);
    assert.deepEqual(api.spec.ingress, [{ from: [INGRESS_NGINX, PROMETHEUS, HELM_TEST_CLIENT], ports: [{ protocol: 'TCP', port: 8000 }] }]);
    assert.equal(deployment.spec.template.spec.containers[0].ports[0].containerPort, 8000);
  });

  it('let only Prometheus reach worker, processor and logger, on their metrics ports', () => {
    const manifests = render();
    for (const [component, port] of [['worker', 9101], ['processor', 9102], ['logger', 9103]] as const) {
      const rendered = policy(manifests, `flowgate-${component}`);
      assert.deepEqual(rendered.spec.podSelector.matchLabels['app.kubernetes.io/component'], component);
      assert.deepEqual(rendered.spec.ingress, [{ from: [PROMETHEUS], ports: [{ protocol: 'TCP', port }] }]);
      const deployment = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === `flowgate-${component}`) as any;
      assert.equal(deployment.spec.template.spec.containers[0].ports[0].containerPort, port);
    }
  });

  it('take the ingress controller, Prometheus and further api clients from the spec', () => {
    const manifests = render({
      ingressController: { namespaceLabels: { 'kubernetes.io/metadata.name': 'traefik' }, podLabels: { 'app.kubernetes.io/name': 'traefik' } },
      monitoring: { namespaceLabels: {} },
      apiClients: [{ podLabels: { app: 'checkout' } }, { namespaceLabels: { team: 'shop' } }],
    });
    assert.deepEqual(manifests.filter((manifest) => manifest.kind === 'NetworkPolicy').flatMap(schemaProblems), []);
    const [rule] = policy(manifests, 'flowgate-api').spec.ingress ?? [];
    assert.deepEqual(rule?.from, [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } } },
      // {} selects every namespace: Prometheus may run anywhere.
      { namespaceSelector: {}, podSelector: {} },
      HELM_TEST_CLIENT,
      // Without namespaceLabels a client is looked for in the Flowgate's own namespace.
      { podSelector: { matchLabels: { app: 'checkout' } } },
      { namespaceSelector: { matchLabels: { team: 'shop' } }, podSelector: {} },
    ]);
  });

  it('restrict egress to DNS and the configured ports only when asked', () => {
    assert.equal(policies(render()).has('flowgate-egress'), false);
    const manifests = render({ egress: { enabled: true } });
    const egress = policy(manifests, 'flowgate-egress');
    assert.deepEqual(schemaProblems(egress), []);
    assert.deepEqual(egress.spec.podSelector, policy(manifests, 'flowgate-deny-ingress').spec.podSelector);
    assert.deepEqual(egress.spec.policyTypes, ['Egress']);
    assert.deepEqual(egress.spec.egress, [
      { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
      { ports: [5432, 6379, 5672, 5671, 4317, 4318].map((port) => ({ protocol: 'TCP', port })) },
    ]);
    const custom = policy(render({ egress: { enabled: true, ports: [25060] } }), 'flowgate-egress');
    assert.deepEqual(custom.spec.egress?.[1], { ports: [{ protocol: 'TCP', port: 25060 }] });
  });

  it('are not rendered when switched off (and so are pruned by the reconciler)', () => {
    assert.equal(policies(render({ enabled: false })).size, 0);
  });
});

describe('ingress limits', () => {
  function ingressAnnotations(mutate: (spec: Record<string, any>) => void = () => {}): Record<string, string> {
    const sample = sampleFlowgate();
    mutate(sample.spec);
    const ingress = renderManifests(parseFlowgate(sample), { serviceMonitors: true }).find((manifest) => manifest.kind === 'Ingress');
    assert.ok(ingress?.metadata.annotations);
    return ingress.metadata.annotations;
  }

  it('match the api body limit and outlast its RPC timeout by default', () => {
    const annotations = ingressAnnotations();
    assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-body-size'], '1m');
    assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'], '30');
    assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'], '30');
    assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-connect-timeout'], '2');
  });

  it('follow spec.rpcTimeoutMs and components.api.bodyLimitBytes, which the pods get too', () => {
    const sample = sampleFlowgate();
    const spec = sample.spec as Record<string, any>;
    spec['rpcTimeoutMs'] = 45_500;
    spec['components'].api.bodyLimitBytes = 256 * 1024;
    const manifests = renderManifests(parseFlowgate(sample), { serviceMonitors: true });
    const annotations = manifests.find((manifest) => manifest.kind === 'Ingress')!.metadata.annotations!;
    assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-body-size'], '256k');
    assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'], '66');
    const config = manifests.find((manifest) => manifest.kind === 'ConfigMap') as any;
    assert.equal(config.data.RPC_TIMEOUT_MS, '45500');
    const api = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'flowgate-api') as any;
    const env = api.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((variable) => variable.name === 'BODY_LIMIT_BYTES')?.value, '262144');
    assert.equal(ingressAnnotations((s) => (s['components'].api.bodyLimitBytes = 1500))['nginx.ingress.kubernetes.io/proxy-body-size'], '1500');
  });
});
