// PodDisruptionBudgets that let voluntary disruptions (node drains) take one pod of a component at
// a time; maxUnavailable rather than minAvailable so a single-replica component never blocks a drain.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { COMPONENTS, type FlowgateResource } from '../flowgateResource.js';
import { componentName, objectMetadata, selectorLabels } from './naming.js';

export function renderDisruptionBudgets(flowgate: FlowgateResource): V1PodDisruptionBudget[] {
  return COMPONENTS.map((component) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMetadata(flowgate, componentName(flowgate, component), component),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(flowgate, component) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  }));
}
