import { DependencyUnavailableError } from '../errors.js';

export interface WriteBatcherOptions<Row> {
  /** Writes every row in one statement (one round trip, one commit); all or none. */
  writeMany(rows: readonly Row[]): Promise<void>;
  /** Most rows in one statement. */
  maxBatchSize: number;
  /** Statements running at once. Rows that arrive while all are running wait and go together. */
  maxConcurrent: number;
}

interface PendingWrite<Row> {
  row: Row;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit in the application: concurrent single-row writes become one
 * multi-row statement. A lone write goes out on the next turn of the event
 * loop, so a quiet service pays no waiting; under load, rows that arrive while
 * `maxConcurrent` statements are running queue up and share the next one, which
 * saves a round trip and a WAL flush per row.
 *
 * Each caller's promise settles when its own row is committed. If a statement
 * fails for another reason than an outage, its rows are retried one by one, so
 * a bad row fails only its own caller.
 */
export class WriteBatcher<Row> {
  private readonly pending: PendingWrite<Row>[] = [];
  private running = 0;
  private flushScheduled = false;

  constructor(private readonly options: WriteBatcherOptions<Row>) {}

  write(row: Row): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ row, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.running >= this.options.maxConcurrent || this.pending.length === 0) return;
    this.flushScheduled = true;
    // setImmediate runs after the current I/O phase, so the rows of every request read in it go together.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.running < this.options.maxConcurrent) {
      const batch = this.pending.splice(0, this.options.maxBatchSize);
      this.running += 1;
      void this.writeBatch(batch).finally(() => {
        this.running -= 1;
        this.scheduleFlush();
      });
    }
  }

  private async writeBatch(batch: PendingWrite<Row>[]): Promise<void> {
    try {
      await this.options.writeMany(batch.map((write) => write.row));
      for (const write of batch) write.resolve();
    } catch (error) {
      if (batch.length === 1 || error instanceof DependencyUnavailableError) {
        for (const write of batch) write.reject(error);
        return;
      }
      await Promise.all(
        batch.map((write) => this.options.writeMany([write.row]).then(write.resolve, write.reject)),
      );
    }
  }
}
