/**
 * Checks a parsed JSON value for what JSON.parse accepts but Flowgate cannot
 * process or store faithfully. The walk is iterative so a 10,000-level nesting
 * attack costs a loop, not the stack.
 */
export const MAX_PAYLOAD_DEPTH = 64;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function findPayloadProblem(value: unknown, maxDepth = MAX_PAYLOAD_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: 'payload' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const current = item.value;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return `${item.path} is not a finite IEEE-754 number`;
    } else if (typeof current === 'string') {
      const problem = stringProblem(current);
      if (problem) return `${item.path} ${problem}`;
    } else if (current !== null && typeof current === 'object') {
      if (item.depth >= maxDepth) return `payload nests deeper than ${maxDepth} levels`;
      if (Array.isArray(current)) {
        for (let i = current.length - 1; i >= 0; i--) {
          stack.push({ value: current[i], depth: item.depth + 1, path: `${item.path}[${i}]` });
        }
      } else {
        for (const key of Object.keys(current)) {
          if (FORBIDDEN_KEYS.has(key)) return `${item.path} has the reserved key "${key}"`;
          const keyProblem = stringProblem(key);
          if (keyProblem) return `a key of ${item.path} ${keyProblem}`;
          stack.push({ value: (current as Record<string, unknown>)[key], depth: item.depth + 1, path: `${item.path}.${key}` });
        }
      }
    }
  }
  return undefined;
}

function stringProblem(text: string): string | undefined {
  // PostgreSQL jsonb rejects both; catching them here keeps the error a 422 instead of a failed insert.
  if (text.includes('\u0000')) return 'contains a NUL (U+0000) character';
  if (!text.isWellFormed()) return 'contains a lone UTF-16 surrogate';
  return undefined;
}
