// The migration Job. Its name carries a digest of its pod template, so a new image (or new
// connection secret) gets a new Job, while an unchanged spec re-applies the same finished Job.
import type { V1Job } from '@kubernetes/client-node';
import type { FlowgateResource } from '../flowgateResource.js';
import { componentImage, objectMetadata, shortHash } from './naming.js';
import { basePodSpec, connectionEnv } from './podTemplate.js';

const MIGRATE_COMMAND = ['node', 'services/common/dist/bin/migrate.js'];

export function renderMigrationJob(flowgate: FlowgateResource): V1Job {
  const podSpec = basePodSpec(
    flowgate,
    {
      name: 'migrate',
      image: componentImage(flowgate, 'api'),
      command: MIGRATE_COMMAND,
      env: [...connectionEnv(flowgate, ['postgres']), { name: 'OTEL_SERVICE_NAME', value: 'flowgate-migrate' }],
      resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
    },
    'migration',
  );
  const template = {
    metadata: { labels: objectMetadata(flowgate, '', 'migration').labels },
    spec: { ...podSpec, restartPolicy: 'Never' },
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: objectMetadata(flowgate, `${flowgate.metadata.name}-migrate-${shortHash(template)}`, 'migration'),
    spec: {
      backoffLimit: 4,
      activeDeadlineSeconds: 600,
      template,
    },
  };
}
