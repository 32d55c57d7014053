// Turns an untrusted object (a YAML file, or a resource read from the API) into a defaulted,
// validated FlowgateResource, or explains in one error what is wrong with it.
import { flowgateOpenApiSchema } from './crd.js';
import {
  FLOWGATE_API_VERSION,
  FLOWGATE_KIND,
  QUEUE_SCALED_COMPONENTS,
  type FlowgateResource,
} from './flowgateResource.js';
import { applyDefaults, validateAgainstSchema } from './structuralSchema.js';

export class InvalidFlowgateError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid Flowgate resource:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidFlowgateError';
  }
}

export function parseFlowgate(input: unknown, fallbackNamespace = 'default'): FlowgateResource {
  if (typeof input !== 'object' || input === null) throw new InvalidFlowgateError(['<root>: must be an object']);
  const candidate = input as Record<string, unknown>;
  const problems: string[] = [];
  if (candidate['apiVersion'] !== FLOWGATE_API_VERSION) problems.push(`.apiVersion: must be ${FLOWGATE_API_VERSION}`);
  if (candidate['kind'] !== FLOWGATE_KIND) problems.push(`.kind: must be ${FLOWGATE_KIND}`);
  const metadata = candidate['metadata'];
  const name = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>)['name'] : undefined;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 40) {
    // 40 leaves room for the longest derived name, <name>-migrate-<hash>, within 63 characters.
    problems.push('.metadata.name: must be a DNS label of at most 40 characters');
  }
  const withDefaults = applyDefaults({ ...candidate, status: undefined }, flowgateOpenApiSchema) as Record<string, unknown>;
  problems.push(...validateAgainstSchema(withDefaults['spec'], flowgateOpenApiSchema.properties?.['spec'] ?? {}, '.spec'));
  if (problems.length > 0) throw new InvalidFlowgateError(problems);

  const resource = { ...withDefaults, status: candidate['status'] } as unknown as FlowgateResource;
  resource.metadata = { ...resource.metadata, namespace: resource.metadata.namespace || fallbackNamespace };
  // Mirrors the CRD's CEL rule, which only the API server evaluates.
  for (const component of QUEUE_SCALED_COMPONENTS) {
    const { minReplicas, maxReplicas } = resource.spec.components[component].autoscaling;
    if (minReplicas > maxReplicas) problems.push(`.spec.components.${component}.autoscaling: minReplicas must not exceed maxReplicas`);
  }
  if (problems.length > 0) throw new InvalidFlowgateError(problems);
  return resource;
}
