// The nginx Ingress in front of the api Service.
import type { V1Ingress } from '@kubernetes/client-node';
import type { FlowgateResource } from '../flowgateResource.js';
import { API_PORT, componentName, objectMetadata } from './naming.js';

// Time nginx waits beyond the RPC timeout, so the api's own 504 reaches the client, not nginx's.
const RPC_TIMEOUT_MARGIN_SECONDS = 20;
// A pod that does not accept a connection in this time is skipped for the next one.
const CONNECT_TIMEOUT_SECONDS = 2;

/**
 * What the api serves to callers, and nothing else: /metrics is for Prometheus, which scrapes
 * the pods. An allowlist rather than an exception for /metrics, because express serves
 * /METRICS and /metrics/ too, while Ingress paths match case-sensitively.
 */
const PUBLIC_PATHS: readonly { path: string; pathType: 'Exact' | 'Prefix' }[] = [
  { path: '/api', pathType: 'Prefix' },
  { path: '/', pathType: 'Exact' },
  { path: '/health', pathType: 'Exact' },
  { path: '/ready', pathType: 'Exact' },
];

/** nginx size syntax (1m, 512k, or bytes) for exactly the api's limit. */
function nginxSize(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}m`;
  if (bytes % 1024 === 0) return `${bytes / 1024}k`;
  return String(bytes);
}

export function renderIngress(flowgate: FlowgateResource): V1Ingress {
  const { ingress } = flowgate.spec;
  const metadata = objectMetadata(flowgate, flowgate.metadata.name, 'api');
  const upstreamTimeoutSeconds = String(Math.ceil(flowgate.spec.rpcTimeoutMs / 1000) + RPC_TIMEOUT_MARGIN_SECONDS);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      ...metadata,
      annotations: {
        // The api's own body limit, so nginx refuses an oversized body before it is passed on.
        'nginx.ingress.kubernetes.io/proxy-body-size': nginxSize(flowgate.spec.components.api.bodyLimitBytes),
        'nginx.ingress.kubernetes.io/proxy-connect-timeout': String(CONNECT_TIMEOUT_SECONDS),
        // nginx has buffered the whole body before it sends it on, so only a stuck pod stalls the send.
        'nginx.ingress.kubernetes.io/proxy-send-timeout': upstreamTimeoutSeconds,
        'nginx.ingress.kubernetes.io/proxy-read-timeout': upstreamTimeoutSeconds,
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
            paths: PUBLIC_PATHS.map(({ path, pathType }) => ({
              path,
              pathType,
              backend: { service: { name: componentName(flowgate, 'api'), port: { number: API_PORT } } },
            })),
          },
        },
      ],
    },
  };
}
