import type { Request } from 'express';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Task ids are UUIDs Flowgate generated; anything else is unknown without asking a store. */
export function isTaskId(value: string): boolean {
  return UUID.test(value);
}

/** The `:task_id` path parameter, in the lower case Flowgate issues ids in. */
export function taskIdParam(request: Request): string {
  return String(request.params.task_id).toLowerCase();
}
