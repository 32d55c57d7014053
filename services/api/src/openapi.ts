import { allOperations, dataRequestSchema, operationsByInputType, outcomeSchema, taskErrorSchema, taskResponseSchema } from '@flowgate/common';
import { z } from 'zod';
import { SERVING_NEEDS, SERVING_PROBE_PATH } from './readiness.js';
import { listLogsQuerySchema, listRecordsQuerySchema } from './routes/database.js';

// Where a validation error is: a body field by JSON Pointer, a query parameter by name.
const fieldErrorSchema = z
  .union([
    z.strictObject({
      pointer: z
        .string()
        .regex(/^(\/([^~/]|~[01])*)*$/)
        .describe('RFC 6901 JSON Pointer into the request body: "" is the whole body, "/description" a field, "/extra" an unknown field.'),
      detail: z.string(),
    }),
    z.strictObject({
      parameter: z.string().describe('Name of the query parameter, e.g. "limit".'),
      detail: z.string(),
    }),
  ])
  .meta({ id: 'FieldError' });

const problemSchema = z
  .object({
    type: z.string().describe('URI identifying the problem type.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('What went wrong with this request, in words.'),
    instance: z.string().optional(),
    errors: z
      .array(fieldErrorSchema)
      .optional()
      .describe('422 validation-error only: one entry per invalid body field (pointer) or query parameter (parameter).'),
    supported_operations: z
      .array(z.string())
      .optional()
      .describe('422 unsupported-operation only: the operations that accept this payload type.'),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });

const recordSchema = z
  .object({
    task_id: z.uuid(),
    mode: z.enum(['sync', 'async']),
    payload: z.unknown(),
    description: z.string(),
    task_status: z.enum(['Processing', 'Success', 'Failed']),
    outcome: z.unknown().nullable(),
    error: z.unknown().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'DataRecord' });

const taskLogSchema = z
  .object({
    id: z.number().int(),
    event_id: z.uuid(),
    correlation_id: z.string(),
    task_id: z.string(),
    service_name: z.string(),
    queue_name: z.string(),
    event: z.enum(['start', 'end', 'error']),
    description: z.string(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'TaskLog' });

const page = (item: z.ZodType, id: string) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }).meta({ id });

const schemas = z.registry<{ id: string }>();
for (const schema of [
  dataRequestSchema,
  taskResponseSchema,
  // Registered so references to them are components of their own, not a dangling "__shared#/$defs/..." ref.
  outcomeSchema,
  taskErrorSchema,
  fieldErrorSchema,
  problemSchema,
  recordSchema,
  taskLogSchema,
  page(recordSchema, 'RecordsPage'),
  page(taskLogSchema, 'TaskLogsPage'),
]) {
  schemas.add(schema, { id: String(schema.meta()?.id) });
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schemaId: string) => ({ 'application/json': { schema: ref(schemaId) } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });

const postResponses = {
  '400': problem('Malformed JSON, an empty body, invalid UTF-8, or a malformed or repeated Idempotency-Key.'),
  '401': problem('An API key is required (REQUIRE_API_KEY=true) and was missing or wrong.'),
  '409': problem('A request with the same Idempotency-Key is still running.'),
  '413': problem('The body exceeds the size limit (1 MiB by default).'),
  '415': problem('The body is not application/json in UTF-8.'),
  '422': problem(
    'The body violates the schema (errors[] locates each field by JSON Pointer), the operation does not fit the payload (supported_operations), or the Idempotency-Key was used with another body.',
  ),
  '429': problem('This client sent more requests than its rate limit allows; see Retry-After.'),
  '503': problem('RabbitMQ, Redis or PostgreSQL is unreachable; see Retry-After.'),
};

const invalidQuery = problem('A query parameter is invalid, unknown or repeated; errors[] names each by parameter.');

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Up to 255 printable ASCII characters. A repeat with the same key and body replays the first final response for 1 h.',
  schema: { type: 'string', maxLength: 255 },
};

const taskIdParameter = { name: 'task_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

function queryParameters(schema: z.ZodObject) {
  const jsonSchema = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, Record<string, unknown>> };
  return Object.entries(jsonSchema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    description: property.description,
    schema: { ...property, description: undefined },
  }));
}

