#!/usr/bin/env node
// `npm start`: install if needed, build, check the servers, migrate, start every service and nginx on :8080.
import { join } from 'node:path';
import { checkServers, ensureInstalledAndBuilt, ROOT } from './lib/prerequisites.mjs';
import { ensureNginx } from './lib/nginx.mjs';

const log = (message) => console.log(`[flowgate] ${message}`);

try {
  await checkServers();
  ensureNginx(log);
  ensureInstalledAndBuilt(log);
} catch (error) {
  console.error(`[flowgate] ${error.message}`);
  process.exit(1);
}

const { startSystem } = await import('./lib/system.mjs');
const ports = {
  nginx: Number(process.env.NGINX_PORT ?? 8080),
  api: Number(process.env.PORT ?? 8000),
  worker: 9101,
  processor: 9102,
  logger: 9103,
};
let system;
try {
  system = await startSystem({ env: {}, ports, runDir: join(ROOT, '.run', 'local'), output: 'inherit' });
} catch (error) {
  console.error(`[flowgate] failed to start: ${error.message}`);
  process.exit(1);
}

log('Flowgate is running:');
log(`  API through nginx  ${system.urls.nginx}  (try: curl -X POST ${system.urls.nginx}/api/v1/data/process -H 'Content-Type: application/json' -d '{"payload": "hello world", "description": "uppercase"}')`);
log(`  API direct         ${system.urls.api}`);
log(`  API docs           ${system.urls.nginx}/api/v1/docs/`);
log(`  Metrics            ${system.urls.api}/metrics  ${system.urls.worker}/metrics  ${system.urls.processor}/metrics  ${system.urls.logger}/metrics`);
log('Press Ctrl-C to stop.');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  log('stopping...');
  await system.stop();
  log('stopped.');
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
for (const [name, child] of system.children) {
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[flowgate] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
    void shutdown().then(() => process.exit(1));
  });
}
