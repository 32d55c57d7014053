// What the operator renders for a Flowgate: valid Kubernetes 1.35 objects, the promised runtime
// contract (probes, security, shutdown budget, autoscaling), and determinism.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { load, loadAll } from 'js-yaml';
import { flowgateCrd } from '../src/crd.js';
import { InvalidFlowgateError, parseFlowgate } from '../src/parseFlowgate.js';
import { renderManifests, type Manifest } from '../src/render/index.js';
import { renderFile } from '../src/renderCommand.js';
import { schemaProblems } from './support/kubernetesSchemas.js';
import { REPO_ROOT, SAMPLE_PATH, sampleFlowgate } from './support/sampleFlowgate.js';

const ALL_CAPABILITIES = { serviceMonitors: true };

function render(mutate: (spec: Record<string, any>) => void = () => {}): Manifest[] {
  const sample = sampleFlowgate();
  mutate(sample.spec);
  return renderManifests(parseFlowgate({ ...sample, metadata: { ...sample.metadata, uid: '0b7c1a7e-0000-4000-8000-000000000001' } }), ALL_CAPABILITIES);
}

function find(manifests: Manifest[], kind: string, name: string): any {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  assert.ok(found, `${kind}/${name} rendered`);
  return found;
}

describe('render', () => {
  it('renders the sample into objects that validate against the Kubernetes schemas', () => {
    const manifests = render();
    assert.deepEqual(manifests.flatMap(schemaProblems), []);
    const kinds = manifests.map((manifest) => manifest.kind);
    for (const kind of ['ConfigMap', 'Service', 'Job', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress', 'ServiceMonitor']) {
      assert.ok(kinds.includes(kind), `${kind} rendered`);
    }
  });

  it('renders KEDA ScaledObjects instead of HPAs when selected, valid against the KEDA schema', () => {
    const manifests = render((spec) => (spec['autoscaling'] = { provider: 'keda' }));
    assert.deepEqual(manifests.flatMap(schemaProblems), []);
    assert.equal(manifests.filter((manifest) => manifest.kind === 'HorizontalPodAutoscaler').length, 0);
    const worker = find(manifests, 'ScaledObject', 'flowgate-worker');
    assert.match(worker.spec.triggers[0].metadata.query, /^max\(flowgate_queue_depth\{namespace="default",queue="data",broker="bullmq",state="waiting",app_kubernetes_io_instance="flowgate"\}\)$/);
  });

  it('scales the worker on BullMQ waiting jobs and the processor on data_queue ready messages', () => {
    const manifests = render();
    const worker = find(manifests, 'HorizontalPodAutoscaler', 'flowgate-worker');
    assert.deepEqual(worker.spec.metrics[0].external.metric, {
      name: 'flowgate_queue_depth',
      selector: { matchLabels: { queue: 'data', broker: 'bullmq', state: 'waiting', app_kubernetes_io_instance: 'flowgate' } },
    });
    assert.deepEqual(worker.spec.metrics[0].external.target, { type: 'AverageValue', averageValue: '20' });
    assert.equal(worker.spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
    const processor = find(manifests, 'HorizontalPodAutoscaler', 'flowgate-processor');
    assert.deepEqual(processor.spec.metrics[0].external.metric.selector.matchLabels, {
      queue: 'data_queue',
      broker: 'rabbitmq',
      state: 'ready',
      app_kubernetes_io_instance: 'flowgate',
    });
    // The HPA owns the replica count of autoscaled Deployments; applying one would fight it.
    assert.equal(find(manifests, 'Deployment', 'flowgate-worker').spec.replicas, undefined);
    assert.equal(find(manifests, 'Deployment', 'flowgate-api').spec.replicas, 2);
  });

  it('runs every container non-root on a read-only root filesystem with probes and resources', () => {
    for (const deployment of render().filter((manifest) => manifest.kind === 'Deployment') as any[]) {
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      assert.equal(container.livenessProbe.httpGet.path, '/health');
      // The api's probe ignores Redis and RabbitMQ outages (each answered route by route); the others need all they check.
      const component = deployment.metadata.labels['app.kubernetes.io/component'];
      assert.equal(container.readinessProbe.httpGet.path, component === 'api' ? '/ready/serving' : '/ready', component);
      assert.ok(container.resources.requests.memory && container.resources.limits.memory);
    }
  });

  it('gives the worker a shutdown budget that outlasts its own shutdown timeout', () => {
    const worker = find(render(), 'Deployment', 'flowgate-worker').spec.template.spec;
    assert.equal(worker.terminationGracePeriodSeconds, 120);
    const timeout = worker.containers[0].env.find((variable: { name: string }) => variable.name === 'SHUTDOWN_TIMEOUT_MS');
    assert.equal(timeout.value, '115000');
    const concurrency = worker.containers[0].env.find((variable: { name: string }) => variable.name === 'WORKER_CONCURRENCY');
    assert.equal(concurrency.value, '8');
  });

  it('takes connection URLs from Secrets and runs migrations with the api image', () => {
    const manifests = render();
    const api = find(manifests, 'Deployment', 'flowgate-api').spec.template.spec.containers[0];
    const databaseUrl = api.env.find((variable: { name: string }) => variable.name === 'DATABASE_URL');
    assert.deepEqual(databaseUrl.valueFrom, { secretKeyRef: { name: 'flowgate-connections', key: 'DATABASE_URL' } });
    const job = manifests.find((manifest) => manifest.kind === 'Job') as any;
    assert.match(job.metadata.name, /^flowgate-migrate-[0-9a-f]{10}$/);
    assert.deepEqual(job.spec.template.spec.containers[0].command, ['node', 'services/common/dist/bin/migrate.js']);
    assert.equal(job.spec.template.spec.containers[0].image, api.image);
    assert.equal(api.image, 'ghcr.io/flowgate/api:0.1.0');
  });

  it('names a new migration Job for a new version and keeps the name for the same one', () => {
    const jobName = (manifests: Manifest[]): string => manifests.find((manifest) => manifest.kind === 'Job')!.metadata.name;
    assert.equal(jobName(render()), jobName(render()));
    assert.notEqual(jobName(render()), jobName(render((spec) => (spec['version'] = '0.2.0'))));
  });

  it('is deterministic and stamps each object with the digest of its content', () => {
    assert.deepEqual(render(), render());
    const hashes = render().map((manifest) => manifest.metadata.annotations?.['flowgate.dev/applied-hash']);
    assert.ok(hashes.every((hash) => typeof hash === 'string' && /^[0-9a-f]{16}$/.test(hash)));
  });

  it('leaves out the ServiceMonitor when the cluster lacks prometheus-operator', () => {
    const manifests = renderManifests(parseFlowgate(sampleFlowgate()), { serviceMonitors: false });
    assert.equal(manifests.filter((manifest) => manifest.kind === 'ServiceMonitor').length, 0);
  });
});

describe('Flowgate resource', () => {
  it('chart crds/ holds exactly the CRD the operator defines', () => {
    const file = load(readFileSync(`${REPO_ROOT}charts/flowgate/crds/flowgates.flowgate.dev.yaml`, 'utf8'));
    assert.deepEqual(file, JSON.parse(JSON.stringify(flowgateCrd)), 'regenerate with: npm run build -w services/operator && npm run crd -w services/operator');
  });

  it('the CRD is a valid apiextensions.k8s.io/v1 CustomResourceDefinition', () => {
    assert.deepEqual(schemaProblems(JSON.parse(JSON.stringify(flowgateCrd))), []);
  });

  it('the sample validates against the CRD schema', () => {
    const documents = loadAll(readFileSync(SAMPLE_PATH, 'utf8'));
    assert.equal(documents.length, 1);
    assert.deepEqual(schemaProblems(documents[0]), []);
  });

  it('fills in the CRD defaults for a minimal resource', () => {
    const flowgate = parseFlowgate({ apiVersion: 'flowgate.dev/v1alpha1', kind: 'Flowgate', metadata: { name: 'minimal' }, spec: { version: '1.2.3' } });
    assert.equal(flowgate.metadata.namespace, 'default');
    assert.equal(flowgate.spec.components.worker.autoscaling.targetQueueDepth, 20);
    assert.equal(flowgate.spec.components.api.replicas, 2);
    assert.equal(flowgate.spec.autoscaling.provider, 'hpa');
    assert.deepEqual(flowgate.spec.connections.redis, { name: 'flowgate-connections', key: 'REDIS_URL' });
  });

  it('rejects out-of-range replicas, bad quantities, unknown enums and min above max', () => {
    const sample = sampleFlowgate();
    const spec = structuredClone(sample.spec) as Record<string, any>;
    spec['components'].api.replicas = 1000;
    spec['components'].api.resources = { requests: { memory: 'lots' } };
    spec['components'].worker.autoscaling.minReplicas = 20;
    spec['autoscaling'] = { provider: 'magic' };
    assert.throws(
      () => parseFlowgate({ ...sample, spec }),
      (error: unknown) =>
        error instanceof InvalidFlowgateError &&
        error.problems.some((problem) => problem.startsWith('.spec.components.api.replicas')) &&
        error.problems.some((problem) => problem.startsWith('.spec.components.api.resources.requests.memory')) &&
        error.problems.some((problem) => problem.startsWith('.spec.autoscaling.provider')),
    );
    const tooFew = structuredClone(sample.spec) as Record<string, any>;
    tooFew['components'].worker.autoscaling.minReplicas = 20;
    assert.throws(() => parseFlowgate({ ...sample, spec: tooFew }), /minReplicas must not exceed maxReplicas/);
  });
});

describe('flowgate-operator render FILE', () => {
  it('prints the same manifests as the reconciler renders, as a YAML stream', async () => {
    const output = await renderFile(SAMPLE_PATH);
    const documents = loadAll(output).filter(Boolean);
    assert.deepEqual(documents, renderManifests(parseFlowgate(sampleFlowgate()), ALL_CAPABILITIES));
  });

  it('works as a command from the built package', function () {
    this.timeout(20_000);
    const bin = `${REPO_ROOT}services/operator/dist/main.js`;
    const output = execFileSync(process.execPath, [bin, 'render', SAMPLE_PATH], { encoding: 'utf8' });
    assert.ok(loadAll(output).filter(Boolean).length >= 15);
  });
});
