/**
 * The dashboard's Content-Security-Policy: scripts, styles and API calls from its own origin
 * only (no inline script or style, no eval), images from itself and from the render preview's
 * origin (an <img> of a cross-origin MJPEG stream needs no CORS), nothing framed, no plugins.
 */
export function dashboardCsp(previewBaseUrl: string): string {
  const img = ["'self'", 'data:'];
  const origin = originOf(previewBaseUrl);
  if (origin) img.push(origin);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${img.join(' ')}`,
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

function originOf(url: string): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
