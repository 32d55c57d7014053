#!/usr/bin/env node
// `npm start`: install if needed, build, check the servers, migrate, start every service and nginx on :8080.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { checkServers, ensureInstalledAndBuilt, ROOT } from './lib/prerequisites.mjs';
import { ensureNginx } from './lib/nginx.mjs';

const log = (message) => console.log(`[flowgate] ${message}`);
const fail = (message) => {
  console.error(`[flowgate] ${message}`);
  process.exit(1);
};

/** Each port, the variable that sets it and its default. */
const PORTS = [
  { name: 'nginx', variable: 'NGINX_PORT', fallback: 8080 },
  { name: 'api', variable: 'PORT', fallback: 8000 },
  { name: 'worker', variable: 'WORKER_METRICS_PORT', fallback: 9101 },
  { name: 'processor', variable: 'PROCESSOR_METRICS_PORT', fallback: 9102 },
  { name: 'logger', variable: 'LOGGER_METRICS_PORT', fallback: 9103 },
];

function portFree(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const ports = {};
for (const { name, variable, fallback } of PORTS) {
  const raw = process.env[variable];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${variable}=${JSON.stringify(raw)} is not a port number (1-65535)`);
  if (!(await portFree(port))) fail(`port ${port} (${name}) is already in use; stop what listens there or choose another with ${variable}=<port>`);
  ports[name] = port;
}

try {
  await checkServers();
  ensureNginx(log);
  ensureInstalledAndBuilt(log);
} catch (error) {
  fail(error.message);
}

const { startSystem } = await import('./lib/system.mjs');
log('migrating the database and starting the services...');
let system;
try {
  // Each service takes its port from its own variable; everything else in the environment passes through.
  system = await startSystem({ env: {}, ports, runDir: join(ROOT, '.run', 'local'), output: 'inherit' });
} catch (error) {
  fail(`failed to start: ${error.message}`);
}

log('Flowgate is running:');
log(`  API through nginx  ${system.urls.nginx}  (try: curl -X POST ${system.urls.nginx}/api/v1/data/process -H 'Content-Type: application/json' -d '{"payload": "hello world", "description": "uppercase"}')`);
log(`  API direct         ${system.urls.api}`);
log(`  API docs           ${system.urls.nginx}/api/v1/docs/`);
log(`  Metrics            ${system.urls.api}/metrics  ${system.urls.worker}/metrics  ${system.urls.processor}/metrics  ${system.urls.logger}/metrics`);
log('Press Ctrl-C to stop.');

let stopping = false;
const shutdown = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  log('stopping (each service drains first)...');
  await system.stop();
  log('stopped.');
  process.exit(code);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
process.on('SIGHUP', () => void shutdown());
// If whoever started us goes away without signalling (npm killed on its own), stop too rather than orphan the services.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown();
}, 1_000).unref();
for (const [name, child] of system.children) {
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[flowgate] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
    void shutdown(1);
  });
}
