// Derives a Flowgate's status (conditions with observedGeneration, per-component replicas) from
// what the cluster reports about the objects the operator applied.
import type { V1Deployment, V1Job } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName, type ComponentStatus, type FlowgateCondition, type FlowgateResource, type FlowgateStatus } from './flowgateResource.js';

export type MigrationState = 'complete' | 'running' | 'failed';

export interface ObservedState {
  deployments: Partial<Record<ComponentName, V1Deployment>>;
  migration: MigrationState;
  migratedVersion?: string;
  /** Problems that make the installation degraded even if pods run, e.g. a missing KEDA. */
  problems: string[];
}

export function migrationState(job: V1Job | undefined): MigrationState {
  const conditions = job?.status?.conditions ?? [];
  if (conditions.some((condition) => condition.type === 'Complete' && condition.status === 'True')) return 'complete';
  if (conditions.some((condition) => condition.type === 'Failed' && condition.status === 'True')) return 'failed';
  return 'running';
}

function componentStatus(deployment: V1Deployment | undefined): ComponentStatus {
  return { replicas: deployment?.status?.replicas ?? 0, readyReplicas: deployment?.status?.readyReplicas ?? 0 };
}

function rolloutPending(deployment: V1Deployment | undefined): boolean {
  if (!deployment) return true;
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  return (
    (status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0) ||
    (status.updatedReplicas ?? 0) < desired ||
    (status.readyReplicas ?? 0) < desired ||
    (status.replicas ?? 0) > desired
  );
}

function rolloutStuck(deployment: V1Deployment | undefined): boolean {
  return (deployment?.status?.conditions ?? []).some(
    (condition) => condition.type === 'Progressing' && condition.status === 'False' && condition.reason === 'ProgressDeadlineExceeded',
  );
}

type ConditionState = Pick<FlowgateCondition, 'type' | 'status' | 'reason' | 'message'>;

function conditionStates(observed: ObservedState): ConditionState[] {
  const deployments = COMPONENTS.map((component) => [component, observed.deployments[component]] as const);
  const stuck = deployments.filter(([, deployment]) => rolloutStuck(deployment)).map(([component]) => component);
  const rolling = deployments.filter(([, deployment]) => rolloutPending(deployment)).map(([component]) => component);

  const degradedReasons: [string, string][] = [
    ...(observed.migration === 'failed' ? [['MigrationFailed', 'the migration Job failed; see its pod logs'] as [string, string]] : []),
    ...(stuck.length > 0 ? [['RolloutStuck', `rollout exceeded its progress deadline: ${stuck.join(', ')}`] as [string, string]] : []),
    ...observed.problems.map((problem): [string, string] => ['ReconcileProblem', problem]),
  ];
  const degraded: ConditionState = degradedReasons.length > 0
    ? { type: 'Degraded', status: 'True', reason: degradedReasons[0]![0], message: degradedReasons.map(([, message]) => message).join('; ') }
    : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' };

  const progressing: ConditionState =
    observed.migration === 'running'
      ? { type: 'Progressing', status: 'True', reason: 'Migrating', message: 'waiting for the migration Job before rolling api, worker and logger' }
      : rolling.length > 0
        ? { type: 'Progressing', status: 'True', reason: 'RollingOut', message: `waiting for ${rolling.join(', ')}` }
        : { type: 'Progressing', status: 'False', reason: 'Complete', message: '' };

  const ready: ConditionState =
    degraded.status === 'False' && progressing.status === 'False'
      ? { type: 'Ready', status: 'True', reason: 'AllComponentsReady', message: '' }
      : { type: 'Ready', status: 'False', reason: degraded.status === 'True' ? degraded.reason : progressing.reason, message: degraded.message || progressing.message };

  return [ready, progressing, degraded];
}

/** The status to write; lastTransitionTime only moves when a condition's status flips. */
export function computeStatus(flowgate: FlowgateResource, observed: ObservedState, now: Date): FlowgateStatus {
  const generation = flowgate.metadata.generation ?? 0;
  const previous = new Map((flowgate.status?.conditions ?? []).map((condition) => [condition.type, condition]));
  const conditions = conditionStates(observed).map((state): FlowgateCondition => {
    const before = previous.get(state.type);
    const lastTransitionTime = before && before.status === state.status ? before.lastTransitionTime : now.toISOString();
    return { ...state, lastTransitionTime, observedGeneration: generation };
  });
  return {
    observedGeneration: generation,
    version: flowgate.spec.version,
    ...(observed.migratedVersion ? { migratedVersion: observed.migratedVersion } : {}),
    components: Object.fromEntries(COMPONENTS.map((component) => [component, componentStatus(observed.deployments[component])])),
    conditions,
  };
}

/** Whether writing `next` over `current` would change anything (so an unchanged reconcile writes nothing). */
export function statusChanged(current: FlowgateStatus | undefined, next: FlowgateStatus): boolean {
  return canonicalJson(current ?? {}) !== canonicalJson(next);
}

// The API server does not keep our key order, so compare with keys sorted.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, child]) => child !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
