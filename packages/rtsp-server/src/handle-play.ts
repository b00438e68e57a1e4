import { contentBase } from './context.js';
import type { Handler } from './context.js';
import { ReaderOutput } from './reader-output.js';
import { trackControl } from './url.js';

export const handleDescribe: Handler = (ctx) => {
  const path = ctx.registry.paths.get(ctx.target.path);
  if (!path || !path.ready || path.closed) return { status: 404 };
  return {
    status: 200,
    headers: [
      ['Content-Type', 'application/sdp'],
      ['Content-Base', contentBase(ctx, path.name)],
    ],
    body: path.readerSdp,
  };
};

export const handlePlay: Handler = (ctx) => {
  const { session: s, registry } = ctx;
  if (!s) return { status: 454 };
  if (s.role !== 'play' || s.tracks.size === 0) return { status: 455, session: s };
  const range: [string, string] = ['Range', 'npt=0.000-'];
  // A PLAY while playing is a keep-alive some clients send; delivery goes on untouched.
  if (s.state === 'playing') return { status: 200, session: s, headers: [range] };

  const path = s.path;
  const resuming = s.state === 'paused';
  // After a PAUSE the reader continues live: replaying the cache would send old sequence numbers.
  const cache = resuming ? [] : path.cacheSnapshot().filter((c) => s.tracks.has(c.track));
  const base = contentBase(ctx, path.name);
  const rtpInfo = path
    .rtpStarts(cache)
    .filter((st) => s.tracks.has(st.track))
    .map((st) => `url=${base}${trackControl(st.track)};seq=${st.seq};rtptime=${st.rtptime}`)
    .join(',');
  const headers: Array<[string, string]> = [range];
  if (rtpInfo !== '') headers.push(['RTP-Info', rtpInfo]);
  return {
    status: 200,
    session: s,
    headers,
    after: () => {
      if (s.state === 'closed' || path.closed) return;
      s.state = 'playing';
      if (resuming && s.output) {
        path.resumeReader(s.output);
        return;
      }
      const o = registry.options;
      const kt = path.keyframeTrack;
      s.output = new ReaderOutput(
        s.tracks,
        kt !== undefined && s.tracks.has(kt) ? kt : undefined,
        s.control,
        {
          maxQueueBytes: o.maxReaderQueueBytes,
          maxQueuePackets: o.maxReaderQueuePackets,
          stalledTimeoutMs: o.stalledReaderTimeoutMs,
        },
        registry.counters,
        () => registry.endSession(s, 'reader stalled', true),
      );
      path.addReader(s.id, s.output, cache);
      registry.logger.info(
        { session: s.id, path: path.name, transport: s.transport, cached: cache.length },
        'reader playing',
      );
    },
  };
};

export const handlePause: Handler = (ctx) => {
  const s = ctx.session;
  if (!s) return { status: 454 };
  if (s.role !== 'play') return { status: 455, session: s };
  if (s.state === 'playing') {
    s.output?.stop();
    s.state = 'paused';
  }
  return { status: 200, session: s };
};
