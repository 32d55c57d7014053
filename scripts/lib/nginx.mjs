// Renders the nginx template and runs nginx in the foreground under a run directory.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall } from './prerequisites.mjs';

const NGINX = '/usr/sbin/nginx';
const TEMPLATE = new URL('../nginx/flowgate.conf.template', import.meta.url);

/** Installs nginx from Debian's packages when it is missing and we may (root); otherwise explains. */
export function ensureNginx(log = console.log) {
  if (existsSync(NGINX)) return NGINX;
  if (process.getuid?.() !== 0) {
    throw new Error('nginx is not installed; install it with: sudo apt-get install -y nginx');
  }
  log('nginx is missing; installing it with apt-get (Debian package nginx)...');
  aptInstall(['nginx']);
  if (!existsSync(NGINX)) throw new Error('apt-get finished but /usr/sbin/nginx is still missing');
  return NGINX;
}

export function renderNginxConfig({ runDir, nginxPort, apiPort, bodyLimitBytes, proxyReadTimeoutSeconds }) {
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    // nginx workers run as an unprivileged user and must be able to write here.
    mkdirSync(join(runDir, dir), { recursive: true, mode: 0o1777 });
  }
  const config = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('{{RUN_DIR}}', runDir)
    .replaceAll('{{NGINX_PORT}}', String(nginxPort))
    .replaceAll('{{API_PORT}}', String(apiPort))
    .replaceAll('{{BODY_LIMIT_BYTES}}', String(bodyLimitBytes))
    .replaceAll('{{PROXY_READ_TIMEOUT}}', `${proxyReadTimeoutSeconds}s`);
  const path = join(runDir, 'nginx.conf');
  writeFileSync(path, config);
  return path;
}

export function startNginx(options) {
  const nginx = ensureNginx(options.log);
  mkdirSync(options.runDir, { recursive: true, mode: 0o755 });
  const configPath = renderNginxConfig(options);
  execFileSync(nginx, ['-t', '-q', '-c', configPath, '-p', options.runDir], { stdio: 'inherit' });
  return spawn(nginx, ['-c', configPath, '-p', options.runDir], { stdio: options.stdio ?? 'inherit', detached: true });
}
