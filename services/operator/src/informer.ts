// List-then-watch cache feeding the work queue. It re-lists when the API server answers 410 Gone
// (our resourceVersion is too old), after a dropped or failed connection, and every resync period,
// so a missed event can delay a reconcile but never lose it.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface InformerSource<T> {
  /** Collection path, e.g. /apis/apps/v1/deployments. */
  path: string;
  labelSelector?: string;
  list(): Promise<ListResult<T>>;
}

export interface InformerHandlers<T> {
  /** Called for adds and updates, and for every object again after each re-list. */
  onUpsert(object: T): void;
  onDelete(object: T): void;
  onError(error: unknown): void;
}

export interface InformerTiming {
  resyncMs: number;
  /** Server-side watch timeout; the watch is then resumed from the last resourceVersion. */
  watchTimeoutSeconds: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

type WatchEnd = { kind: 'closed' } | { kind: 'gone' } | { kind: 'failed'; error: unknown };

function keyOf(object: WatchedObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof code === 'number' ? code : undefined;
}

export class Informer<T extends WatchedObject> {
  private readonly watch: Watch;
  private readonly store = new Map<string, T>();
  private resourceVersion = '';
  private stopped = false;
  private activeWatch: AbortController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private synced = false;
  /** Number of list calls so far; tests and metrics read it. */
  listCount = 0;

  constructor(
    kubeConfig: KubeConfig,
    private readonly source: InformerSource<T>,
    private readonly handlers: InformerHandlers<T>,
    private readonly timing: InformerTiming,
  ) {
    this.watch = new Watch(kubeConfig);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  list(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    this.stopped = false;
    this.resyncTimer = setInterval(() => this.forceRelist(), this.timing.resyncMs);
    this.resyncTimer.unref();
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.activeWatch?.abort();
  }

  /** Drops the watch and lists from scratch. */
  forceRelist(): void {
    this.resourceVersion = '';
    this.activeWatch?.abort();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        const end = await this.watchOnce();
        if (end.kind === 'gone') this.resourceVersion = '';
        if (end.kind !== 'failed') {
          failures = 0;
          continue;
        }
        throw end.error;
      } catch (error) {
        if (this.stopped) return;
        this.handlers.onError(error);
        this.resourceVersion = '';
        failures += 1;
        await sleep(Math.min(this.timing.retryBaseMs * 2 ** (failures - 1), this.timing.retryMaxMs));
      }
    }
  }

  private async relist(): Promise<void> {
    this.listCount += 1;
    const { items, resourceVersion } = await this.source.list();
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(keyOf(item));
      this.store.set(keyOf(item), item);
      this.handlers.onUpsert(item);
    }
    for (const [key, object] of this.store) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.handlers.onDelete(object);
      }
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
  }

  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let gone = false;
      const onEvent = (phase: string, object: unknown): void => {
        if (phase === 'ERROR') {
          if (statusCodeOf(object) === 410) gone = true;
          return;
        }
        const item = object as T;
        if (item.metadata?.resourceVersion) this.resourceVersion = item.metadata.resourceVersion;
        if (phase === 'ADDED' || phase === 'MODIFIED') {
          this.store.set(keyOf(item), item);
          this.handlers.onUpsert(item);
        } else if (phase === 'DELETED') {
          this.store.delete(keyOf(item));
          this.handlers.onDelete(item);
        }
      };
      const onDone = (error: unknown): void => {
        this.activeWatch = undefined;
        if (gone || statusCodeOf(error) === 410) resolve({ kind: 'gone' });
        else if (error && !this.stopped && this.resourceVersion) resolve({ kind: 'failed', error });
        else resolve({ kind: 'closed' });
      };
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.timing.watchTimeoutSeconds,
        ...(this.source.labelSelector ? { labelSelector: this.source.labelSelector } : {}),
      };
      this.watch.watch(this.source.path, query, onEvent, onDone).then(
        (controller) => {
          this.activeWatch = controller;
          if (this.stopped || !this.resourceVersion) controller.abort();
        },
        (error: unknown) => resolve({ kind: 'failed', error }),
      );
    });
  }
}
