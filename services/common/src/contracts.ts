import { z } from 'zod';
import { findPayloadProblem } from './payloadLimits.js';
import { allOperations, DEFAULT_OPERATION, type InputType, type OperationName } from './operations.js';

/** "null", "an array", "a string"…: how a validation message names what it got instead. */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A wrong description says what was wrong with it: a string that names no
 * operation lists the operations; anything else says a string was expected
 * (listing operations to someone who sent 42 answers the wrong question).
 */
function descriptionMessage(issue: { input?: unknown }): string {
  if (typeof issue.input !== 'string') return `must be a string naming an operation, not ${jsonTypeOf(issue.input)}`;
  return `${JSON.stringify(issue.input.slice(0, 100))} is not an operation; use one of: ${allOperations.join(', ')}`;
}

/** Body of both POST endpoints. `payload` may be any JSON value; `description` names the operation. */
export const dataRequestSchema = z
  .strictObject(
    {
      payload: z
        .unknown()
        .superRefine((value, ctx) => {
          if (value === undefined) {
            ctx.addIssue({ code: 'custom', message: 'payload is required' });
            return;
          }
          const problem = findPayloadProblem(value);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .describe('Any JSON value; the operation named by description must accept its type.'),
      description: z
        .enum(allOperations as [OperationName, ...OperationName[]], { error: descriptionMessage })
        .default(DEFAULT_OPERATION)
        .describe('The operation to run (default echo).'),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? `must be a JSON object, not ${jsonTypeOf(issue.input)}` : undefined) },
  )
  .meta({ id: 'DataRequest' });

export type DataRequest = z.output<typeof dataRequestSchema>;

export interface Outcome {
  result: unknown;
  operation: OperationName;
  input_type: InputType;
  processed_at: string;
  processing_ms: number;
}

export const outcomeSchema = z
  .object({
    result: z.unknown().describe('The operation\'s result: a JSON value.'),
    operation: z.enum(allOperations as [OperationName, ...OperationName[]]),
    input_type: z.enum(['string', 'number', 'array', 'object', 'boolean', 'null']),
    processed_at: z.iso.datetime(),
    processing_ms: z.number(),
  })
  .meta({ id: 'Outcome' });

export type TaskStatus = 'Processing' | 'Success' | 'Failed';

export interface TaskError {
  type: string;
  detail: string;
  supported_operations?: OperationName[];
}

export const taskErrorSchema = z
  .object({
    type: z.string(),
    detail: z.string(),
    supported_operations: z.array(z.string()).optional(),
  })
  .meta({ id: 'TaskError' });

export interface TaskResponse {
  task_id: string;
  task_status: TaskStatus;
  outcome: Outcome | null;
  error?: TaskError;
}

export const taskResponseSchema = z
  .object({
    task_id: z.uuid(),
    task_status: z.enum(['Processing', 'Success', 'Failed']),
    outcome: outcomeSchema.nullable(),
    error: taskErrorSchema.optional(),
  })
  .meta({ id: 'TaskResponse' });

/** What travels on `data_queue`. */
export interface RpcRequest {
  task_id: string;
  payload: unknown;
  description: OperationName;
  task_type: 'data';
}

/** What the processor replies: exactly one of `outcome` or `error`. */
export type RpcReply = { outcome: Outcome; error?: undefined } | { error: TaskError; outcome?: undefined };

/** BullMQ job data for the async flow; the job id is the task id. */
export interface ProcessDataJob {
  task_id: string;
  payload: unknown;
  description: OperationName;
  /** W3C trace context of the request that enqueued the job. */
  trace?: Record<string, string>;
}

export type TaskEventKind = 'start' | 'end' | 'error';

/** One step of a task, as published on the `task_events` exchange and stored in `task_logs`. */
export interface TaskEvent {
  event_id: string;
  correlation_id: string;
  task_id: string;
  service_name: string;
  queue_name: string;
  event: TaskEventKind;
  description: string;
  created_at: string;
  /** W3C trace context the event was emitted in; travels with it, not stored. */
  trace?: Record<string, string>;
}

export const taskEventSchema = z.object({
  event_id: z.uuid(),
  correlation_id: z.string().min(1).max(255),
  task_id: z.string().min(1).max(255),
  service_name: z.string().min(1).max(64),
  queue_name: z.string().min(1).max(255),
  event: z.enum(['start', 'end', 'error']),
  // PostgreSQL text cannot hold NUL; such an event is refused here rather than by the insert.
  description: z.string().max(2000).refine((text) => !text.includes('\u0000'), 'description contains a NUL character'),
  created_at: z.iso.datetime(),
  trace: z.record(z.string(), z.string()).optional(),
});

/** A task_events message: an array of events (or, from older publishers, one event). */
export const taskEventMessageSchema = z.union([z.array(taskEventSchema).min(1), taskEventSchema.transform((event) => [event])]);

export interface DataRecord {
  task_id: string;
  mode: 'sync' | 'async';
  payload: unknown;
  description: string;
  task_status: TaskStatus;
  outcome: Outcome | null;
  error: TaskError | null;
  created_at: string;
  updated_at: string;
}

export const rpcRequestSchema = z.object({
  task_id: z.string().min(1).max(255),
  payload: z.unknown().refine((value) => value !== undefined, 'payload is required'),
  description: z.enum(allOperations as [OperationName, ...OperationName[]]),
  task_type: z.literal('data'),
});
