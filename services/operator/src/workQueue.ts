// A keyed work queue in the style of client-go's: a key is queued at most once, never processed
// by two workers at once (a key re-added while in flight runs again afterwards), and a failing
// key comes back after an exponential back-off that resets on success.
export interface WorkQueueOptions {
  retryBaseMs: number;
  retryMaxMs: number;
}

/** What a handler asks for after a successful run: nothing, or another run after a delay. */
export type HandlerResult = { requeueAfterMs?: number } | void;

export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly dirtyWhileInFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiting: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions) {}

  get length(): number {
    return this.pending.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirtyWhileInFlight.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.waiting?.();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Processes keys one at a time until stop(); a throwing handler schedules a retry with back-off. */
  async run(handler: (key: string) => Promise<HandlerResult>, onError: (key: string, error: unknown, retryInMs: number) => void): Promise<void> {
    while (!this.stopped) {
      const key = this.pending.shift();
      if (key === undefined) {
        await new Promise<void>((resolve) => (this.waiting = resolve));
        this.waiting = undefined;
        continue;
      }
      this.queued.delete(key);
      this.inFlight.add(key);
      try {
        const result = await handler(key);
        this.failures.delete(key);
        if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const retryInMs = Math.min(this.options.retryBaseMs * 2 ** (failures - 1), this.options.retryMaxMs);
        onError(key, error, retryInMs);
        this.addAfter(key, retryInMs);
      } finally {
        this.inFlight.delete(key);
        if (this.dirtyWhileInFlight.delete(key)) this.add(key);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting?.();
  }
}
