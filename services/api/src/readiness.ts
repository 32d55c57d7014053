/** The path of the api's Kubernetes readinessProbe; the operator's READINESS_PATHS.api names it too (an e2e test probes it). */
export const SERVING_PROBE_PATH = '/ready/serving';

/**
 * What the readinessProbe demands: the dependencies every data route needs.
 *
 * Readiness decides whether Kubernetes sends this pod traffic at all, so it must
 * fail only when the pod can serve none of its data routes, never because one
 * route family is down. PostgreSQL is the one dependency they all share: every
 * sync and async request writes a record, and records, logs and DELETE read or
 * write it. RabbitMQ is needed by sync requests only (async ones are accepted
 * without it) and Redis by async and Idempotency-Key requests only (sync ones
 * run without it); each of those outages is answered route by route with a fast
 * problem+json 503. Failing the probe on them would empty the Service on every
 * replica at once (they share the brokers), and the routes that still work
 * would get the ingress controller's bare 503 instead.
 *
 * PostgreSQL still counts because a pod that cannot reach it serves nothing
 * useful, and its failures can be the pod's own (its pool refused with "too many
 * connections" when new replicas exceed max_connections, a node-local network
 * fault): the probe then moves traffic to replicas that can serve it. When the
 * outage is shared, every caller gets a 503 either way.
 */
export const SERVING_NEEDS = ['postgres'] as const;

export interface ReadinessAnswer {
  status: 200 | 503;
  body: { status: 'ready' | 'not ready'; checks: Record<string, boolean>; needs?: readonly string[] };
}

/**
 * Every check goes in the body, for humans; the status reflects `needs` when
 * given (a check missing from `checks` counts as down), else every check.
 */
export function readinessAnswer(checks: Record<string, boolean>, needs?: readonly string[]): ReadinessAnswer {
  const ready = needs ? needs.every((need) => checks[need] === true) : Object.values(checks).every(Boolean);
  return {
    status: ready ? 200 : 503,
    body: { status: ready ? 'ready' : 'not ready', checks, ...(needs ? { needs } : {}) },
  };
}
