import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SAMPLE_PATH = `${REPO_ROOT}k8s/examples/flowgate.yaml`;

/** The sample Flowgate from k8s/examples, as a plain object to store or mutate. */
export interface SampleFlowgate {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
  [field: string]: unknown;
}

export function sampleFlowgate(): SampleFlowgate {
  return load(readFileSync(SAMPLE_PATH, 'utf8')) as SampleFlowgate;
}
