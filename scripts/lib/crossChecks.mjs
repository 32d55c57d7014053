// The benchmark's floors measured again by independent tools, in the same run and on the same servers:
//   wrk              the bare HTTP floor (and Flowgate's sync endpoint) instead of autocannon
//   pgbench          the single-row insert floor, same statement and table, instead of node-postgres
//   redis-benchmark  plain Redis round trips and a small script, next to what the raw BullMQ floor got
// Each tool is a C program that needs far less CPU per request than a Node load generator, so where a
// Node floor reads much lower than its tool, the floor measured its client rather than the server.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { aptInstall } from './prerequisites.mjs';

const run = promisify(execFile);

/** The tools and the Debian package each comes in. */
const TOOLS = [
  ['wrk', 'wrk'],
  ['pgbench', 'postgresql-client'],
  ['redis-benchmark', 'redis-tools'],
];

function onPath(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the missing tools from Debian's packages when we may (root), as `npm start` does for nginx.
 * Returns the tools that can run; a tool still missing is named in the log and its rows say so.
 */
export function ensureCrossCheckTools(log) {
  const missing = TOOLS.filter(([command]) => !onPath(command));
  if (missing.length > 0 && process.getuid?.() === 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    log(`installing ${packages.join(', ')} with apt-get for the cross-checks...`);
    try {
      aptInstall(packages);
    } catch (error) {
      log(`apt-get failed (${error.message}); the cross-checks of the missing tools are skipped`);
    }
  }
  const available = new Set(TOOLS.map(([command]) => command).filter(onPath));
  for (const [command, pkg] of TOOLS) if (!available.has(command)) log(`${command} is not installed (Debian package ${pkg}): its cross-check is skipped`);
  return available;
}

/** The version each available tool reports (wrk prints its version and exits 1; the others exit 0). */
export async function crossCheckToolVersions(available) {
  const versions = {};
  for (const [command] of TOOLS) {
    if (!available.has(command)) continue;
    const output = await run(command, ['--version']).then(({ stdout }) => stdout, (error) => `${error.stdout ?? ''}`);
    versions[command] = /\d+\.\d+(\.\d+)?/.exec(output)?.[0] ?? 'unknown';
  }
  return versions;
}

const round2 = (value) => Math.round(value * 100) / 100;

/**
 * wrk for `durationS` at `connections` (threads: one per core, at most one per connection), POSTing `body`.
 * Latency percentiles come from wrk's own histogram, written as JSON by the script's done() hook.
 */
export async function wrkLoad({ url, connections, durationS, body, scriptDir }) {
  const script = join(scriptDir, 'wrk-post.lua');
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(body)}`,
      'wrk.headers["Content-Type"] = "application/json"',
      'done = function(summary, latency, requests)',
      '  local e = summary.errors',
      '  io.write(string.format("WRK_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p95_us\\":%d,\\"p99_us\\":%d,\\"non2xx\\":%d,\\"errors\\":%d,\\"timeouts\\":%d}\\n",',
      '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),',
      '    e.status, e.connect + e.read + e.write, e.timeout))',
      'end',
      '',
    ].join('\n'),
  );
  const threads = Math.max(1, Math.min(connections, 2));
  const { stdout } = await run('wrk', [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--timeout', '30s', '-s', script, url], { maxBuffer: 1 << 20 });
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const summary = JSON.parse(line.slice('WRK_JSON '.length));
  const ok = summary.requests - summary.non2xx;
  return {
    tool: 'wrk',
    threads,
    rps: Math.round((ok / (summary.duration_us / 1e6)) * 10) / 10,
    count: ok,
    p50: round2(summary.p50_us / 1000),
    p95: round2(summary.p95_us / 1000),
    p99: round2(summary.p99_us / 1000),
    non2xx: summary.non2xx,
    errors: summary.errors,
    timeouts: summary.timeouts,
  };
}

/** The insert floor's statement for pgbench: same table and values, task ids from a sequence. */
const PGBENCH_INSERT = `INSERT INTO bench_floor_records (task_id, mode, payload, description, task_status, outcome, error) VALUES (('00000000-0000-4000-a000-' || lpad(to_hex(nextval('bench_floor_pgbench_ids')), 12, '0'))::uuid, 'sync', '"hello world"'::jsonb, 'uppercase', 'Success', '{"result":"HELLO WORLD","operation":"uppercase","input_type":"string","processed_at":"2026-01-01T00:00:00.000Z","processing_ms":0.01}'::jsonb, NULL);\n`;

/** SQL that prepares the bench database for {@link pgbenchInsert}. */
export const PGBENCH_SETUP_SQL = 'CREATE SEQUENCE IF NOT EXISTS bench_floor_pgbench_ids';

/**
 * pgbench running the insert floor's single-row INSERT with `clients` connections (the floor's pool
 * size caps them the same way) and prepared statements, for `durationS`. Percentiles come from
 * pgbench's per-transaction log.
 */
export async function pgbenchInsert({ databaseUrl, clients, durationS, scriptDir, label }) {
  const script = join(scriptDir, 'pgbench-insert.sql');
  writeFileSync(script, PGBENCH_INSERT);
  const url = new URL(databaseUrl);
  const prefix = join(scriptDir, `pgbench-${label}`);
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password) };
  const { stdout } = await run(
    'pgbench',
    [
      '-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username) || 'postgres',
      '-n', '-M', 'prepared', '-f', script,
      '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(durationS),
      '--log', `--log-prefix=${prefix}`,
      url.pathname.slice(1),
    ],
    { env, maxBuffer: 1 << 20 },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  // One log file per thread; each line: client_id transaction_no latency_us script_no epoch epoch_us.
  const latencies = [];
  for (const file of readdirSync(scriptDir).filter((name) => name.startsWith(`pgbench-${label}.`))) {
    for (const line of readFileSync(join(scriptDir, file), 'utf8').split('\n')) {
      const latencyUs = Number(line.split(' ')[2]);
      if (latencyUs > 0) latencies.push(latencyUs / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (p) => (latencies.length ? round2(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]) : null);
  if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return { tool: 'pgbench -M prepared', clients, rps: Math.round(tps * 10) / 10, count: latencies.length, p50: at(50), p95: at(95), p99: at(99), failures: failed };
}

/**
 * redis-benchmark at `clients` connections: SET (one round trip, one command) and EVAL of a two-command
 * script (a round trip that runs Lua, as BullMQ's every call does), on keys under `keyPrefix`.
 */
export async function redisBenchmark({ redisUrl, clients, requests, keyPrefix }) {
  const url = new URL(redisUrl);
  const base = ['-h', url.hostname, '-p', url.port || '6379', '-c', String(clients), '-n', String(requests), '--csv'];
  if (url.password) base.push('-a', decodeURIComponent(url.password));
  const commands = {
    set: ['SET', `${keyPrefix}:redis-benchmark:set`, 'value'],
    eval: ['EVAL', "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])", '2', `${keyPrefix}:redis-benchmark:a`, `${keyPrefix}:redis-benchmark:b`, '1'],
  };
  const results = { tool: 'redis-benchmark', clients, requests };
  for (const [name, command] of Object.entries(commands)) {
    const { stdout } = await run('redis-benchmark', [...base, ...command], { maxBuffer: 1 << 20 });
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    const row = stdout.trim().split('\n').at(-1).match(/"[^"]*"/g)?.map((cell) => cell.slice(1, -1));
    if (!row || !Number.isFinite(Number(row[1]))) throw new Error(`redis-benchmark printed no result:\n${stdout}`);
    results[name] = { rps: Number(row[1]), p50: Number(row[4]), p95: Number(row[5]), p99: Number(row[6]) };
  }
  return results;
}

