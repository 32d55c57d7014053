// The Kubernetes Pod Security Standards' "restricted" profile (which includes "baseline"), as the
// PodSecurity admission controller checks it, applied offline to rendered objects:
// https://kubernetes.io/docs/concepts/security/pod-security-standards/

type Json = Record<string, any>;

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const ALLOWED_SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const ALLOWED_SECCOMP_TYPES = new Set(['RuntimeDefault', 'Localhost']);
const ALLOWED_APPARMOR_TYPES = new Set(['RuntimeDefault', 'Localhost']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

export interface PodTemplate {
  /** kind/name of the object holding it. */
  owner: string;
  annotations: Record<string, string>;
  spec: Json;
}

/** The pod template of a workload (or the spec of a Pod); undefined for objects that run no pods. */
export function podTemplateOf(object: Json): PodTemplate | undefined {
  const owner = `${object['kind']}/${object['metadata']?.name}`;
  switch (object['kind']) {
    case 'Pod':
      return { owner, annotations: object['metadata']?.annotations ?? {}, spec: object['spec'] };
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return { owner, annotations: object['spec'].template.metadata?.annotations ?? {}, spec: object['spec'].template.spec };
    case 'CronJob':
      return { owner, annotations: object['spec'].jobTemplate.spec.template.metadata?.annotations ?? {}, spec: object['spec'].jobTemplate.spec.template.spec };
    default:
      return undefined;
  }
}

/** Flowgate's own rule on top of the profile: no container writes to its image, only to emptyDir mounts. */
export function writableRootViolations(template: PodTemplate): string[] {
  return allContainers(template.spec)
    .filter((container) => container['securityContext']?.readOnlyRootFilesystem !== true)
    .map((container) => `${template.owner}: container ${container['name']} has a writable root filesystem`);
}

export function allContainers(spec: Json): Json[] {
  return [...(spec['initContainers'] ?? []), ...(spec['containers'] ?? []), ...(spec['ephemeralContainers'] ?? [])];
}

function appArmorProblem(profile: Json | undefined): string | undefined {
  return profile && !ALLOWED_APPARMOR_TYPES.has(profile['type']) ? `appArmorProfile ${profile['type']}` : undefined;
}

function seLinuxProblems(options: Json | undefined): string[] {
  if (!options) return [];
  return [
    ...(ALLOWED_SELINUX_TYPES.has(options['type'] ?? '') ? [] : [`seLinuxOptions.type ${options['type']}`]),
    ...(options['user'] ? ['seLinuxOptions.user set'] : []),
    ...(options['role'] ? ['seLinuxOptions.role set'] : []),
  ];
}

/** Every way the pod template breaks the restricted profile, as "owner: problem" lines. */
export function restrictedProfileViolations(template: PodTemplate): string[] {
  const { spec } = template;
  const pod: Json = spec['securityContext'] ?? {};
  const problems: string[] = [];
  const report = (problem: string): void => void problems.push(`${template.owner}: ${problem}`);

  // Baseline, pod level.
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field] === true) report(`${field} true`);
  if (pod['windowsOptions']?.hostProcess === true) report('hostProcess pod');
  for (const problem of seLinuxProblems(pod['seLinuxOptions'])) report(problem);
  const podAppArmor = appArmorProblem(pod['appArmorProfile']);
  if (podAppArmor) report(podAppArmor);
  for (const sysctl of pod['sysctls'] ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) report(`unsafe sysctl ${sysctl.name}`);
  for (const [key, value] of Object.entries(template.annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION_PREFIX) && value !== 'runtime/default' && !value.startsWith('localhost/')) report(`AppArmor annotation ${value}`);
  }
  // Restricted, pod level.
  for (const volume of spec['volumes'] ?? []) {
    const types = Object.keys(volume).filter((key) => key !== 'name');
    if (!types.every((type) => ALLOWED_VOLUME_TYPES.has(type))) report(`volume ${volume.name} of type ${types.join(',')}`);
  }
  if (pod['runAsUser'] === 0) report('pod runAsUser 0');
  const podSeccomp = pod['seccompProfile']?.type;
  if (podSeccomp !== undefined && !ALLOWED_SECCOMP_TYPES.has(podSeccomp)) report(`pod seccompProfile ${podSeccomp}`);

  for (const container of allContainers(spec)) {
    const context: Json = container['securityContext'] ?? {};
    const at = (problem: string): void => report(`container ${container['name']}: ${problem}`);
    // Baseline.
    if (context['privileged'] === true) at('privileged');
    if (context['windowsOptions']?.hostProcess === true) at('hostProcess');
    if (context['procMount'] !== undefined && context['procMount'] !== 'Default') at(`procMount ${context['procMount']}`);
    for (const problem of seLinuxProblems(context['seLinuxOptions'])) at(problem);
    const appArmor = appArmorProblem(context['appArmorProfile']);
    if (appArmor) at(appArmor);
    for (const port of container['ports'] ?? []) if (port.hostPort) at(`hostPort ${port.hostPort}`);
    // Restricted.
    if (context['allowPrivilegeEscalation'] !== false) at('allowPrivilegeEscalation is not false');
    if (context['runAsNonRoot'] === false || (context['runAsNonRoot'] !== true && pod['runAsNonRoot'] !== true)) at('not runAsNonRoot');
    if (context['runAsUser'] === 0) at('runAsUser 0');
    const seccomp = context['seccompProfile']?.type ?? podSeccomp;
    if (!ALLOWED_SECCOMP_TYPES.has(seccomp)) at(`seccompProfile ${seccomp ?? 'unset'}`);
    if (!(context['capabilities']?.drop ?? []).includes('ALL')) at('capabilities do not drop ALL');
    const added: string[] = context['capabilities']?.add ?? [];
    if (added.some((capability) => capability !== 'NET_BIND_SERVICE')) at(`adds capabilities ${added.join(',')}`);
  }
  return problems;
}
