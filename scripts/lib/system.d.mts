import type { ChildProcess } from 'node:child_process';

export type ServiceName = 'api' | 'worker' | 'processor' | 'logger';

export interface SystemPorts {
  api: number;
  nginx: number;
  worker: number;
  processor: number;
  logger: number;
}

export interface StartSystemOptions {
  env: Record<string, string>;
  ports: SystemPorts;
  runDir: string;
  output?: 'inherit' | 'files';
  only?: ServiceName[];
  nginx?: boolean;
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  apiProbe?: '/ready' | '/health';
}

export interface RunningSystem {
  children: Map<ServiceName | 'nginx', ChildProcess>;
  urls: Record<keyof SystemPorts, string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(name: ServiceName): Promise<void>;
}

export function startSystem(options: StartSystemOptions): Promise<RunningSystem>;
