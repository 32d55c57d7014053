import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { HELMET_OPTIONS, securityHeaders } from '../src/protection/securityHeaders.js';

/** The headers a real express response carries after `middleware`, Date and the like left out. */
async function headersAfter(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.disable('x-powered-by');
  app.use(middleware);
  app.get('/', (_request, response) => {
    response.end('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await response.text();
    const headers = Object.fromEntries(response.headers);
    for (const transport of ['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']) delete headers[transport];
    return headers;
  } finally {
    server.close();
  }
}

describe('security headers', () => {
  it('are exactly the headers helmet itself sets with the same options', async () => {
    const fromHelmet = await headersAfter(helmet(HELMET_OPTIONS));
    assert.ok(Object.keys(fromHelmet).length >= 10, `helmet set only ${Object.keys(fromHelmet).join(', ')}`);
    assert.deepEqual(await headersAfter(securityHeaders()), fromHelmet);
  });
});
