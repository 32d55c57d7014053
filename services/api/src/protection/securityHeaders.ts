import helmet from 'helmet';
import type { Request, RequestHandler, Response } from 'express';

/**
 * helmet's defaults (CSP, no sniffing, framing by the same origin only, HSTS, no referrer
 * leakage). The docs page loads only its own scripts and styles, so the default
 * Content-Security-Policy (script-src 'self') fits it. Without
 * upgrade-insecure-requests, though: served over plain HTTP from any host but
 * localhost (a kind cluster's Ingress, say), it made browsers fetch the docs
 * page's scripts and styles over https, which is not there, and the page stayed blank.
 * TLS, where there is any, ends at the ingress.
 */
export const HELMET_OPTIONS = {
  crossOriginEmbedderPolicy: false,
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
} as const;

/**
 * helmet's headers on every response. With {@link HELMET_OPTIONS} helmet sets
 * the same headers whatever the request, so they are taken from it once and set
 * in one call: its eleven middlewares, run per request, cost ~15% of the api's
 * HTTP handling.
 */
export function securityHeaders(): RequestHandler {
  const headers = headersSetBy(helmet(HELMET_OPTIONS));
  return (_request, response, next) => {
    response.setHeaders(headers);
    next();
  };
}

/** The headers `middleware` sets, from one run against a stand-in response; it must not depend on the request. */
function headersSetBy(middleware: RequestHandler): Map<string, string> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  let failure: unknown;
  let done = false;
  middleware({} as Request, response as unknown as Response, (error?: unknown) => {
    failure = error;
    done = true;
  });
  if (!done || failure) throw new Error('the security-headers middleware did not finish synchronously', { cause: failure });
  return headers;
}
