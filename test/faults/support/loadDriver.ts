import { randomUUID } from 'node:crypto';

export type Mode = 'sync' | 'async';

/** One request the driver sent and what came back. */
export interface Sent {
  mode: Mode;
  input: string;
  status: number;
  body: { task_id?: string; task_status?: string; outcome?: { result?: unknown } | null } | undefined;
  contentType: string;
  ms: number;
}

/**
 * Sends seed-style requests with unique payloads at a fixed concurrency until
 * stopped (or `maxRequests`), recording every answer. Unique payloads let the
 * books check that each 200 carries its own result, never another request's.
 */
export class LoadDriver {
  readonly sent: Sent[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly apiBase: string,
    private readonly options: { mode: Mode; concurrency: number; maxRequests?: number; pauseMs?: number },
  ) {
    for (let i = 0; i < options.concurrency; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<Sent[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.sent;
  }

  private async loop(): Promise<void> {
    const path = this.options.mode === 'sync' ? '/data/process' : '/data/process-async';
    while (this.running && this.sent.length < (this.options.maxRequests ?? 20_000)) {
      const input = `fault ${randomUUID()}`;
      const started = performance.now();
      let status = 0;
      let body: Sent['body'];
      let contentType = '';
      try {
        const response = await fetch(`${this.apiBase}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ payload: input, description: 'uppercase' }),
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        contentType = response.headers.get('content-type') ?? '';
        body = (await response.json()) as Sent['body'];
      } catch {
        status = 0; // no answer at all (connection refused or hung): counted as a failure of the books
      }
      this.sent.push({ mode: this.options.mode, input, status, body, contentType, ms: performance.now() - started });
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs ?? 20));
    }
  }
}
