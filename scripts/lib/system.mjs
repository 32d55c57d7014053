// Starts the whole Flowgate system as child processes: migrations, processor, logger, worker, api, nginx.
// Used by `npm start`, the end-to-end tests and the benchmark, so all three run the same thing.
import { spawn, execFile } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NODE, ROOT } from './prerequisites.mjs';
import { startNginx } from './nginx.mjs';

const SERVICES = [
  { name: 'processor', portVar: 'METRICS_PORT' },
  { name: 'logger', portVar: 'METRICS_PORT' },
  { name: 'worker', portVar: 'METRICS_PORT' },
  { name: 'api', portVar: 'PORT' },
];

async function waitForHttp(url, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the process exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
      lastError = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      lastError = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${lastError})`);
}

/**
 * @param {object} options
 * @param {Record<string,string>} options.env   environment shared by every service (URLs, queue names)
 * @param {{api:number, nginx:number, worker:number, processor:number, logger:number}} options.ports
 * @param {string} options.runDir               where logs and nginx files go
 * @param {'inherit'|'files'} [options.output]   stream service logs to the terminal or to files in runDir
 * @param {string[]} [options.only]              start only these services (default all)
 * @param {boolean} [options.nginx]              start nginx (default true)
 * @param {'/ready'|'/health'} [options.apiProbe] what start-up waits for on the api (default /ready); /health
 *                                               starts it while a dependency is down, as Kubernetes' liveness probe would
 */
export async function startSystem(options) {
  const { env, ports, runDir } = options;
  const output = options.output ?? 'files';
  const only = new Set(options.only ?? SERVICES.map((service) => service.name));
  mkdirSync(runDir, { recursive: true });
  const children = new Map();

  const stdioFor = (name) => {
    if (output === 'inherit') return ['ignore', 'inherit', 'inherit'];
    const file = createWriteStream(join(runDir, `${name}.log`), { flags: 'a' });
    return { file, stdio: ['ignore', 'pipe', 'pipe'] };
  };

  await promisify(execFile)(NODE, [join(ROOT, 'services/common/dist/bin/migrate.js')], {
    env: { ...process.env, ...env, CREATE_DATABASE: 'true' },
  });

  // Front to back, so each service drains while the ones it needs are still up: nginx, the api
  // (finishes its requests), the worker (finishes its jobs, which need the processor), the
  // processor, and the logger last, to write the events of all of them.
  const STOP_ORDER = ['nginx', 'api', 'worker', 'processor', 'logger'];
  const stopOne = (child, signal) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  const stop = async (signal = 'SIGTERM') => {
    for (const name of STOP_ORDER) {
      const child = children.get(name);
      // nginx stops at once on SIGTERM; SIGQUIT is its graceful stop, finishing requests in flight.
      if (child) await stopOne(child, name === 'nginx' && signal === 'SIGTERM' ? 'SIGQUIT' : signal);
    }
  };

  const spawnService = (service) => {
    const stdio = stdioFor(service.name);
    // V8 sizes its heap for a 24 GB machine: a 4 MB semi-space young generation, and an old generation that
    // may grow to 1.5 times what was live at the last full collection (the default allows up to four times),
    // keep each service's peak RSS well under 200 MB under load at no measurable throughput cost
    // (docs/performance.md). Unlike --max-old-space-size, neither is a hard limit a burst could crash into.
    const args = ['--enable-source-maps', '--max-semi-space-size=4', '--heap-growing-percent=50', '--import', join(ROOT, 'services/common/dist/tracing/register.js')];
    const child = spawn(NODE, [...args, join(ROOT, `services/${service.name}/dist/main.js`)], {
      cwd: ROOT,
      // Its own process group: a terminal's Ctrl-C reaches only the launcher, which then stops
      // the services one by one, each with a single SIGTERM and time to drain.
      detached: true,
      env: { ...process.env, ...env, [service.portVar]: String(ports[service.name]), ...(options.serviceEnv?.[service.name] ?? {}) },
      stdio: Array.isArray(stdio) ? stdio : stdio.stdio,
    });
    if (!Array.isArray(stdio)) {
      child.stdout.pipe(stdio.file, { end: false });
      child.stderr.pipe(stdio.file, { end: false });
    }
    children.set(service.name, child);
    return child;
  };
  const waitForService = (service) =>
    waitForHttp(`http://127.0.0.1:${ports[service.name]}${service.name === 'api' ? (options.apiProbe ?? '/ready') : '/health'}`, 30_000, children.get(service.name));

  try {
    for (const service of SERVICES.filter((candidate) => only.has(candidate.name))) spawnService(service);
    for (const service of SERVICES.filter((candidate) => only.has(candidate.name))) await waitForService(service);
    if (options.nginx !== false) {
      const nginxStdio = stdioFor('nginx');
      // The settings the api runs with (the caller's environment, then `env`), so nginx's limits match the api's.
      const apiSettings = { ...process.env, ...env };
      const nginx = startNginx({
        runDir: join(runDir, 'nginx'),
        nginxPort: ports.nginx,
        apiPort: ports.api,
        bodyLimitBytes: Number(apiSettings.BODY_LIMIT_BYTES ?? 1_048_576),
        proxyReadTimeoutSeconds: Math.ceil(Number(apiSettings.RPC_TIMEOUT_MS ?? 10_000) / 1000) + 20,
        stdio: Array.isArray(nginxStdio) ? nginxStdio : nginxStdio.stdio,
      });
      children.set('nginx', nginx);
      await waitForHttp(`http://127.0.0.1:${ports.nginx}/health`, 10_000, nginx);
    }
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }

  return {
    children,
    urls: {
      nginx: `http://127.0.0.1:${ports.nginx}`,
      api: `http://127.0.0.1:${ports.api}`,
      worker: `http://127.0.0.1:${ports.worker}`,
      processor: `http://127.0.0.1:${ports.processor}`,
      logger: `http://127.0.0.1:${ports.logger}`,
    },
    stop,
    /** Starts a service again, after it exited or was killed, with the same environment and port. */
    async restart(name) {
      const service = SERVICES.find((candidate) => candidate.name === name);
      const previous = children.get(name);
      if (previous && previous.exitCode === null && previous.signalCode === null) throw new Error(`${name} is still running`);
      spawnService(service);
      await waitForService(service);
    },
  };
}
