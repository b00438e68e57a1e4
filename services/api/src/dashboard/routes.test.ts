import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { apiConfigSchema } from '../config.js';
import { installErrorHandling } from '../http/error-handler.js';
import { RouteCatalog } from '../http/route.js';
import { dashboardDir, loadDashboardAssets } from './assets.js';
import { dashboardCsp } from './csp.js';
import { registerDashboardRoutes } from './routes.js';

let app: FastifyInstance;

before(async () => {
  app = Fastify();
  installErrorHandling(app, 1 << 20);
  const config = apiConfigSchema.parse({
    dashboard: { previewBaseUrl: 'http://render.example:9106/base' },
  });
  registerDashboardRoutes({ app, catalog: new RouteCatalog(), config });
  await app.ready();
});

after(async () => app?.close());

test('the dashboard folder holds the page and every module it imports', () => {
  const assets = loadDashboardAssets(dashboardDir());
  const html = assets.get('index.html')?.body.toString('utf8') ?? '';
  assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  for (const name of assets.keys()) {
    if (!name.endsWith('.js')) continue;
    const source = assets.get(name)?.body.toString('utf8') ?? '';
    for (const [, imported] of source.matchAll(/from '\.\/([^']+)'/g)) {
      assert.ok(assets.has(imported ?? ''), `${name} imports ${imported}, which is not served`);
    }
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|eval\(/, name);
  }
});

test('/ and /dashboard redirect to /dashboard/, which serves the page with a strict CSP', async () => {
  for (const url of ['/', '/dashboard']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 302, url);
    assert.equal(res.headers.location, '/dashboard/');
  }
  const page = await app.inject({ method: 'GET', url: '/dashboard/' });
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /img-src 'self' data: http:\/\/render\.example:9106(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(page.body, /<title>sie dashboard<\/title>/);
});

test('modules and styles have their content types; an unchanged file answers 304', async () => {
  const js = await app.inject({ method: 'GET', url: '/dashboard/app.js' });
  assert.equal(js.statusCode, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  const css = await app.inject({ method: 'GET', url: '/dashboard/style.css' });
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  const etag = String(js.headers.etag);
  assert.match(etag, /^"[A-Za-z0-9_-]{27}"$/);
  const again = await app.inject({
    method: 'GET',
    url: '/dashboard/app.js',
    headers: { 'if-none-match': etag },
  });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
  const other = await app.inject({
    method: 'GET',
    url: '/dashboard/app.js',
    headers: { 'if-none-match': '"stale"' },
  });
  assert.equal(other.statusCode, 200);
});

test('nothing outside the listed files is served', async () => {
  for (const url of [
    '/dashboard/nope.js',
    '/dashboard/..%2Fpackage.json',
    '/dashboard/%2e%2e%2fsrc%2fapp.ts',
    '/dashboard/../package.json',
    '/dashboard/README.md',
  ]) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.equal((res.json() as { code: string }).code, 'not_found', url);
  }
});

test('the CSP names the preview origin only when one is configured', () => {
  assert.match(dashboardCsp(''), /img-src 'self' data:;/);
  assert.match(
    dashboardCsp('https://cams.example/preview'),
    /img-src 'self' data: https:\/\/cams\.example;/,
  );
});
