import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the dashboard, read once at startup. */
export interface DashboardAsset {
  body: Buffer;
  contentType: string;
  /** Strong validator: a hash of the content, so a redeploy is seen at once. */
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** File names the dashboard may serve: flat, lower-case, a known extension (no traversal). */
export const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/;

/**
 * The dashboard's folder in the package (`services/api/dashboard`, next to `dist`): resolved from
 * this module's own location, so it works from any working directory.
 */
export function dashboardDir(): string {
  return fileURLToPath(new URL('../../dashboard/', import.meta.url));
}

/** Every servable file of `dir` by name, with its content type and ETag. */
export function loadDashboardAssets(dir: string = dashboardDir()): Map<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const name of readdirSync(dir).sort()) {
    if (!ASSET_NAME.test(name)) continue;
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) continue;
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}