/** The OpenAPI 3.1 document, built from the same zod schemas that validate requests. */
export function buildOpenApiDocument(options: { version: string; basePath: string }) {
  const components = z.toJSONSchema(schemas, { io: 'input', uri: (id) => `#/components/schemas/${id}` });
  const operationsTable = Object.entries(operationsByInputType)
    .map(([type, names]) => `- ${type}: ${names.join(', ')}`)
    .join('\n');
  const base = options.basePath;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flowgate API',
      version: options.version,
      description: `Runs data-processing requests synchronously (RabbitMQ RPC) or asynchronously (BullMQ job, polled by task id).\n\nOperations by payload type:\n${operationsTable}\n\nErrors are RFC 9457 problem details (application/problem+json). A 422 validation-error lists each problem in errors[]: body fields by RFC 6901 JSON Pointer in pointer ("" is the whole body, "/extra" an unknown field), query parameters by name in parameter. A method no route supports is a 405 with Allow; a method the api does not recognise at all (e.g. FOO, or CONNECT) is a 501.`,
    },
    servers: [{ url: '/' }],
    tags: [{ name: 'data' }, { name: 'database' }, { name: 'system' }],
    paths: {
      [`${base}/data/process`]: {
        post: {
          tags: ['data'],
          operationId: 'processData',
          summary: 'Process a request synchronously',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: json('DataRequest') },
          responses: {
            '200': { description: 'Processed.', content: json('TaskResponse') },
            ...postResponses,
            '504': problem('The processor did not answer within the RPC timeout.'),
          },
        },
      },
      [`${base}/data/process-async`]: {
        post: {
          tags: ['data'],
          operationId: 'processDataAsync',
          summary: 'Start an asynchronous task',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: json('DataRequest') },
          responses: {
            '202': {
              description: 'Accepted; poll the Location.',
              headers: { Location: { schema: { type: 'string' } } },
              content: json('TaskResponse'),
            },
            ...postResponses,
          },
        },
      },
      [`${base}/data/process-async/{task_id}`]: {
        get: {
          tags: ['data'],
          operationId: 'getTaskStatus',
          summary: 'Poll an asynchronous task',
          parameters: [taskIdParameter],
          responses: {
            '200': { description: 'Finished: Success with outcome, or Failed with error.', content: json('TaskResponse') },
            '202': { description: 'Still processing.', content: json('TaskResponse') },
            '404': problem('No task with this id was ever accepted.'),
            '503': problem('Neither Redis nor PostgreSQL can answer.'),
          },
        },
      },
      [`${base}/database/records`]: {
        get: {
          tags: ['database'],
          operationId: 'listRecords',
          summary: 'List records, newest first',
          parameters: queryParameters(listRecordsQuerySchema),
          responses: { '200': { description: 'A page of records.', content: json('RecordsPage') }, '422': invalidQuery },
        },
      },
      [`${base}/database/records/{task_id}`]: {
        get: {
          tags: ['database'],
          operationId: 'getRecord',
          parameters: [taskIdParameter],
          responses: { '200': { description: 'The record.', content: json('DataRecord') }, '404': problem('No such record.') },
        },
        delete: {
          tags: ['database'],
          operationId: 'deleteRecord',
          summary: 'Delete a record (always needs an API key)',
          security: [{ apiKey: [] }],
          parameters: [taskIdParameter],
          responses: {
            '204': { description: 'Deleted.' },
            '401': problem('No API key, or a wrong one.'),
            '404': problem('No such record.'),
            '409': problem('The task is still Processing; delete its record once it has finished.'),
          },
        },
      },
      [`${base}/database/logs`]: {
        get: {
          tags: ['database'],
          operationId: 'listTaskLogs',
          summary: 'List task events, newest first',
          parameters: queryParameters(listLogsQuerySchema),
          responses: { '200': { description: 'A page of events.', content: json('TaskLogsPage') }, '422': invalidQuery },
        },
      },
      '/health': { get: { tags: ['system'], operationId: 'health', responses: { '200': { description: 'The process is alive.' } } } },
      '/ready': {
        get: {
          tags: ['system'],
          operationId: 'ready',
          responses: { '200': { description: 'RabbitMQ, Redis and PostgreSQL reachable.' }, '503': { description: 'A dependency is down.' } },
        },
      },
      [SERVING_PROBE_PATH]: {
        get: {
          tags: ['system'],
          operationId: 'readyServing',
          description: `Kubernetes' readinessProbe: every check in the body, but 503 only when what every data route needs (${SERVING_NEEDS.join(', ')}) is down.`,
          responses: { '200': { description: 'The data routes can be served (some may still answer 503).' }, '503': { description: 'What every data route needs is down.' } },
        },
      },
      '/metrics': { get: { tags: ['system'], operationId: 'metrics', responses: { '200': { description: 'Prometheus text format.' } } } },
    },
    // Keys are optional unless the server sets REQUIRE_API_KEY=true; DELETE always needs one.
    security: [{}, { apiKey: [] }],
    components: {
      schemas: componentSchemas(components as { schemas: Record<string, Record<string, unknown>> }),
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: "A secret from the server's API_KEYS, sent as Authorization: Bearer <secret>." },
      },
    },
    'x-operations': allOperations,
  };
}

/**
 * Component schemas as OpenAPI 3.1 wants them: zod stamps each with `$schema`
 * and an `$id` of "#/components/schemas/<id>", but JSON Schema 2020-12 forbids a
 * fragment in `$id` and the document's dialect is implied; without them the
 * "#/components/schemas/..." references resolve against the document itself.
 */
function componentSchemas(generated: { schemas: Record<string, Record<string, unknown>> }): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      const { $id: _id, $schema: _schema, ...rest } = schema;
      return [id, rest];
    }),
  );
}
