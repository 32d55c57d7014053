// `flowgate-operator render FILE`: the manifests the operator would apply for the Flowgate
// resource(s) in FILE, as a YAML stream, without a cluster.
import { readFile } from 'node:fs/promises';
import { dump, loadAll } from 'js-yaml';
import { parseFlowgate } from './parseFlowgate.js';
import { renderManifests } from './render/index.js';

export async function renderFile(path: string): Promise<string> {
  const documents: unknown[] = loadAll(await readFile(path, 'utf8'));
  const flowgates = documents.filter((document) => document !== null && document !== undefined).map((document) => parseFlowgate(document));
  if (flowgates.length === 0) throw new Error(`${path} holds no Flowgate resource`);
  const manifests = flowgates.flatMap((flowgate) => renderManifests(flowgate, { serviceMonitors: true }));
  const header = [
    '# Rendered by flowgate-operator. On a cluster the operator also sets ownerReferences to the',
    '# Flowgate, applies api/worker/logger only after the migration Job completed, and skips the',
    '# ServiceMonitor when the monitoring.coreos.com CRDs are not installed.',
  ].join('\n');
  return `${header}\n${manifests.map((manifest) => `---\n${dump(manifest, { noRefs: true, lineWidth: -1 })}`).join('')}`;
}
