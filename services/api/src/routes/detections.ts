import { detectionsSubject, token, type Bus } from '@sie/bus';
import { FrameDetections } from '@sie/contracts';
import type { FastifyInstance } from 'fastify';
import { detectionsToJson } from '../detection-json.js';
import type { LatestDetections } from '../latest-detections.js';

export interface DetectionsRouteDeps {
  bus: Bus;
  latest: LatestDetections;
  maxRatePerSec: number;
}

/**
 * GET /v1/runs/:id/detections — the run's detections live as Server-Sent Events, sampled to at
 * most `maxRatePerSec` messages a second; `?latest` returns the most recent one as JSON.
 */
export function registerDetectionsRoute(app: FastifyInstance, deps: DetectionsRouteDeps): void {
  app.get<{ Params: { id: string }; Querystring: Record<string, string> }>(
    '/v1/runs/:id/detections',
    async (req, reply) => {
      let runId: string;
      try {
        runId = token(req.params.id, 'run id');
      } catch (err) {
        return reply
          .code(400)
          .send({ code: 'invalid_argument', field: 'id', message: (err as Error).message });
      }
      if ('latest' in req.query) {
        const d = deps.latest.get(runId);
        if (!d)
          return reply
            .code(404)
            .send({ code: 'not_found', message: `no detections yet for run ${runId}` });
        return reply.send(detectionsToJson(d));
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(': connected\n\n');
      const minGapMs = 1000 / deps.maxRatePerSec;
      let lastSent = 0;
      const sub = deps.bus.nc.subscribe(detectionsSubject(runId), {
        callback: (err, msg) => {
          if (err) return;
          const now = Date.now();
          if (now - lastSent < minGapMs) return;
          lastSent = now;
          const d = FrameDetections.decode(msg.data);
          res.write(
            `id: ${d.frame?.seq ?? 0}\nevent: detections\ndata: ${JSON.stringify(detectionsToJson(d))}\n\n`,
          );
        },
      });
      // Comments keep proxies from closing an idle stream while the run has nothing to say.
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.raw.on('close', () => {
        clearInterval(keepAlive);
        sub.unsubscribe();
      });
    },
  );
}
