import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * helmet's defaults (CSP, no sniffing, frame denial, HSTS, no referrer
 * leakage). The docs page loads only its own scripts and styles, so the default
 * Content-Security-Policy (script-src 'self') fits it. Without
 * upgrade-insecure-requests, though: served over plain HTTP from any host but
 * localhost (a kind cluster's Ingress, say), it made browsers fetch the docs
 * page's scripts and styles over https, which is not there, and the page stayed blank.
 * TLS, where there is any, ends at the ingress.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    crossOriginEmbedderPolicy: false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
}
