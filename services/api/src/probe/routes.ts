import { SieError } from '@sie/errors';
import { parseSourceUrl, probeSource } from '@sie/media';
import { z } from 'zod';
import type { RouteContext } from '../context.js';
import { errorSchema } from '../http/error-schema.js';
import { addRoute } from '../http/route.js';

export const probeBodySchema = z.strictObject({
  url: z.string().min(1).max(4096),
  rtspTransport: z.enum(['tcp', 'udp']).default('tcp'),
  /** Longest wait for the source; at most the service's probeTimeoutMs. */
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
});

export const probeJsonSchema = z.union([
  z.object({
    reachable: z.literal(true),
    /** ffmpeg's codec name (h264, hevc, msmpeg4v3, …). */
    codec: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    /** 0 when the source does not say. */
    fps: z.number(),
    durationMs: z.number().int().optional(),
    /** ONVIF sources: the RTSP stream the camera named (password redacted). */
    resolvedUrl: z.string().optional(),
  }),
  z.object({
    reachable: z.literal(false),
    /** source_unreachable (cannot open) or source_invalid (opens, but holds no usable video). */
    code: z.string(),
    reason: z.string(),
  }),
]);

/**
 * POST /v1/sources/probe: lets a user check a camera or file before starting a run. The URL
 * passes the same checks as a run's source first; a source that cannot be used is an answer
 * (`reachable: false` with the reason), not an error of the request.
 */
export function registerProbeRoute(ctx: RouteContext): void {
  const { app, catalog, config } = ctx;
  addRoute(
    app,
    catalog,
    {
      method: 'POST',
      url: '/v1/sources/probe',
      operationId: 'probeSource',
      summary: 'Is a source (file, RTSP, HTTP, HLS, ONVIF, V4L2) reachable, its codec, size, fps',
      tag: 'sources',
      tenant: false,
      body: probeBodySchema,
      responses: {
        200: { description: 'What ffprobe found, or why it could not', schema: probeJsonSchema },
        400: { description: 'A URL no run may use (source_invalid)', schema: errorSchema },
      },
    },
    async (_req, _reply, { body }) => {
      const source = parseSourceUrl(body.url, {
        mediaRoot: config.mediaRoot,
        allowDevices: config.allowDevices,
      });
      const timeoutMs = Math.min(body.timeoutMs ?? config.probeTimeoutMs, config.probeTimeoutMs);
      try {
        const r = await probeSource(source, timeoutMs, { rtspTransport: body.rtspTransport });
        return {
          reachable: true as const,
          codec: r.codec,
          width: r.width,
          height: r.height,
          fps: Math.round(r.fps * 1000) / 1000,
          ...(r.durationMs === undefined ? {} : { durationMs: r.durationMs }),
          ...(r.resolvedUrl === undefined ? {} : { resolvedUrl: r.resolvedUrl }),
        };
      } catch (err) {
        if (
          err instanceof SieError &&
          (err.code === 'source_unreachable' || err.code === 'source_invalid')
        ) {
          return { reachable: false as const, code: err.code, reason: err.message };
        }
        throw err;
      }
    },
  );
}
