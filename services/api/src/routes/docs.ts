import express, { Router } from 'express';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * Swagger UI from the installed swagger-ui-dist package, so the docs page works
 * offline and behind a strict Content-Security-Policy (no inline script).
 */
/**
 * Where swagger-ui-dist's files are. Resolved, never imported: the package's main
 * module loads the 1.5 MB browser bundle into the server's heap (some 20 MB).
 */
const swaggerUiDirectory = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export function docsRoutes(openApiUrl: string): Router {
  const router = Router();
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Flowgate API</title>
<link rel="stylesheet" href="swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-url="${openApiUrl}"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="init.js"></script>
</body>
</html>`;
  const init = `window.ui = SwaggerUIBundle({
  url: document.getElementById('swagger-ui').dataset.url,
  dom_id: '#swagger-ui',
  deepLinking: true,
});`;

  router.get('/', (request, response) => {
    // Relative asset URLs need the trailing slash.
    if (!request.originalUrl.split('?')[0]!.endsWith('/')) {
      response.redirect(301, `${request.baseUrl}/`);
      return;
    }
    response.type('html').send(page);
  });
  router.get('/init.js', (_request, response) => {
    response.type('application/javascript').send(init);
  });
  router.use(express.static(swaggerUiDirectory, { index: false, maxAge: '1h' }));
  return router;
}
