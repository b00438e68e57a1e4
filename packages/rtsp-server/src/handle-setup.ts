import { UnavailableError } from '@sie/errors';
import type { ConnectionState, Handler, Reply, RequestContext } from './context.js';
import { ingestFromClient } from './ingest.js';
import { Session } from './session.js';
import type { SessionRole } from './session.js';
import type { StreamPath } from './stream-path.js';
import type { TrackTransport } from './track-transport.js';
import { formatTransport, parseTransportHeader } from './transport.js';
import type { NumberPair, TransportSpec } from './transport.js';
import { bindUdpPair, closeUdpPair } from './udp.js';
import { resolveControlPath, splitTrackPath, unmapped } from './url.js';

interface SetupTarget {
  role: SessionRole;
  path: StreamPath;
  track: number;
}

/** The publisher's own track controls name its SETUP URLs. */
function announcedTrack(path: StreamPath, urlPath: string): number {
  const i = path.sdp.media.findIndex((m) => resolveControlPath(path.name, m.control) === urlPath);
  if (i >= 0) return i;
  return path.trackCount === 1 && urlPath === path.name ? 0 : -1;
}

function resolveTarget(ctx: RequestContext, spec: TransportSpec): SetupTarget | Reply {
  const { conn, target, registry } = ctx;
  const announced = conn.announced && !conn.announced.closed ? conn.announced : undefined;
  if (announced) {
    const track = announcedTrack(announced, target.path);
    if (track >= 0) return { role: 'record', path: announced, track };
  }
  if (spec.mode === 'record') return { status: announced ? 404 : 455 };

  const split = splitTrackPath(target.path);
  let path = split ? registry.paths.get(split.path) : undefined;
  let track = split?.track ?? -1;
  if (!path) {
    // SETUP on the stream URL itself: fine when there is only one track to mean.
    path = registry.paths.get(target.path);
    if (path && path.trackCount !== 1) return { status: 459 };
    track = 0;
  }
  if (!path || !path.ready || path.closed || track >= path.trackCount) return { status: 404 };
  return { role: 'play', path, track };
}

function freeChannelPair(conn: ConnectionState, wanted: NumberPair | undefined): NumberPair {
  const free = (c: number): boolean => !conn.channels.has(c);
  if (wanted && wanted.first !== wanted.second && free(wanted.first) && free(wanted.second)) {
    return wanted;
  }
  for (let c = 0; c < 255; c += 2) if (free(c) && free(c + 1)) return { first: c, second: c + 1 };
  throw new UnavailableError('no free interleaved channel pair');
}

function isAcceptable(spec: TransportSpec): boolean {
  return (
    !spec.multicast &&
    (spec.profile === 'RTP/AVP' || spec.profile === 'RTP/AVPF') &&
    (spec.lowerTransport === 'TCP' || spec.clientPort !== undefined)
  );
}

export const handleSetup: Handler = async (ctx) => {
  const { registry, conn, now } = ctx;
  const header = ctx.req.headers.get('transport');
  if (header === undefined) return { status: 400 };
  const spec = parseTransportHeader(header).find(isAcceptable);
  if (!spec) return { status: 461 };

  const resolved = resolveTarget(ctx, spec);
  if ('status' in resolved) return resolved;
  const { role, path, track } = resolved;

  let session = ctx.session;
  if (session) {
    if (session.role !== role || session.path !== path) return { status: 459, session };
    if (session.state !== 'setup' || session.tracks.has(track)) return { status: 455, session };
  } else {
    // More than a handful of sessions on one connection is abuse, not a use case.
    if (conn.sessions.size >= registry.options.maxSessionsPerConnection) return { status: 503 };
    if (role === 'record' && path.publisherSessionId !== undefined) return { status: 455 };
  }

  let transport: TrackTransport;
  const answer: TransportSpec = {
    profile: spec.profile,
    lowerTransport: spec.lowerTransport,
    multicast: false,
  };
  if (role === 'record') answer.mode = 'record';
  if (spec.lowerTransport === 'TCP') {
    const ch = freeChannelPair(conn, spec.interleaved);
    transport = { kind: 'tcp', rtpChannel: ch.first, rtcpChannel: ch.second };
    answer.interleaved = ch;
  } else {
    const client = spec.clientPort as NumberPair;
    const o = registry.options;
    // Filled once the session exists; packets arriving before that have nowhere to go.
    const bound: { session?: Session } = {};
    const pair = await bindUdpPair({
      type: conn.localAddress.includes(':') ? 'udp6' : 'udp4',
      address: conn.localAddress,
      receiveBufferBytes: o.udpReceiveBufferBytes,
      sendBufferBytes: o.udpSendBufferBytes,
      ...(o.udpPortRange ? { portRange: o.udpPortRange } : {}),
      onMessage: (which, msg, from) => {
        registry.counters.bytesReceived += msg.length;
        // Only the control connection's peer may feed this session (no third-party injection).
        const owner = bound.session;
        if (!owner || unmapped(from.address) !== conn.remoteAddress) return;
        ingestFromClient(registry, owner, track, which === 'rtcp', msg, Date.now());
      },
      onError: (err) => registry.logger.debug({ conn: conn.id, err: err.message }, 'udp error'),
    });
    // The world may have moved while binding: the client left, the path or session ended.
    if (conn.closed || path.closed || session?.state === 'closed') {
      closeUdpPair(pair);
      return { status: path.closed ? 404 : 454 };
    }
    // Packets always go to the control connection's peer: a `destination` naming another host
    // would turn the server into a traffic reflector.
    transport = {
      kind: 'udp',
      pair,
      address: conn.remoteAddress,
      rtpPort: client.first,
      rtcpPort: client.second,
    };
    answer.clientPort = client;
    answer.serverPort = { first: pair.rtpPort, second: pair.rtcpPort };
    session ??= createSession(ctx, role, path);
    bound.session = session;
  }
  session ??= createSession(ctx, role, path);
  session.tracks.set(track, transport);
  if (transport.kind === 'tcp') {
    conn.channels.set(transport.rtpChannel, { session, track, rtcp: false });
    conn.channels.set(transport.rtcpChannel, { session, track, rtcp: true });
  }
  session.lastActivity = now;
  registry.logger.debug(
    { session: session.id, path: path.name, role, track, transport: transport.kind },
    'track set up',
  );
  return { status: 200, session, headers: [['Transport', formatTransport(answer)]] };
};

function createSession(ctx: RequestContext, role: SessionRole, path: StreamPath): Session {
  const { registry, conn } = ctx;
  const s = new Session(registry.newSessionId(), role, path, conn, ctx.now);
  registry.sessions.set(s.id, s);
  conn.sessions.add(s);
  if (role === 'record') path.publisherSessionId = s.id;
  return s;
}
