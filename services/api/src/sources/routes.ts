import { discoverOnvifDevices } from '@sie/onvif';
import { z } from 'zod';
import type { RouteContext } from '../context.js';
import { addRoute } from '../http/route.js';

export const discoverQuerySchema = z.strictObject({
  /** How long to collect answers; the service's discovery.timeoutMs when absent. */
  timeoutMs: z.coerce.number().int().min(100).max(30_000).optional(),
});

export const discoverJsonSchema = z.object({
  devices: z.array(
    z.object({
      /** WS-Discovery endpoint reference (`urn:uuid:…`). */
      address: z.string(),
      /** Device service URLs the camera announced. */
      xaddrs: z.array(z.string()),
      scopes: z.array(z.string()),
      name: z.string().optional(),
      hardware: z.string().optional(),
      /** A source URL for this camera (add user:password@ and ?profile= as needed). */
      url: z.string().optional(),
    }),
  ),
});

/**
 * GET /v1/sources/discover: the ONVIF cameras that answer a WS-Discovery Probe. The Probe goes to
 * the service's configured target (the multicast group 239.255.255.250:3702 by default), never
 * to an address a client names.
 */
export function registerSourceRoutes(ctx: RouteContext): void {
  const { app, catalog, config } = ctx;
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/v1/sources/discover',
      operationId: 'discoverSources',
      summary: 'ONVIF cameras on the local network (WS-Discovery)',
      tag: 'sources',
      tenant: false,
      query: discoverQuerySchema,
      responses: {
        200: { description: 'The cameras that answered', schema: discoverJsonSchema },
      },
    },
    async (_req, _reply, { query }) => {
      const [host = '', port = ''] = splitHostPort(config.discovery.target);
      const devices = await discoverOnvifDevices({
        host,
        port: Number(port),
        timeoutMs: query.timeoutMs ?? config.discovery.timeoutMs,
      });
      return {
        devices: devices.map((d) => {
          const url = onvifUrlOf(d.xaddrs);
          return { ...d, ...(url === undefined ? {} : { url }) };
        }),
      };
    },
  );
}

function splitHostPort(target: string): [string, string] {
  const i = target.lastIndexOf(':');
  return [target.slice(0, i), target.slice(i + 1)];
}

/** `onvif://host:port/` from the first device service URL that parses. */
function onvifUrlOf(xaddrs: string[]): string | undefined {
  for (const x of xaddrs) {
    try {
      const u = new URL(x);
      // hostname keeps IPv6 brackets; ONVIF over https is rare but its port is 443.
      const port = u.port || (u.protocol === 'https:' ? '443' : '80');
      return `onvif://${u.hostname}:${port}/`;
    } catch {
      // The next one, then.
    }
  }
  return undefined;
}
