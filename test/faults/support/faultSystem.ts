import { startTestSystem, type TestSystem } from '../../support/system.js';

/**
 * A system tuned so faults resolve in seconds rather than minutes: short RPC
 * timeout, quick retries, short job locks and a fast lost-job sweep. The
 * behaviour is the production one; only the clocks are shorter.
 */
export function startFaultSystem(label: string, env: Record<string, string> = {}): Promise<TestSystem> {
  return startTestSystem(label, {
    nginx: false,
    env: {
      RPC_TIMEOUT_MS: '3000',
      JOB_ATTEMPTS: '20',
      JOB_BACKOFF_MS: '300',
      OUTAGE_RETRY_DELAY_MS: '1000',
      WORKER_LOCK_DURATION_MS: '5000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      RECOVERY_STALE_SECONDS: '5',
      RECOVERY_INTERVAL_MS: '2000',
      LOGGER_FLUSH_MS: '100',
      SHUTDOWN_TIMEOUT_MS: '20000',
      ...env,
    },
  });
}
