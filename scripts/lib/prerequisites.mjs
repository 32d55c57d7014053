// Checks and installs what a local run needs: npm dependencies, the build, and the three servers.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Node 24 from the `node` devDependency; the services need it (the machine's node may be older). */
export const NODE = `${ROOT}node_modules/.bin/node`;

const SERVERS = [
  {
    name: 'PostgreSQL',
    env: 'DATABASE_URL',
    fallback: 'postgres://postgres@127.0.0.1:5432/flowgate',
    defaultPort: 5432,
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  {
    name: 'Redis',
    env: 'REDIS_URL',
    fallback: 'redis://127.0.0.1:6379',
    defaultPort: 6379,
    start: (port) => `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ${port} --save "" --appendonly no`,
  },
  {
    name: 'RabbitMQ',
    env: 'RABBITMQ_URL',
    fallback: 'amqp://guest:guest@127.0.0.1:5672',
    defaultPort: 5672,
    start: 'rabbitmq-server -detached',
  },
];

function reachable(host, port, timeoutMs = 1_500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves if every server answers; otherwise throws naming each one that does not and how to start it. */
export async function checkServers(env = process.env) {
  const missing = [];
  for (const server of SERVERS) {
    const url = new URL(env[server.env] || server.fallback);
    const port = Number(url.port || server.defaultPort);
    if (!(await reachable(url.hostname, port))) {
      const start = typeof server.start === 'function' ? server.start(port) : server.start;
      missing.push(`  ${server.name} is not reachable at ${url.hostname}:${port} (${server.env}); start it with:\n    ${start}`);
    }
  }
  if (missing.length > 0) throw new Error(`Flowgate needs PostgreSQL, Redis and RabbitMQ:\n${missing.join('\n')}`);
}

/** Installs Debian packages with apt-get (the caller checks it runs as root); throws if apt-get fails. */
export function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

function run(command, args, log) {
  log(`$ ${command} ${args.join(' ')}`);
  execFileSync(command, args, { cwd: ROOT, stdio: 'inherit' });
}

/** Installs npm dependencies when node_modules (or Node 24 in it) is missing, then builds every workspace. */
export function ensureInstalledAndBuilt(log = console.log) {
  if (!existsSync(NODE) || !existsSync(`${ROOT}node_modules/.package-lock.json`)) {
    log('installing dependencies and Node 24 (first run only; a minute or two).');
    log('npm may warn EBADENGINE on an older system Node: harmless, Flowgate runs on the Node 24 it installs.');
    run('npm', existsSync(`${ROOT}package-lock.json`) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'], log);
  }
  log('building...');
  run('npm', ['run', '--silent', 'build'], log);
}
