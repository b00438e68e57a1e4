import type { Handler } from './context.js';
import { parseSdp } from './sdp.js';
import { StreamPath } from './stream-path.js';

export const handleAnnounce: Handler = (ctx) => {
  const { registry, conn, req, target } = ctx;
  if (target.path === '') return { status: 400 };
  const type = req.headers.get('content-type');
  if (type !== undefined && !/^application\/sdp\s*(;|$)/i.test(type)) return { status: 415 };
  const text = req.body.toString('utf8');
  const sdp = parseSdp(text);
  if (!sdp) return { status: 400 };

  const existing = registry.paths.get(target.path);
  if (existing && !existing.closed && isTakeover(existing.generation, target.generation)) {
    // A run moved to another node: its new render (a newer generation) replaces the old one at
    // once; readers are disconnected and reconnect to the new stream. An older one never can.
    registry.logger.info(
      { conn: conn.id, path: target.path, from: existing.generation, to: target.generation },
      'path taken over by a newer publisher',
    );
    registry.closePath(existing, `taken over by generation ${String(target.generation)}`);
  } else if (existing && !existing.closed) {
    // The same connection may re-announce before SETUP (to change its SDP); nobody else may.
    if (existing.ownerConnectionId !== conn.id || existing.publisherSessionId !== undefined) {
      registry.logger.warn(
        { conn: conn.id, path: target.path, remote: conn.remoteAddress },
        'announce refused: path already has a publisher',
      );
      return { status: 455 };
    }
    registry.closePath(existing, 're-announced');
  }
  const prev = conn.announced;
  if (prev && !prev.closed) {
    if (prev.publisherSessionId !== undefined) return { status: 455 };
    registry.closePath(prev, 'replaced by another announce');
  }
  const path = new StreamPath(target.path, text, sdp, conn.id, conn.remoteAddress, {
    maxBytes: registry.options.gopCacheMaxBytes,
    maxPackets: registry.options.gopCacheMaxPackets,
  });
  path.generation = target.generation;
  registry.paths.set(path.name, path);
  conn.announced = path;
  registry.logger.info(
    { conn: conn.id, path: path.name, remote: conn.remoteAddress, tracks: path.trackInfo() },
    'path announced',
  );
  return { status: 200 };
};

export const handleRecord: Handler = (ctx) => {
  const { session, registry } = ctx;
  if (!session) return { status: 454 };
  if (session.role !== 'record' || session.tracks.size === 0) return { status: 455, session };
  if (session.state === 'setup') {
    session.state = 'recording';
    session.path.ready = true;
    registry.logger.info(
      { session: session.id, path: session.path.name, transport: session.transport },
      'publisher recording',
    );
  }
  return { status: 200, session };
};

/** Whether a publisher of generation `next` may take over a path published at `current`. */
export function isTakeover(current: number | undefined, next: number | undefined): boolean {
  return current !== undefined && next !== undefined && next > current;
}
