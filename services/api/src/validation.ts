import { operationsFor, inputTypeOf, type DataRequest } from '@flowgate/common';
import { z } from 'zod';
import { problems, type FieldError } from './problem.js';

/**
 * Parses a JSON body with `schema` or throws a 422 whose `errors` point at each
 * invalid field with an RFC 6901 JSON Pointer: "" is the whole body, "/payload"
 * a field, and each unknown field gets its own pointer ("/extra").
 */
export function validateBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const { shown, hidden } = capped(result.error.issues.flatMap((issue) => findingsOf(issue, unknownDetail('field', acceptedKeys(schema)))));
  const errors = shown.map(({ path, detail }): FieldError => ({ pointer: jsonPointer(path), detail }));
  throw problems.validation(`the request body is invalid: ${summarize(shown, hidden, 'field', acceptedKeys(schema), jsonPointer)}`, errors);
}

/**
 * Parses the query string with `schema` or throws a 422 whose `errors` name each
 * bad query parameter in `parameter`: a query string is not a JSON document, so
 * a JSON Pointer into it would be an invention. A parameter given twice is an
 * error of its own rather than a puzzling "must be an integer".
 */
export function validateQuery<Schema extends z.ZodObject>(schema: Schema, query: Readonly<Record<string, unknown>>): z.output<Schema> {
  const entries = Object.entries(query);
  const findings: Finding[] = entries
    .filter(([, value]) => Array.isArray(value))
    .map(([name, value]) => ({ path: [name], detail: `must be given once, not ${(value as unknown[]).length} times`, unknown: false }));
  const result = schema.safeParse(Object.fromEntries(entries.filter(([, value]) => !Array.isArray(value))));
  const unknown = unknownDetail('parameter', Object.keys(schema.shape));
  if (!result.success) findings.push(...result.error.issues.flatMap((issue) => findingsOf(issue, unknown)));
  if (result.success && findings.length === 0) return result.data;
  const name = (path: readonly PropertyKey[]) => String(path[0] ?? '');
  const { shown, hidden } = capped(onePerParameter(findings, name));
  const errors = shown.map(({ path, detail }): FieldError => ({ parameter: name(path), detail }));
  throw problems.validation(`the query is invalid: ${summarize(shown, hidden, 'parameter', Object.keys(schema.shape), name)}`, errors);
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

/**
 * Each parameter is named once: a value can break several checks (zod reports
 * each), and their distinct details are joined into one entry.
 */
function onePerParameter(findings: readonly Finding[], name: (path: readonly PropertyKey[]) => string): Finding[] {
  const byName = new Map<string, { first: Finding; details: string[] }>();
  for (const finding of findings) {
    const entry = byName.get(name(finding.path));
    if (!entry) byName.set(name(finding.path), { first: finding, details: [finding.detail] });
    else if (!entry.details.includes(finding.detail)) entry.details.push(finding.detail);
  }
  return [...byName.values()].map(({ first, details }) => ({ ...first, detail: details.join(' and ') }));
}

/** RFC 6901: "" is the whole document; "~" and "/" inside a name are escaped as "~0" and "~1". */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** A body of a megabyte can hold 100,000 unknown keys; the answer names the first few and counts the rest. */
const MAX_FINDINGS = 20;

function capped(findings: Finding[]): { shown: Finding[]; hidden: number } {
  return { shown: findings.slice(0, MAX_FINDINGS), hidden: Math.max(0, findings.length - MAX_FINDINGS) };
}

interface Finding {
  path: readonly PropertyKey[];
  detail: string;
  unknown: boolean;
}

/** zod reports all unknown keys of an object as one issue; each is located on its own. */
function findingsOf(issue: z.core.$ZodIssue, unknownMessage: string): Finding[] {
  if (issue.code !== 'unrecognized_keys') return [{ path: issue.path, detail: issue.message, unknown: false }];
  return issue.keys.map((key) => ({ path: [...issue.path, key], detail: unknownMessage, unknown: true }));
}

function unknownDetail(noun: 'field' | 'parameter', accepted: readonly string[]): string {
  return `unknown ${noun}${accepted.length > 0 ? `; accepted: ${accepted.join(', ')}` : ''}`;
}

function acceptedKeys(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/**
 * The problem's `detail`: every finding in one line, and unknown names gathered
 * into one clause that also says which names are accepted.
 */
function summarize(
  findings: readonly Finding[],
  hidden: number,
  noun: 'field' | 'parameter',
  accepted: readonly string[],
  locate: (path: readonly PropertyKey[]) => string,
): string {
  const parts = findings
    .filter((finding) => !finding.unknown)
    .map((finding) => {
      const where = locate(finding.path);
      return where === '' ? finding.detail : `${where}: ${finding.detail}`;
    });
  const unknown = findings.filter((finding) => finding.unknown).map((finding) => String(finding.path.at(-1)));
  if (unknown.length > 0) {
    parts.push(`unknown ${noun}(s): ${unknown.join(', ')}${accepted.length > 0 ? ` (accepted: ${accepted.join(', ')})` : ''}`);
  }
  if (hidden > 0) parts.push(`and ${hidden} more problem(s)`);
  return parts.join('; ');
}
