/** The operations Flowgate runs, grouped by the JSON type of the payload they accept. */
export const operationsByInputType = {
  string: ['uppercase', 'lowercase', 'reverse', 'capitalize', 'trim', 'length', 'word_count'],
  number: ['square', 'double', 'negate', 'abs'],
  array: ['sort', 'reverse', 'unique', 'sum', 'count'],
  object: ['keys', 'count'],
  any: ['echo'],
} as const;

export type InputType = 'string' | 'number' | 'array' | 'object' | 'boolean' | 'null';
export type OperationName = (typeof operationsByInputType)[keyof typeof operationsByInputType][number];

export const allOperations: readonly OperationName[] = [
  ...new Set(Object.values(operationsByInputType).flat()),
] as OperationName[];

export const DEFAULT_OPERATION: OperationName = 'echo';

export function inputTypeOf(value: unknown): InputType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'object';
  }
}

/** Operations that accept a payload of this type, `echo` included. */
export function operationsFor(inputType: InputType): OperationName[] {
  const specific: readonly OperationName[] =
    inputType in operationsByInputType ? operationsByInputType[inputType as keyof typeof operationsByInputType] : [];
  return [...specific, ...operationsByInputType.any];
}

