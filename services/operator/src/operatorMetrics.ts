// The operator's own Prometheus metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileSeconds: Histogram;
  isLeader: Gauge;
  queueLength: Gauge;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'flowgate-operator' });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconciles: new Counter({ name: 'flowgate_operator_reconciles_total', help: 'Reconciles by result.', labelNames: ['result'], registers: [registry] }),
    reconcileSeconds: new Histogram({
      name: 'flowgate_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    isLeader: new Gauge({ name: 'flowgate_operator_leader', help: '1 while this replica holds the lease.', registers: [registry] }),
    queueLength: new Gauge({ name: 'flowgate_operator_queue_length', help: 'Flowgates waiting to be reconciled.', registers: [registry] }),
  };
}
