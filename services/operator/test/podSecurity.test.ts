// Every pod the operator runs meets the "restricted" Pod Security Standard, so a namespace labelled
// pod-security.kubernetes.io/enforce=restricted admits it; the chart's pods are checked in chart.test.ts.
import assert from 'node:assert/strict';
import { parseFlowgate } from '../src/parseFlowgate.js';
import { renderManifests } from '../src/render/index.js';
import { podTemplateOf, restrictedProfileViolations, writableRootViolations, type PodTemplate } from './support/podSecurity.js';
import { sampleFlowgate } from './support/sampleFlowgate.js';

function renderedPods(mutate: (spec: Record<string, any>) => void = () => {}): PodTemplate[] {
  const sample = sampleFlowgate();
  mutate(sample.spec);
  return renderManifests(parseFlowgate(sample), { serviceMonitors: true }).flatMap((manifest) => podTemplateOf(manifest) ?? []);
}

describe('pod security', () => {
  it('the restricted-profile check finds what the admission controller would refuse', () => {
    const pod = {
      kind: 'Pod',
      metadata: { name: 'bad' },
      spec: {
        hostNetwork: true,
        securityContext: { runAsUser: 0 },
        volumes: [{ name: 'host', hostPath: { path: '/' } }],
        containers: [{ name: 'main', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
      },
    };
    const problems = restrictedProfileViolations(podTemplateOf(pod)!);
    for (const expected of [
      'hostNetwork true',
      'volume host of type hostPath',
      'pod runAsUser 0',
      'privileged',
      'hostPort 80',
      'allowPrivilegeEscalation is not false',
      'not runAsNonRoot',
      'seccompProfile unset',
      'capabilities do not drop ALL',
      'adds capabilities SYS_ADMIN',
    ]) {
      assert.ok(problems.some((problem) => problem.endsWith(expected)), `reports "${expected}" in ${JSON.stringify(problems)}`);
    }
  });

  it('every pod the operator renders meets the restricted profile, with a read-only root and an emptyDir /tmp', () => {
    const variations: ((spec: Record<string, any>) => void)[] = [
      () => {},
      (spec) => (spec['autoscaling'] = { provider: 'keda' }),
      (spec) => (spec['image'] = { ...spec['image'], pullSecrets: ['registry'] }),
    ];
    for (const mutate of variations) {
      const pods = renderedPods(mutate);
      assert.equal(pods.length, 5, 'four Deployments and the migration Job');
      assert.deepEqual(pods.flatMap(restrictedProfileViolations), []);
      assert.deepEqual(pods.flatMap(writableRootViolations), []);
      for (const pod of pods) {
        const tmp = pod.spec['containers'][0].volumeMounts.find((mount: { mountPath: string }) => mount.mountPath === '/tmp');
        assert.ok(tmp, `${pod.owner} mounts /tmp`);
        assert.ok(pod.spec['volumes'].find((volume: { name: string }) => volume.name === tmp.name).emptyDir, `${pod.owner} /tmp is an emptyDir`);
        assert.equal(pod.spec['automountServiceAccountToken'], false, `${pod.owner} gets no API token`);
      }
    }
  });
});
