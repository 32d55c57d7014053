const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Task ids are UUIDs Flowgate generated; anything else is unknown without asking a store. */
export function isTaskId(value: string): boolean {
  return UUID.test(value);
}
