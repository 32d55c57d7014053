import { operationsFor, inputTypeOf, type DataRequest } from '@flowgate/common';
import type { z } from 'zod';
import { problems } from './problem.js';

/** Parses `input` with `schema` or throws a 422 problem naming each invalid field as a JSON pointer. */
export function validate<Schema extends z.ZodType>(schema: Schema, input: unknown, where: 'body' | 'query'): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    pointer: `${where === 'body' ? '' : '?'}/${issue.path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
    detail: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  const summary = errors.map((error) => `${error.pointer}: ${error.detail}`).join('; ');
  throw problems.validation(`the request ${where} is invalid: ${summary}`, errors);
}

/** The operation must accept the payload's JSON type; checked before anything is queued. */
export function assertOperationFits(request: DataRequest): void {
  const inputType = inputTypeOf(request.payload);
  const supported = operationsFor(inputType);
  if (!supported.includes(request.description)) {
    throw problems.unsupportedOperation(
      `operation "${request.description}" does not apply to a ${inputType} payload; supported: ${supported.join(', ')}`,
      supported,
    );
  }
}
