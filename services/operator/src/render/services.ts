// ClusterIP Services: the api's HTTP port, and a metrics port for the others so Prometheus
// (through the ServiceMonitor) finds every replica.
import type { V1Service } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName, type FlowgateResource } from '../flowgateResource.js';
import { API_PORT, METRICS_PORTS, componentName, objectMetadata, selectorLabels } from './naming.js';

export function renderService(flowgate: FlowgateResource, component: ComponentName): V1Service {
  const port =
    component === 'api'
      ? { name: 'http', port: API_PORT, targetPort: 'http', protocol: 'TCP' }
      : { name: 'metrics', port: METRICS_PORTS[component], targetPort: 'metrics', protocol: 'TCP' };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMetadata(flowgate, componentName(flowgate, component), component),
    spec: { type: 'ClusterIP', selector: selectorLabels(flowgate, component), ports: [port] },
  };
}

export function renderServices(flowgate: FlowgateResource): V1Service[] {
  return COMPONENTS.map((component) => renderService(flowgate, component));
}
