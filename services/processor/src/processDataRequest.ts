import {
  findPayloadProblem,
  MalformedRequestError,
  rpcRequestSchema,
  type Metrics,
  type RpcHandler,
  type RpcReply,
  type TaskEventPublisher,
} from '@flowgate/common';
import { OperationError, runOperation } from './operations.js';

export interface ProcessDataRequestDeps {
  events: Pick<TaskEventPublisher, 'emit'>;
  metrics?: Pick<Metrics, 'rpcServerDuration'>;
}

/** The processor's RPC handler: validates the request, runs the operation, and reports receiver events. */
export function createProcessDataRequest(deps: ProcessDataRequestDeps): RpcHandler {
  return async (body, context) => {
    const started = performance.now();
    const parsed = rpcRequestSchema.safeParse(body);
    if (!parsed.success) {
      deps.metrics?.rpcServerDuration.observe({ queue: context.queue, operation: 'unknown', outcome: 'malformed' }, 0);
      throw new MalformedRequestError(`invalid RPC request: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    }
    const request = parsed.data;
    // The api checks this too, but anything can publish to the queue; a 10,000-deep payload must not reach the recursive operations.
    const payloadProblem = findPayloadProblem(request.payload);
    if (payloadProblem) {
      deps.metrics?.rpcServerDuration.observe({ queue: context.queue, operation: request.description, outcome: 'malformed' }, 0);
      throw new MalformedRequestError(`invalid RPC request: ${payloadProblem}`);
    }
    const event = { correlation_id: context.correlationId, task_id: request.task_id, queue_name: context.queue };
    deps.events.emit({ ...event, event: 'start', description: request.description });

    let reply: RpcReply;
    try {
      const { result, inputType } = runOperation(request.description, request.payload);
      const processingMs = performance.now() - started;
      reply = {
        outcome: {
          result,
          operation: request.description,
          input_type: inputType,
          processed_at: new Date().toISOString(),
          processing_ms: Math.round(processingMs * 1000) / 1000,
        },
      };
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      reply = {
        error: {
          type: error.type,
          detail: error.message,
          ...(error.supportedOperations ? { supported_operations: error.supportedOperations } : {}),
        },
      };
    }

    const outcome = reply.error ? 'error' : 'success';
    deps.events.emit({ ...event, event: reply.error ? 'error' : 'end', description: reply.error ? reply.error.detail : request.description });
    deps.metrics?.rpcServerDuration.observe(
      { queue: context.queue, operation: request.description, outcome },
      (performance.now() - started) / 1000,
    );
    return reply;
  };
}
