// Leader election on a coordination.k8s.io Lease, so only one operator replica reconciles while
// the others stand by. The lease's resourceVersion makes takeover a compare-and-swap.
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Log } from './log.js';

export interface LeaseSettings {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewIntervalMs: number;
}

function errorCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export class LeaderElector {
  private readonly leases: CoordinationV1Api;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    kubeConfig: KubeConfig,
    private readonly settings: LeaseSettings,
    private readonly log: Log,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.leases = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Tries to take or keep the lease until stop(); calls onLost once if a held lease is lost. */
  start(onElected: () => void, onLost: () => void): void {
    const tick = async (): Promise<void> => {
      const held = await this.tryAcquireOrRenew().catch((error: unknown) => {
        this.log('warn', 'lease update failed', { error });
        return false;
      });
      if (held && !this.leading) {
        this.leading = true;
        this.log('info', 'became leader', { lease: this.settings.name, identity: this.settings.identity });
        onElected();
      } else if (!held && this.leading) {
        this.leading = false;
        onLost();
      }
      this.timer = setTimeout(() => void tick(), this.settings.renewIntervalMs);
    };
    void tick();
  }

  /** Stops renewing and, if leading, gives the lease up so a standby takes over at once. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.read();
    if (lease?.spec?.holderIdentity !== this.settings.identity) return;
    await this.leases
      .replaceNamespacedLease({ namespace: this.settings.namespace, name: this.settings.name, body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined } } })
      .catch((error: unknown) => this.log('warn', 'could not release lease', { error }));
  }

  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.settings;
    const now = new V1MicroTime(this.now().getTime());
    const existing = await this.read();
    if (!existing) {
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      return this.leases.createNamespacedLease({ namespace, body }).then(
        () => true,
        (error: unknown) => (errorCode(error) === 409 ? false : Promise.reject(error)),
      );
    }
    const spec = existing.spec ?? {};
    const holder = spec.holderIdentity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false;
    const takingOver = holder !== identity;
    const body: V1Lease = {
      ...existing,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: now,
        ...(takingOver ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    // replace carries metadata.resourceVersion: if another replica wrote first we get 409 and stand by.
    return this.leases.replaceNamespacedLease({ namespace, name, body }).then(
      () => true,
      (error: unknown) => (errorCode(error) === 409 ? false : Promise.reject(error)),
    );
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.leases.readNamespacedLease({ namespace: this.settings.namespace, name: this.settings.name });
    } catch (error) {
      if (errorCode(error) === 404) return undefined;
      throw error;
    }
  }
}
