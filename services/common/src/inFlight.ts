/**
 * Counts work in progress so a graceful shutdown can wait for it: an HTTP
 * server's close() returns once its sockets are gone, not when the handlers that
 * were serving them have finished with the broker and the database.
 */
export class InFlight {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      if (this.active === 0) for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  get size(): number {
    return this.active;
  }

  /** Resolves when nothing is running. */
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
