import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { InvalidArgumentError } from '@sie/errors';
import { RtspConnection } from './connection.js';
import { silentLogger } from './logger.js';
import type { RtspLogger } from './logger.js';
import { Registry } from './registry.js';
import { serializeResponse } from './response.js';
import type { ResolvedOptions, RtspPathInfo, RtspServerOptions, RtspServerStats } from './types.js';

const MiB = 1024 * 1024;

function resolveOptions(o: RtspServerOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 8554,
    maxHeaderBytes: o.maxHeaderBytes ?? 16384,
    maxHeaderCount: o.maxHeaderCount ?? 64,
    maxBodyBytes: o.maxBodyBytes ?? 65536,
    requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    maxSessionsPerConnection: o.maxSessionsPerConnection ?? 16,
    maxReplyBacklogBytes: o.maxReplyBacklogBytes ?? 1 * MiB,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 60_000,
    maxConnections: o.maxConnections ?? 1024,
    maxReaderQueueBytes: o.maxReaderQueueBytes ?? 4 * MiB,
    maxReaderQueuePackets: o.maxReaderQueuePackets ?? 4096,
    stalledReaderTimeoutMs: o.stalledReaderTimeoutMs ?? 15_000,
    gopCacheMaxBytes: o.gopCacheMaxBytes ?? 4 * MiB,
    gopCacheMaxPackets: o.gopCacheMaxPackets ?? 8192,
    udpPortRange: o.udpPortRange,
    udpReceiveBufferBytes: o.udpReceiveBufferBytes ?? 4 * MiB,
    udpSendBufferBytes: o.udpSendBufferBytes ?? 1 * MiB,
  };
  const positive: Array<keyof ResolvedOptions> = [
    'maxHeaderBytes',
    'maxHeaderCount',
    'maxBodyBytes',
    'requestTimeoutMs',
    'maxSessionsPerConnection',
    'maxReplyBacklogBytes',
    'sessionTimeoutMs',
    'maxConnections',
    'maxReaderQueueBytes',
    'maxReaderQueuePackets',
    'stalledReaderTimeoutMs',
    'gopCacheMaxBytes',
    'gopCacheMaxPackets',
    'udpReceiveBufferBytes',
    'udpSendBufferBytes',
  ];
  for (const key of positive) {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new InvalidArgumentError(`${key} must be a positive integer`, key);
    }
  }
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) {
    throw new InvalidArgumentError('port must be an integer in 0..65535', 'port');
  }
  if (r.udpPortRange) {
    const [min, max] = r.udpPortRange;
    if (
      !Number.isInteger(min) ||
      !Number.isInteger(max) ||
      min < 1024 ||
      max > 65535 ||
      max - min < 1
    ) {
      throw new InvalidArgumentError(
        'udpPortRange must be [min, max] within 1024..65535',
        'udpPortRange',
      );
    }
  }
  return r;
}

/**
 * An RTSP 1.0 server (RFC 2326) that relays RTP from publishers (ANNOUNCE/RECORD) to readers
 * (DESCRIBE/PLAY), over TCP interleaved or UDP unicast, with a last-GOP cache for H.264 so
 * readers start on a keyframe.
 */
export class RtspServer {
  private readonly options: ResolvedOptions;
  private readonly logger: RtspLogger;
  private readonly registry: Registry;
  private readonly connections = new Map<number, RtspConnection>();
  private server: Server | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private nextConnectionId = 1;
  private boundPort: number | undefined;

  constructor(options: RtspServerOptions = {}) {
    this.options = resolveOptions(options);
    this.logger = options.logger ?? silentLogger;
    this.registry = new Registry(this.options, this.logger, {
      sessionEnded: (session, evicted) =>
        this.connections.get(session.control.id)?.sessionEnded(session, evicted),
    });
  }

  /** The port listened on, once started. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** True between start() and stop() while the listener accepts connections. */
  get listening(): boolean {
    return this.server?.listening === true;
  }

  /** Starts listening; resolves with the port (the ephemeral one when `port` was 0). */
  async start(): Promise<number> {
    if (this.server) throw new InvalidArgumentError('server already started', 'state');
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err: err.message }, 'rtsp listener error'));
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    const shortest = Math.min(this.options.sessionTimeoutMs, this.options.requestTimeoutMs);
    const every = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
    this.logger.info({ host: this.options.host, port: this.boundPort }, 'rtsp server listening');
    return this.boundPort;
  }

  /** Stops listening and closes every connection, session and UDP socket. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.connections.values()) c.destroy();
    await closed;
    // Sockets emit 'close' asynchronously; end whatever is still registered right away.
    for (const s of [...this.registry.sessions.values()]) {
      this.registry.endSession(s, 'server stopping', false);
    }
    for (const p of [...this.registry.paths.values()])
      this.registry.closePath(p, 'server stopping');
    this.logger.info({ port: this.boundPort }, 'rtsp server stopped');
  }

  /** Published paths with their reader counts. */
  paths(): RtspPathInfo[] {
    const out: RtspPathInfo[] = [];
    for (const p of this.registry.paths.values()) {
      const pub = p.publisherSessionId
        ? this.registry.sessions.get(p.publisherSessionId)
        : undefined;
      out.push({
        path: p.name,
        ready: p.ready,
        publisherAddress: p.publisherAddress,
        publisherTransport: pub?.transport ?? 'none',
        readers: p.readerCount,
        tracks: p.trackInfo(),
        bytesReceived: p.bytesReceived,
        packetsReceived: p.packetsReceived,
        readerPacketsDropped: p.readerPacketsDropped,
        cachedPackets: p.cachedPackets,
        since: p.since,
      });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Counters for metrics; the totals only grow, the gauges are current values. */
  stats(): RtspServerStats {
    let publishers = 0;
    let readers = 0;
    for (const s of this.registry.sessions.values()) {
      if (s.role === 'record') publishers++;
      else readers++;
    }
    return {
      ...this.registry.counters,
      connections: this.connections.size,
      sessions: this.registry.sessions.size,
      publishers,
      readers,
    };
  }

  private accept(socket: Socket): void {
    const counters = this.registry.counters;
    if (!this.server || this.connections.size >= this.options.maxConnections) {
      counters.connectionsRejected++;
      socket.on('error', () => {});
      socket.end(serializeResponse({ status: 503, headers: [['Connection', 'close']] }));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    counters.connectionsAccepted++;
    const id = this.nextConnectionId++;
    const conn = new RtspConnection(id, socket, this.registry, (c) => {
      this.connections.delete(c.id);
      this.logger.debug({ conn: c.id }, 'connection closed');
    });
    this.connections.set(id, conn);
    this.logger.debug({ conn: id, remote: conn.remoteAddress }, 'connection accepted');
  }

  private sweep(): void {
    const now = Date.now();
    this.registry.expireIdle(now);
    for (const c of this.connections.values()) {
      c.closeIfIdle(now, this.options.sessionTimeoutMs);
      c.closeIfRequestStalled(now, this.options.requestTimeoutMs);
    }
  }
}
