// Structural-schema defaulting and validation, the subset of the API server's behaviour that the
// Flowgate CRD uses. `render FILE` needs it to see a file the way the cluster would store it.
import type { JsonSchema } from './crd.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a copy of value with schema defaults filled in for missing fields, nested defaults included. */
export function applyDefaults(value: unknown, schema: JsonSchema): unknown {
  if (Array.isArray(value)) {
    const itemSchema = schema.items;
    return itemSchema ? value.map((item) => applyDefaults(item, itemSchema)) : [...value];
  }
  if (!isObject(value)) return value;
  const result: JsonObject = { ...value };
  for (const [key, propertySchema] of Object.entries(schema.properties ?? {})) {
    if (result[key] === undefined && propertySchema.default !== undefined) {
      result[key] = structuredClone(propertySchema.default);
    }
    if (result[key] !== undefined) result[key] = applyDefaults(result[key], propertySchema);
  }
  if (schema.additionalProperties) {
    for (const key of Object.keys(result)) {
      if (!(key in (schema.properties ?? {}))) result[key] = applyDefaults(result[key], schema.additionalProperties);
    }
  }
  return result;
}

/** Validation errors as "path: problem" lines; empty when value matches schema (CEL rules are left to the API server). */
export function validateAgainstSchema(value: unknown, schema: JsonSchema, path = ''): string[] {
  const at = path || '<root>';
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value === 'number' && Number.isInteger(value)) return [];
    if (typeof value !== 'string') return [`${at}: must be an integer or a string`];
    return schema.pattern && !new RegExp(schema.pattern).test(value) ? [`${at}: "${value}" is not a valid quantity`] : [];
  }
  switch (schema.type) {
    case 'object': {
      if (!isObject(value)) return [`${at}: must be an object`];
      const errors = (schema.required ?? []).filter((key) => value[key] === undefined).map((key) => `${path}.${key}: is required`);
      for (const [key, child] of Object.entries(value)) {
        const childSchema = schema.properties?.[key] ?? schema.additionalProperties;
        if (childSchema) errors.push(...validateAgainstSchema(child, childSchema, `${path}.${key}`));
        else if (schema.properties && !schema['x-kubernetes-preserve-unknown-fields']) errors.push(`${path}.${key}: unknown field`);
      }
      return errors;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: must be an array`];
      const errors = schema.maxItems !== undefined && value.length > schema.maxItems ? [`${at}: at most ${schema.maxItems} items`] : [];
      const itemSchema = schema.items;
      if (itemSchema) value.forEach((item, index) => errors.push(...validateAgainstSchema(item, itemSchema, `${path}[${index}]`)));
      return errors;
    }
    case 'string': {
      if (typeof value !== 'string') return [`${at}: must be a string`];
      const errors: string[] = [];
      if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: must be one of ${schema.enum.join(', ')}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
      return errors;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) return [`${at}: must be an ${schema.type}`];
      const errors: string[] = [];
      if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: must be >= ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: must be <= ${schema.maximum}`);
      return errors;
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: must be a boolean`];
    default:
      return [];
  }
}
