// The nginx Ingress in front of the api Service.
import type { V1Ingress } from '@kubernetes/client-node';
import type { FlowgateResource } from '../flowgateResource.js';
import { API_PORT, componentName, objectMetadata } from './naming.js';

export function renderIngress(flowgate: FlowgateResource): V1Ingress {
  const { ingress } = flowgate.spec;
  const metadata = objectMetadata(flowgate, flowgate.metadata.name, 'api');
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      ...metadata,
      annotations: {
        // Match the api's own 1 MiB body limit so nginx rejects oversized bodies the same way,
        // and outlast the api's 10s RPC timeout so its 504 reaches the client, not nginx's.
        'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '30',
      },
    },
    spec: {
      ingressClassName: ingress.className,
      ...(ingress.tls.enabled
        ? { tls: [{ ...(ingress.host ? { hosts: [ingress.host] } : {}), secretName: ingress.tls.secretName || `${flowgate.metadata.name}-tls` }] }
        : {}),
      rules: [
        {
          ...(ingress.host ? { host: ingress.host } : {}),
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: componentName(flowgate, 'api'), port: { number: API_PORT } } } },
            ],
          },
        },
      ],
    },
  };
}
