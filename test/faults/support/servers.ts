import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, open: boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await portOpen(port)) === open) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`port ${port} did not become ${open ? 'open' : 'closed'} within ${timeoutMs} ms`);
}

/** The machine's own servers, stopped and started with their own tools (see DESIGN.md). */
export const servers = {
  async stopRabbit(): Promise<void> {
    await run('rabbitmqctl', ['stop_app']);
    await waitForPort(5672, false);
  },
  async startRabbit(): Promise<void> {
    await run('rabbitmqctl', ['start_app']);
    await waitForPort(5672, true);
  },
  /** Redis here keeps nothing on disk: a restart loses every job and key. */
  async restartRedis(): Promise<void> {
    await run('redis-cli', ['shutdown', 'nosave']).catch(() => undefined);
    await waitForPort(6379, false);
    execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no']);
    await waitForPort(6379, true);
  },
  async stopPostgres(): Promise<void> {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', 'stop', '-m', 'fast']);
    await waitForPort(5432, false);
  },
  async startPostgres(): Promise<void> {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', 'start']);
    await waitForPort(5432, true);
  },
};

function postgresVersion(): string {
  const versions = readdirSync('/etc/postgresql');
  if (versions.length !== 1) throw new Error(`expected one PostgreSQL cluster, found ${versions.join(', ')}`);
  return versions[0]!;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
