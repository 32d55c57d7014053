import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * helmet's defaults (CSP, no sniffing, frame denial, HSTS, no referrer
 * leakage). The docs page loads only its own scripts and styles, so the default
 * Content-Security-Policy (script-src 'self') fits it.
 */
export function securityHeaders(): RequestHandler {
  return helmet({ crossOriginEmbedderPolicy: false });
}
