import { NotFoundError } from '@sie/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteContext } from '../context.js';
import { errorSchema } from '../http/error-schema.js';
import { addRoute } from '../http/route.js';
import { ASSET_NAME, loadDashboardAssets, type DashboardAsset } from './assets.js';
import { dashboardCsp } from './csp.js';

const TAG = 'dashboard';
export const DASHBOARD_PATH = '/dashboard/';

/**
 * The operator dashboard: static files (plain HTML, ES modules and CSS, no build step) read once
 * from the package's `dashboard/` folder. `GET /` and `GET /dashboard` redirect to
 * `/dashboard/`. Every answer revalidates (`no-cache` + a content-hash ETag, 304 when unchanged),
 * so a redeploy shows at once without re-downloading unchanged files.
 */
export function registerDashboardRoutes(
  ctx: Pick<RouteContext, 'app' | 'catalog' | 'config'>,
  assets: Map<string, DashboardAsset> = loadDashboardAssets(),
): void {
  const { app, catalog, config } = ctx;
  const csp = dashboardCsp(config.dashboard.previewBaseUrl);
  const send = (req: FastifyRequest, reply: FastifyReply, name: string) => {
    const asset = ASSET_NAME.test(name) ? assets.get(name) : undefined;
    if (!asset) throw new NotFoundError('dashboard file', name);
    reply
      .header('cache-control', 'no-cache')
      .header('etag', asset.etag)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (asset.contentType.startsWith('text/html')) {
      reply.header('content-security-policy', csp).header('x-frame-options', 'DENY');
    }
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  };
  const redirect = (url: string, operationId: string) =>
    addRoute(
      app,
      catalog,
      {
        method: 'GET',
        url,
        operationId,
        summary: 'Redirects to the dashboard',
        tag: TAG,
        responses: { 302: { description: 'Location: /dashboard/' } },
      },
      async (_req, reply) => reply.redirect(DASHBOARD_PATH, 302),
    );
  redirect('/', 'root');
  redirect('/dashboard', 'dashboardRedirect');
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: DASHBOARD_PATH,
      operationId: 'dashboard',
      summary: 'The operator dashboard (runs, previews, events, models, pipelines)',
      tag: TAG,
      responses: {
        200: { description: 'HTML', contentType: 'text/html' },
        304: { description: 'Unchanged (If-None-Match)' },
      },
    },
    async (req, reply) => send(req, reply, 'index.html'),
  );
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: `${DASHBOARD_PATH}:file`,
      operationId: 'dashboardFile',
      summary: "One of the dashboard's files (HTML, JavaScript modules, CSS)",
      tag: TAG,
      responses: {
        200: { description: 'The file', contentType: 'text/javascript' },
        304: { description: 'Unchanged (If-None-Match)' },
        404: { description: 'No such file', schema: errorSchema },
      },
    },
    async (req, reply, { params }) => send(req, reply, params.file ?? ''),
  );
}
