import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { problems } from '../problem.js';

/** A configured key, kept only as its SHA-256 digest. */
export interface ApiKey {
  id: string;
  digest: Buffer;
}

const callers = new WeakMap<Request, string>();

/**
 * The `API_KEYS` setting: comma-separated `id:secret` pairs (the id names the
 * caller in logs and scopes its idempotency keys) or bare secrets (the id is then
 * a digest prefix). Secrets must be at least 16 characters; clients send only the
 * secret, as `Authorization: Bearer <secret>`.
 */
export const apiKeysSetting = z
  .string()
  .optional()
  .transform((value, context): ApiKey[] => {
    const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
    const keys: ApiKey[] = [];
    for (const entry of entries) {
      const separator = entry.indexOf(':');
      const secret = separator >= 0 ? entry.slice(separator + 1) : entry;
      if (secret.length < 16) {
        context.addIssue({ code: 'custom', message: 'every secret must be at least 16 characters long' });
        return z.NEVER;
      }
      const digest = sha256(secret);
      keys.push({ id: separator >= 0 ? entry.slice(0, separator) : digest.toString('hex').slice(0, 12), digest });
    }
    return keys;
  });

/**
 * Checks `Authorization: Bearer <key>` by comparing SHA-256 digests in constant
 * time against every configured key, so neither the match position nor the key
 * length leaks through timing.
 */
export function createApiKeyAuth(keys: ApiKey[]) {
  const identify = (request: Request): string | undefined => {
    const header = request.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return undefined;
    const presented = sha256(match[1]!);
    let found: string | undefined;
    for (const key of keys) {
      if (timingSafeEqual(presented, key.digest)) found ??= key.id;
    }
    return found;
  };

  const requireKey = (reason: string): RequestHandler => (request, _response, next) => {
    if (keys.length === 0) {
      next(problems.unauthorized(`${reason}, and this server has no API keys configured (set API_KEYS)`));
      return;
    }
    const caller = identify(request);
    if (!caller) {
      next(problems.unauthorized(`${reason}: send Authorization: Bearer <API key>`));
      return;
    }
    callers.set(request, caller);
    next();
  };

  return {
    /** Guards every route but probes and metrics, when keys are configured and `requireForAll` is set. */
    guardAll: (requireForAll: boolean, openPaths: ReadonlySet<string>): RequestHandler => {
      const guard = requireKey('an API key is required');
      return (request, response, next) => {
        if (!requireForAll || openPaths.has(request.path)) {
          // Still identify a caller who sent a key, for idempotency scoping and rate limits.
          const caller = keys.length > 0 ? identify(request) : undefined;
          if (caller) callers.set(request, caller);
          next();
          return;
        }
        guard(request, response, next);
      };
    },
    /** DELETE always needs a key. */
    requireForDelete: requireKey('deleting records needs an API key'),
  };
}

/** The authenticated caller's key id, or undefined for anonymous requests. */
export function callerOf(request: Request): string | undefined {
  return callers.get(request);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
