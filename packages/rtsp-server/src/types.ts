import type { RtspLogger } from './logger.js';

/** Constructor options of RtspServer; every field has a production default. */
export interface RtspServerOptions {
  /** Interface to listen on; default 127.0.0.1 (use 0.0.0.0 to accept remote peers). */
  host?: string;
  /** TCP port; 0 picks an ephemeral one (start() returns it). Default 8554. */
  port?: number;
  logger?: RtspLogger;
  /** Largest request line plus headers; beyond it the request is refused and the connection closed. */
  maxHeaderBytes?: number;
  /** Most header lines in one request; more are refused (400) and the connection closed. Default 64. */
  maxHeaderCount?: number;
  /** Largest request body (an SDP); default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * A request whose head or body has started to arrive but is not complete this long after is
   * answered 408 and its connection closed (slowloris: a byte now and then keeps a connection
   * busy but never finishes a request). Default 10 s.
   */
  requestTimeoutMs?: number;
  /** Sessions one control connection may set up; SETUP beyond it is answered 503. Default 16. */
  maxSessionsPerConnection?: number;
  /**
   * Bytes written to a connection and not yet taken by its peer beyond which the server stops
   * reading that connection's requests until the peer catches up: a client that pipelines
   * requests without reading the answers cannot make the server buffer them without bound.
   * Default 1 MiB.
   */
  maxReplyBacklogBytes?: number;
  /** A session (and a connection without one) with no activity for this long is closed. */
  sessionTimeoutMs?: number;
  /** Connections beyond this are answered 503 and closed. Default 1024. */
  maxConnections?: number;
  /** TCP reader: bytes queued unsent before packets are dropped for it. Default 4 MiB. */
  maxReaderQueueBytes?: number;
  /** UDP reader: packets waiting to be sent before packets are dropped for it. Default 4096. */
  maxReaderQueuePackets?: number;
  /** A reader that stays over its queue limit this long is disconnected. Default 15 s. */
  stalledReaderTimeoutMs?: number;
  /** Limits of the last-GOP cache per path; a longer GOP is not cached. */
  gopCacheMaxBytes?: number;
  gopCacheMaxPackets?: number;
  /** Inclusive UDP port range for RTP/RTCP pairs; default: kernel-chosen ephemeral ports. */
  udpPortRange?: readonly [number, number];
  /** SO_RCVBUF for UDP sockets (capped by net.core.rmem_max). Default 4 MiB. */
  udpReceiveBufferBytes?: number;
  udpSendBufferBytes?: number;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  maxHeaderBytes: number;
  maxHeaderCount: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  maxSessionsPerConnection: number;
  maxReplyBacklogBytes: number;
  sessionTimeoutMs: number;
  maxConnections: number;
  maxReaderQueueBytes: number;
  maxReaderQueuePackets: number;
  stalledReaderTimeoutMs: number;
  gopCacheMaxBytes: number;
  gopCacheMaxPackets: number;
  udpPortRange: readonly [number, number] | undefined;
  udpReceiveBufferBytes: number;
  udpSendBufferBytes: number;
}

/** Server-wide counters, exposed by RtspServer.stats() for metrics. */
export interface RtspServerCounters {
  connectionsAccepted: number;
  connectionsRejected: number;
  requests: number;
  /** Requests answered 4xx/5xx and framing errors. */
  badRequests: number;
  /** Bytes read from TCP connections and UDP sockets. */
  bytesReceived: number;
  /** Bytes written to TCP connections and UDP sockets. */
  bytesSent: number;
  rtpPacketsReceived: number;
  rtcpPacketsReceived: number;
  /** Packets from publishers that were not valid RTP and were discarded. */
  invalidPackets: number;
  /** RTP/RTCP packets sent to readers. */
  packetsSent: number;
  /**
   * Packets a slow reader did not get: its queue was full, or they were withheld after such a
   * drop until the next keyframe (so it resumes on a clean picture).
   */
  packetsDropped: number;
  sessionTimeouts: number;
  stalledReaders: number;
  /** Connections closed because a request did not complete within requestTimeoutMs. */
  requestTimeouts: number;
}

export interface RtspServerStats extends RtspServerCounters {
  connections: number;
  sessions: number;
  publishers: number;
  readers: number;
}

export interface RtspTrackInfo {
  /** SDP media type: video, audio, … */
  type: string;
  codecs: string[];
}

/** One published path, as RtspServer.paths() lists it. */
export interface RtspPathInfo {
  path: string;
  /** True once the publisher sent RECORD; readers can only DESCRIBE a ready path. */
  ready: boolean;
  publisherAddress: string;
  publisherTransport: 'tcp' | 'udp' | 'none';
  readers: number;
  tracks: RtspTrackInfo[];
  bytesReceived: number;
  packetsReceived: number;
  /** Packets dropped for this path's slow readers, all readers together. */
  readerPacketsDropped: number;
  /** Packets currently held by the last-GOP cache. */
  cachedPackets: number;
  /** When the path was announced (epoch ms). */
  since: number;
}

/** What a session needs from the control connection that owns it. */
export interface ControlChannel {
  readonly id: number;
  /** Peer address, IPv4-mapped IPv6 unwrapped. */
  readonly remoteAddress: string;
  /** Bytes written to the socket and not yet handed to the kernel. */
  readonly writableLength: number;
  /** Writes one `$`-framed packet (RFC 2326 §10.12). */
  writeInterleaved(channel: number, packet: Buffer): void;
}
