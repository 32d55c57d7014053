// CPU time (user + system) of the machine's processes, from /proc, so a benchmark phase can say what it
// cost each part of the system: each Flowgate service, PostgreSQL, Redis, RabbitMQ, nginx, the load generator.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Servers recognised by their command name (the comm field of /proc/<pid>/stat). */
const SERVERS = [
  ['postgres', /^postgres$/],
  ['redis', /^redis-server$/],
  ['rabbitmq', /^(beam\.smp|erl_child_setup|inet_gethost|epmd)$/],
  ['nginx', /^nginx$/],
];

/** CPU seconds used so far by every live process: Map<pid, { comm, seconds }>. */
export function cpuSnapshot() {
  const snapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may contain spaces and parentheses; the fields after it are space-separated.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // utime, stime, cutime, cstime are fields 14-17 of stat, 12-15 after comm and state.
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      snapshot.set(Number(entry), { comm, seconds: ticks / TICKS_PER_SECOND });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return snapshot;
}

/**
 * CPU seconds each group used between two snapshots. `pids` names processes by pid (the
 * services, the load generator); servers are found by command name; the rest is "other".
 */
export function cpuByGroup(before, after, pids) {
  const groupOfPid = new Map(Object.entries(pids).map(([name, pid]) => [pid, name]));
  const groups = {};
  for (const [pid, { comm, seconds }] of after) {
    const used = seconds - (before.get(pid)?.seconds ?? 0);
    if (used <= 0) continue;
    const group = groupOfPid.get(pid) ?? SERVERS.find(([, pattern]) => pattern.test(comm))?.[0] ?? 'other';
    groups[group] = (groups[group] ?? 0) + used;
  }
  return groups;
}

/** Busy and total jiffies of the whole machine so far, from the first line of /proc/stat. */
function machineTicks() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
  const values = fields.map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are the idle ones.
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return { busy: total - values[3] - values[4], total };
}

/** Share (0-1) of the machine's CPU that was busy over the next `windowMs`. */
export async function machineBusyShare(windowMs = 250) {
  const before = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = machineTicks();
  return after.total > before.total ? (after.busy - before.busy) / (after.total - before.total) : 0;
}
