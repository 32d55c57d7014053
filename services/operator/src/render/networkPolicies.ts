// NetworkPolicies: every pod of a Flowgate refuses incoming traffic unless a policy admits it. The
// api admits the ingress controller, Prometheus and declared clients on its HTTP port; worker,
// processor and logger admit only Prometheus on their metrics port; the migration Job admits
// nothing. Optionally, outgoing traffic is limited to DNS and the configured TCP ports.
// Policies are typed as Manifest: client-node's V1NetworkPolicyIngressRule names `from` `_from`,
// which only its own serializer turns back into the field the API server knows.
import type { V1LabelSelector, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName, type FlowgateResource, type PeerLabels } from '../flowgateResource.js';
import type { Manifest } from './manifest.js';
import { API_CLIENT_LABEL, API_PORT, METRICS_PORTS, componentName, managedPodLabels, objectMetadata, selectorLabels } from './naming.js';

const DNS_PORT = 53;

function labelSelector(labels: Record<string, string> | undefined): V1LabelSelector {
  return labels && Object.keys(labels).length > 0 ? { matchLabels: labels } : {};
}

/** A peer without namespaceLabels means pods in the policy's own namespace, as Kubernetes reads it. */
function peer(labels: PeerLabels): V1NetworkPolicyPeer {
  return {
    podSelector: labelSelector(labels.podLabels),
    ...(labels.namespaceLabels ? { namespaceSelector: labelSelector(labels.namespaceLabels) } : {}),
  };
}

function tcp(port: number): V1NetworkPolicyPort {
  return { protocol: 'TCP', port };
}

function servingPort(component: ComponentName): number {
  return component === 'api' ? API_PORT : METRICS_PORTS[component];
}

function allowedCallers(flowgate: FlowgateResource, component: ComponentName): V1NetworkPolicyPeer[] {
  const { networkPolicy } = flowgate.spec;
  const scrapers = peer(networkPolicy.monitoring);
  if (component !== 'api') return [scrapers];
  return [
    peer(networkPolicy.ingressController),
    scrapers,
    peer({ podLabels: { [API_CLIENT_LABEL]: flowgate.metadata.name } }),
    ...networkPolicy.apiClients.map(peer),
  ];
}

function renderDenyIngress(flowgate: FlowgateResource): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMetadata(flowgate, `${flowgate.metadata.name}-deny-ingress`),
    spec: { podSelector: { matchLabels: managedPodLabels(flowgate) }, policyTypes: ['Ingress'] },
  };
}

function renderComponentIngress(flowgate: FlowgateResource, component: ComponentName): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMetadata(flowgate, componentName(flowgate, component), component),
    spec: {
      podSelector: { matchLabels: selectorLabels(flowgate, component) },
      policyTypes: ['Ingress'],
      ingress: [{ from: allowedCallers(flowgate, component), ports: [tcp(servingPort(component))] }],
    },
  };
}

function renderEgress(flowgate: FlowgateResource): Manifest {
  const { ports } = flowgate.spec.networkPolicy.egress;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMetadata(flowgate, `${flowgate.metadata.name}-egress`),
    spec: {
      podSelector: { matchLabels: managedPodLabels(flowgate) },
      policyTypes: ['Egress'],
      egress: [
        // Any resolver: kube-dns, or a node-local cache on a link-local address.
        { ports: [{ protocol: 'UDP', port: DNS_PORT }, tcp(DNS_PORT)] },
        // No destination: the brokers may be in-cluster pods or external addresses alike.
        ...(ports.length > 0 ? [{ ports: ports.map(tcp) }] : []),
      ],
    },
  };
}

export function renderNetworkPolicies(flowgate: FlowgateResource): Manifest[] {
  return [
    renderDenyIngress(flowgate),
    ...COMPONENTS.map((component) => renderComponentIngress(flowgate, component)),
    ...(flowgate.spec.networkPolicy.egress.enabled ? [renderEgress(flowgate)] : []),
  ];
}
