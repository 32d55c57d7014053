import {
  DependencyUnavailableError,
  newId,
  errorMessage,
  RpcTimeoutError,
  type Logger,
  type Outcome,
  type ProcessDataJob,
  type RecordsRepository,
  type RpcClient,
  type RpcReply,
  type TaskError,
  type TaskEventPublisher,
} from '@flowgate/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';

/** Longest a job waits for its last event to be confirmed; an outage must not hold jobs. */
const TERMINAL_EVENT_WAIT_MS = 2_000;

export interface ProcessDataJobDeps {
  rpc: Pick<RpcClient, 'call'>;
  records: Pick<RecordsRepository, 'upsertFinal'>;
  events: Pick<TaskEventPublisher, 'emit' | 'emitConfirmed'>;
  rpcQueue: string;
  rpcTimeoutMs: number;
  /** How long a job waits while a dependency is down; such waits do not use up attempts. */
  outageRetryDelayMs: number;
  logger: Logger;
}

/**
 * Runs one async task: the same RPC as the sync flow, then the record keyed by
 * task id. Processor refusals fail at once (retrying cannot help); RPC timeouts
 * use up attempts with exponential back-off; an unreachable broker or database
 * delays the job without using attempts, so an outage never turns accepted
 * tasks into failures. The Failed record is written before the last attempt
 * gives up, so Postgres never lags BullMQ.
 */
export function createProcessDataJob(deps: ProcessDataJobDeps) {
  return async (job: Job<ProcessDataJob, Outcome>, token?: string): Promise<Outcome> => {
    const { task_id, payload, description } = job.data;
    const correlationId = newId();
    const event = { correlation_id: correlationId, task_id, queue_name: deps.rpcQueue };
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const fail = async (error: TaskError) =>
      deps.records.upsertFinal({ task_id, mode: 'async', payload, description, task_status: 'Failed', outcome: null, error });

    deps.events.emit({ ...event, event: 'start', description });
    let reply: RpcReply;
    try {
      reply = (await deps.rpc.call(
        deps.rpcQueue,
        { task_id, payload, description, task_type: 'data' },
        { timeoutMs: deps.rpcTimeoutMs, correlationId, operation: description },
      )) as RpcReply;
    } catch (error) {
      deps.events.emit({ ...event, event: 'error', description: errorMessage(error) });
      deps.logger.warn({ task_id, attempt: job.attemptsMade + 1, last_attempt: isLastAttempt, err: errorMessage(error) }, 'rpc failed');
      if (error instanceof DependencyUnavailableError && token) {
        await job.moveToDelayed(Date.now() + deps.outageRetryDelayMs, token);
        throw new DelayedError();
      }
      if (isLastAttempt) {
        const type = error instanceof RpcTimeoutError ? 'rpc-timeout' : 'rpc-failed';
        await fail({ type, detail: `${errorMessage(error)} (after ${job.attemptsMade + 1} attempts)` });
      }
      throw error;
    }

    if (reply.error) {
      deps.events.emit({ ...event, event: 'error', description: reply.error.detail });
      await fail(reply.error);
      throw new UnrecoverableError(reply.error.detail);
    }

    try {
      await deps.records.upsertFinal({
        task_id,
        mode: 'async',
        payload,
        description,
        task_status: 'Success',
        outcome: reply.outcome,
        error: null,
      });
    } catch (error) {
      if (error instanceof DependencyUnavailableError && token) {
        deps.logger.warn({ task_id, err: error.message }, 'postgres unavailable; job delayed');
        await job.moveToDelayed(Date.now() + deps.outageRetryDelayMs, token);
        throw new DelayedError();
      }
      throw error;
    }
    // Confirmed before BullMQ marks the job done, so a worker killed right after cannot lose it.
    await deps.events.emitConfirmed({ ...event, event: 'end', description }, TERMINAL_EVENT_WAIT_MS);
    return reply.outcome;
  };
}
