import { join } from 'node:path';
import { freePort } from '../../scripts/lib/freePort.mjs';
import { startSystem, type RunningSystem, type StartSystemOptions, type SystemPorts } from '../../scripts/lib/system.mjs';
import { RUN_ID, serviceEnv } from './testEnv.js';

export type { RunningSystem };

export { freePort };

export interface TestSystem extends RunningSystem {
  env: Record<string, string>;
  ports: SystemPorts;
  /** Where each service's output goes, as `<service>.log`. */
  runDir: string;
}

const running = new Set<TestSystem>();

/**
 * Starts the real services (compiled, as `npm start` runs them) on free ports with
 * this run's database and fresh queue names; logs go to .run/test-<run id>/<label>.
 */
export async function startTestSystem(
  label: string,
  options: Pick<StartSystemOptions, 'only' | 'nginx' | 'serviceEnv' | 'apiProbe'> & { env?: Record<string, string> } = {},
): Promise<TestSystem> {
  const ports: SystemPorts = {
    api: await freePort(),
    nginx: await freePort(),
    worker: await freePort(),
    processor: await freePort(),
    logger: await freePort(),
  };
  const env = serviceEnv(options.env);
  const runDir = join(process.cwd(), '.run', `test-${RUN_ID}`, label);
  const system = await startSystem({
    env,
    ports,
    runDir,
    output: 'files',
    ...(options.only ? { only: options.only } : {}),
    ...(options.nginx === undefined ? {} : { nginx: options.nginx }),
    ...(options.serviceEnv ? { serviceEnv: options.serviceEnv } : {}),
    ...(options.apiProbe ? { apiProbe: options.apiProbe } : {}),
  });
  const testSystem: TestSystem = { ...system, env, ports, runDir };
  running.add(testSystem);
  return testSystem;
}

export async function stopTestSystem(system: TestSystem): Promise<void> {
  running.delete(system);
  await system.stop();
}

let shared: Promise<TestSystem> | undefined;

/** One full system (all services and nginx) shared by the end-to-end suites, started on first use. */
export function sharedSystem(): Promise<TestSystem> {
  shared ??= startTestSystem('shared');
  return shared;
}

export async function stopSharedSystems(): Promise<void> {
  await Promise.all([...running].map((system) => stopTestSystem(system)));
}
