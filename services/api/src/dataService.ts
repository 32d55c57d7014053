import {
  DependencyUnavailableError,
  newId,
  ProcessingError,
  errorMessage,
  tracedSend,
  type DataRequest,
  type Outcome,
  type ProcessDataJob,
  type RecordsRepository,
  type RpcClient,
  type RpcReply,
  type TaskEventPublisher,
  type TaskResponse,
} from '@flowgate/common';
import type { JobsOptions, Queue } from 'bullmq';

export interface DataServiceDeps {
  rpc: Pick<RpcClient, 'call'>;
  records: Pick<RecordsRepository, 'insertFinished' | 'insertProcessing' | 'deleteIfProcessing' | 'get'>;
  /** The job queue, or undefined while Redis has not answered since start-up. */
  queue: { readonly name: string; current(): Pick<Queue<ProcessDataJob, Outcome>, 'add' | 'getJob'> | undefined };
  events: Pick<TaskEventPublisher, 'emit'>;
  rpcQueue: string;
  rpcTimeoutMs: number;
  jobOptions: JobsOptions;
  /** Bounds a Redis call so an outage answers 503 quickly even if the client would wait. */
  redisTimeoutMs: number;
}

export type TaskStatusAnswer = { found: false } | { found: true; finished: boolean; response: TaskResponse };

/** The seed's DataService: the sync RPC flow, the async enqueue, and task status lookups. */
export function createDataService(deps: DataServiceDeps) {
  return {
    /** RPC to the processor, then the record; a refusal is a {@link ProcessingError} and stores nothing. */
    async processDataSync(request: DataRequest): Promise<TaskResponse> {
      const taskId = newId();
      const correlationId = newId();
      const event = { correlation_id: correlationId, task_id: taskId, queue_name: deps.rpcQueue };
      deps.events.emit({ ...event, event: 'start', description: request.description });
      let reply: RpcReply;
      try {
        reply = (await deps.rpc.call(
          deps.rpcQueue,
          { task_id: taskId, payload: request.payload, description: request.description, task_type: 'data' },
          { timeoutMs: deps.rpcTimeoutMs, correlationId, operation: request.description },
        )) as RpcReply;
      } catch (error) {
        deps.events.emit({ ...event, event: 'error', description: errorMessage(error) });
        throw error;
      }
      if (reply.error) {
        deps.events.emit({ ...event, event: 'error', description: reply.error.detail });
        throw new ProcessingError(reply.error.type, reply.error.detail, reply.error.supported_operations);
      }
      await deps.records.insertFinished({
        task_id: taskId,
        mode: 'sync',
        payload: request.payload,
        description: request.description,
        task_status: 'Success',
        outcome: reply.outcome,
        error: null,
      });
      deps.events.emit({ ...event, event: 'end', description: request.description });
      return { task_id: taskId, task_status: 'Success', outcome: reply.outcome };
    },

    /**
     * Records the task as Processing, then enqueues its job. The record comes
     * first so every task id ever answered 202 is known to Postgres, even if
     * Redis later loses the job; if the enqueue fails the record is removed and
     * the caller gets a 503.
     */
    async processDataAsync(request: DataRequest): Promise<TaskResponse> {
      const queue = deps.queue.current();
      // Refused before the record is written: with no queue there is nothing to run the task.
      if (!queue) throw new DependencyUnavailableError('redis', 'the job queue is not connected yet');
      const taskId = newId();
      await deps.records.insertProcessing({ task_id: taskId, mode: 'async', payload: request.payload, description: request.description });
      try {
        await withTimeout(
          tracedSend(deps.queue.name, taskId, (trace) =>
            queue.add(
              'process-data',
              { task_id: taskId, payload: request.payload, description: request.description, trace },
              { ...deps.jobOptions, jobId: taskId },
            ),
          ),
          deps.redisTimeoutMs,
        );
      } catch (error) {
        await deps.records.deleteIfProcessing(taskId).catch(() => undefined);
        throw new DependencyUnavailableError('redis', 'could not enqueue the task', { cause: error });
      }
      deps.events.emit({
        correlation_id: taskId,
        task_id: taskId,
        queue_name: deps.queue.name,
        event: 'start',
        description: `enqueued ${request.description}`,
      });
      return { task_id: taskId, task_status: 'Processing', outcome: null };
    },

    /**
     * BullMQ answers while it remembers the job; Postgres answers after it has
     * forgotten (or while Redis is down). A task neither knows was never accepted.
     */
    async getTaskStatus(taskId: string): Promise<TaskStatusAnswer> {
      let state: string | undefined;
      let returnValue: Outcome | undefined;
      const queue = deps.queue.current();
      try {
        // No queue yet means Redis has not answered since start-up: Postgres answers alone.
        const job = queue ? await withTimeout(queue.getJob(taskId), deps.redisTimeoutMs) : undefined;
        if (job) {
          state = await withTimeout(job.getState(), deps.redisTimeoutMs);
          returnValue = job.returnvalue ?? undefined;
        }
      } catch {
        state = undefined; // Redis is away: Postgres still knows every accepted task.
      }
      if (state === 'completed' && returnValue) {
        return { found: true, finished: true, response: { task_id: taskId, task_status: 'Success', outcome: returnValue } };
      }
      if (state !== undefined && state !== 'completed' && state !== 'failed' && state !== 'unknown') {
        return { found: true, finished: false, response: { task_id: taskId, task_status: 'Processing', outcome: null } };
      }
      const record = await deps.records.get(taskId);
      if (!record) return { found: false };
      return {
        found: true,
        finished: record.task_status !== 'Processing',
        response: {
          task_id: taskId,
          task_status: record.task_status,
          outcome: record.outcome,
          ...(record.error ? { error: record.error } : {}),
        },
      };
    },
  };
}

export type DataService = ReturnType<typeof createDataService>;

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
