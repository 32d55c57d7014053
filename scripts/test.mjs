#!/usr/bin/env node
// `npm test`: install and build if needed, check the servers, then run every mocha test on Node 24.
import { spawnSync } from 'node:child_process';
import { checkServers, ensureInstalledAndBuilt, NODE, ROOT } from './lib/prerequisites.mjs';
import { ensureNginx } from './lib/nginx.mjs';

const log = (message) => console.log(`[test] ${message}`);
try {
  await checkServers({});
  ensureNginx(log);
  ensureInstalledAndBuilt(log);
} catch (error) {
  console.error(`[test] ${error.message}`);
  process.exit(1);
}

// Every test but the fault suite, which stops the shared servers and runs only as `npm run test:faults`.
const EVERY_TEST = ['services/*/test/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/observability/**/*.test.ts'];
const args = process.argv.slice(2);
const mochaArgs = args.includes('--config') ? args : [...args, ...EVERY_TEST];
const result = spawnSync(NODE, [`${ROOT}node_modules/mocha/bin/mocha.js`, ...mochaArgs], { cwd: ROOT, stdio: 'inherit' });
process.exit(result.status ?? 1);
