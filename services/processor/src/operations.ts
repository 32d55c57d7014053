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

/** A numeric result: finite or an error, and never -0 (which JSON cannot tell from 0 anyway). */
function finite(value: number, operation: string): number {
  if (!Number.isFinite(value)) {
    throw new OperationError('non-finite-result', `${operation} overflows: the result is not a finite IEEE-754 number`);
  }
  return value === 0 ? 0 : value;
}

// 2^-600 and back: exact for every double that matters next to an overflowing sum.
const SUM_SCALE = 2 ** -600;

/**
 * Sums left to right; if a partial sum overflowed, sums again scaled down, so
 * [1e308, 1e308, -1e308] is 1e308 and only a truly unrepresentable total is an error.
 */
function sumNumbers(items: number[]): number {
  const plain = items.reduce((total, item) => total + item, 0);
  if (Number.isFinite(plain)) return finite(plain, 'sum');
  const scaled = items.reduce((total, item) => total + item * SUM_SCALE, 0);
  return finite(scaled / SUM_SCALE, 'sum');
}

function compareCodePoints(a: string, b: string): number {
  // UTF-16 comparison (a < b) would put U+1F600 before U+FF61; code points order them as Unicode does.
  const pointsA = a[Symbol.iterator]();
  const pointsB = b[Symbol.iterator]();
  for (;;) {
    const nextA = pointsA.next();
    const nextB = pointsB.next();
    if (nextA.done || nextB.done) return (nextA.done ? 0 : 1) - (nextB.done ? 0 : 1);
    const difference = nextA.value.codePointAt(0)! - nextB.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

/**
 * A total order on JSON values: by type (null, boolean, number, string, array,
 * object), then numbers numerically, strings by code point, arrays element by
 * element, objects by their canonical JSON.
 */
function compareJson(a: unknown, b: unknown): number {
  const typeA = inputTypeOf(a);
  const typeB = inputTypeOf(b);
  if (typeA !== typeB) return typeOrder.indexOf(typeA) - typeOrder.indexOf(typeB);
  switch (typeA) {
    case 'null':
      return 0;
    case 'boolean':
      return Number(a) - Number(b);
    case 'number':
      return (a as number) - (b as number);
    case 'string':
      return compareCodePoints(a as string, b as string);
    case 'array': {
      const itemsA = a as unknown[];
      const itemsB = b as unknown[];
      for (let i = 0; i < Math.min(itemsA.length, itemsB.length); i++) {
        const order = compareJson(itemsA[i], itemsB[i]);
        if (order !== 0) return order;
      }
      return itemsA.length - itemsB.length;
    }
    default:
      return compareCodePoints(canonicalJson(a), canonicalJson(b));
  }
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

// The Latin digraphs whose titlecase is a third form, neither upper nor lower (ǆ → ǅ, not Ǆ).
const titlecaseDigraphs: Record<string, string> = {
  '\u01C4': '\u01C5', '\u01C5': '\u01C5', '\u01C6': '\u01C5',
  '\u01C7': '\u01C8', '\u01C8': '\u01C8', '\u01C9': '\u01C8',
  '\u01CA': '\u01CB', '\u01CB': '\u01CB', '\u01CC': '\u01CB',
  '\u01F1': '\u01F2', '\u01F2': '\u01F2', '\u01F3': '\u01F2',
};

/**
 * Titlecases one grapheme: JavaScript has only toUpperCase, which turns ß into
 * "SS" and ﬁ into "FI"; as the first letter of a word they are "Ss" and "Fi".
 */
function titlecase(grapheme: string): string {
  const [firstPoint = '', ...marks] = grapheme;
  const digraph = titlecaseDigraphs[firstPoint];
  if (digraph) return digraph + marks.join('');
  const [upperFirst = '', ...upperRest] = firstPoint.toUpperCase();
  return upperFirst + upperRest.join('').toLowerCase() + marks.join('');
}

const stringOperations: Record<string, (text: string) => unknown> = {
  uppercase: (text) => text.toUpperCase(),
  lowercase: (text) => text.toLowerCase(),
  // By grapheme cluster, so surrogate pairs, combining marks and emoji sequences stay whole.
  reverse: (text) => Array.from(graphemes.segment(text), (segment) => segment.segment).reverse().join(''),
  capitalize: (text) => {
    const first = graphemes.segment(text)[Symbol.iterator]().next();
    if (first.done) return text;
    return titlecase(first.value.segment) + text.slice(first.value.segment.length).toLowerCase();
  },
  trim: (text) => text.trim(),
  // User-perceived characters, not UTF-16 code units.
  length: (text) => Array.from(graphemes.segment(text)).length,
  word_count: (text) => Array.from(words.segment(text)).filter((segment) => segment.isWordLike).length,
};

const numberOperations: Record<string, (value: number) => unknown> = {
  square: (value) => finite(value * value, 'square'),
  double: (value) => finite(value * 2, 'double'),
  negate: (value) => finite(-value, 'negate'),
  abs: (value) => finite(Math.abs(value), 'abs'),
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
    return sumNumbers(items);
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
