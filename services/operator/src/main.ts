#!/usr/bin/env node
// flowgate-operator: `run` (default) starts the operator; `render FILE` prints the manifests for
// a Flowgate resource; `crd` prints the CustomResourceDefinition. The only module reading env.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { ClusterClient } from './clusterClient.js';
import { Controller } from './controller.js';
import { flowgateCrd } from './crd.js';
import { LeaderElector } from './leaderElection.js';
import { jsonLog, type LogLevel } from './log.js';
import { createOperatorMetrics } from './operatorMetrics.js';
import { startProbeServer } from './probeServer.js';
import { Reconciler } from './reconciler.js';
import { renderFile } from './renderCommand.js';

const USAGE = 'usage: flowgate-operator [run] | render FILE | crd';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function logLevelFromEnv(): LogLevel {
  const raw = process.env['LOG_LEVEL'] ?? 'info';
  if (raw === 'debug' || raw === 'info' || raw === 'warn' || raw === 'error') return raw;
  throw new Error(`LOG_LEVEL must be debug, info, warn or error, got "${raw}"`);
}

async function runOperator(): Promise<void> {
  const log = jsonLog(logLevelFromEnv());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const metrics = createOperatorMetrics();
  const client = new ClusterClient(kubeConfig);
  const reconciler = new Reconciler(client, log, { pendingRequeueMs: intFromEnv('PENDING_REQUEUE_MS', 15_000) });
  const controller = new Controller(
    kubeConfig,
    client,
    {
      reconcile: async (key) => {
        const stopTimer = metrics.reconcileSeconds.startTimer();
        try {
          const result = await reconciler.reconcile(key);
          metrics.reconciles.inc({ result: 'success' });
          return result;
        } catch (error) {
          metrics.reconciles.inc({ result: 'error' });
          throw error;
        } finally {
          stopTimer();
          metrics.queueLength.set(controller.queue.length);
        }
      },
    },
    log,
    {
      resyncMs: intFromEnv('RELIST_INTERVAL_MS', 10 * 60_000),
      fullResyncMs: intFromEnv('RESYNC_INTERVAL_MS', 5 * 60_000),
      watchTimeoutSeconds: 25,
      retryBaseMs: 1_000,
      retryMaxMs: 60_000,
    },
  );
  const elector = new LeaderElector(
    kubeConfig,
    {
      namespace: process.env['POD_NAMESPACE'] ?? 'default',
      name: process.env['LEASE_NAME'] ?? 'flowgate-operator',
      identity: process.env['POD_NAME'] ?? hostname(),
      leaseDurationSeconds: intFromEnv('LEASE_DURATION_SECONDS', 15),
      renewIntervalMs: intFromEnv('LEASE_RENEW_INTERVAL_MS', 5_000),
    },
    log,
  );
  const server = await startProbeServer(intFromEnv('METRICS_PORT', 9104), metrics.registry, {
    // A standby replica is ready: it is healthy and waiting for the lease.
    ready: () => !elector.isLeader || controller.hasSynced,
  });
  elector.start(
    () => {
      metrics.isLeader.set(1);
      controller.start();
    },
    () => {
      // Another replica may already be reconciling: stop at once and let Kubernetes restart us.
      log('error', 'lost the leader lease; exiting');
      process.exit(1);
    },
  );
  const shutdown = async (): Promise<void> => {
    log('info', 'shutting down');
    await controller.stop();
    await elector.stop();
    server.close();
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

async function main(args: string[]): Promise<void> {
  const [command = 'run', ...rest] = args;
  if (command === 'run') return runOperator();
  if (command === 'render' && rest.length === 1 && rest[0]) {
    process.stdout.write(await renderFile(rest[0]));
    return;
  }
  if (command === 'crd' && rest.length === 0) {
    process.stdout.write(`# Generated from services/operator/src/crd.ts by "flowgate-operator crd"; edit the source, not this file.\n${dump(flowgateCrd, { noRefs: true, lineWidth: -1 })}`);
    return;
  }
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
