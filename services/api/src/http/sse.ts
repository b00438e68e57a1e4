import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  /** Writes one event: `id`, `event` name and a JSON body. */
  send(id: number | string, event: string, data: unknown): void;
}

/**
 * Server-Sent Events for a set of routes: `open` takes over the reply, sends the stream headers,
 * keeps it alive with comments (proxies close idle streams) and calls `onClose` when the client
 * leaves. Open streams never go idle, so they are ended when the server closes — otherwise
 * closing would wait for every client to leave.
 */
export class SseStreams {
  private readonly open_ = new Set<ServerResponse>();

  constructor(app: FastifyInstance) {
    app.addHook('preClose', async () => {
      for (const res of this.open_) res.end();
    });
  }

  open(req: FastifyRequest, reply: FastifyReply, onClose: () => void): SseStream {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    this.open_.add(res);
    req.raw.on('close', () => {
      this.open_.delete(res);
      clearInterval(keepAlive);
      onClose();
    });
    return {
      send: (id, event, data) =>
        void res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    };
  }
}
