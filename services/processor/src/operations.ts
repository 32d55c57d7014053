import { inputTypeOf, operationsFor, type InputType, type OperationName } from '@flowgate/common';

/** The processor refuses the request; `type` becomes part of the problem's type URI. */
export class OperationError extends Error {
  override name = 'OperationError';
  constructor(
    readonly type: 'unsupported-operation' | 'non-finite-result',
    message: string,
    readonly supportedOperations?: OperationName[],
  ) {
    super(message);
  }
}

type Operation = (payload: never) => unknown;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const words = new Intl.Segmenter(undefined, { granularity: 'word' });

function finite(value: number, operation: string): number {
  if (!Number.isFinite(value)) {
    throw new OperationError('non-finite-result', `${operation} overflows: the result is not a finite IEEE-754 number`);
  }
  return value;
}

/** Sorts numbers numerically, strings by code point, and mixed arrays by type, then JSON text, so the order is total. */
function compareJson(a: unknown, b: unknown): number {
  const typeA = inputTypeOf(a);
  const typeB = inputTypeOf(b);
  if (typeA !== typeB) return typeOrder.indexOf(typeA) - typeOrder.indexOf(typeB);
  if (typeA === 'number') return (a as number) - (b as number);
  const textA = typeA === 'string' ? (a as string) : JSON.stringify(a);
  const textB = typeB === 'string' ? (b as string) : JSON.stringify(b);
  return textA < textB ? -1 : textA > textB ? 1 : 0;
}
const typeOrder: InputType[] = ['null', 'boolean', 'number', 'string', 'array', 'object'];

/** Structural identity for `unique`: objects are equal when their JSON with sorted keys is. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

const stringOperations: Record<string, (text: string) => unknown> = {
  uppercase: (text) => text.toUpperCase(),
  lowercase: (text) => text.toLowerCase(),
  // By grapheme cluster, so surrogate pairs, combining marks and emoji sequences stay whole.
  reverse: (text) => Array.from(graphemes.segment(text), (segment) => segment.segment).reverse().join(''),
  capitalize: (text) => {
    const first = graphemes.segment(text)[Symbol.iterator]().next();
    if (first.done) return text;
    return first.value.segment.toUpperCase() + text.slice(first.value.segment.length).toLowerCase();
  },
  trim: (text) => text.trim(),
  // User-perceived characters, not UTF-16 code units.
  length: (text) => Array.from(graphemes.segment(text)).length,
  word_count: (text) => Array.from(words.segment(text)).filter((segment) => segment.isWordLike).length,
};

const numberOperations: Record<string, (value: number) => unknown> = {
  square: (value) => finite(value * value, 'square'),
  double: (value) => finite(value * 2, 'double'),
  negate: (value) => (value === 0 ? 0 : -value),
  abs: (value) => Math.abs(value),
};

const arrayOperations: Record<string, (items: unknown[]) => unknown> = {
  sort: (items) => [...items].sort(compareJson),
  reverse: (items) => [...items].reverse(),
  unique: (items) => {
    const seen = new Set<string>();
    return items.filter((item) => {
      const key = canonicalJson(item);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  },
  sum: (items) => {
    if (!items.every((item): item is number => typeof item === 'number')) {
      throw new OperationError('unsupported-operation', 'sum needs an array of numbers only', ['sort', 'reverse', 'unique', 'count', 'echo']);
    }
    return finite(items.reduce((total, item) => total + item, 0), 'sum');
  },
  count: (items) => items.length,
};

const objectOperations: Record<string, (value: Record<string, unknown>) => unknown> = {
  keys: (value) => Object.keys(value),
  count: (value) => Object.keys(value).length,
};

const byInputType: Partial<Record<InputType, Record<string, Operation>>> = {
  string: stringOperations,
  number: numberOperations,
  array: arrayOperations,
  object: objectOperations,
};

/** Runs `operation` on `payload`, or throws {@link OperationError}. */
export function runOperation(operation: OperationName, payload: unknown): { result: unknown; inputType: InputType } {
  const inputType = inputTypeOf(payload);
  if (operation === 'echo') return { result: payload, inputType };
  const implementation = byInputType[inputType]?.[operation] as ((payload: unknown) => unknown) | undefined;
  if (!implementation) {
    throw new OperationError(
      'unsupported-operation',
      `operation "${operation}" does not apply to a ${inputType} payload; use one of: ${operationsFor(inputType).join(', ')}`,
      operationsFor(inputType),
    );
  }
  return { result: implementation(payload), inputType };
}
