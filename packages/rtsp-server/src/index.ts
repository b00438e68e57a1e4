export { RtspServer } from './server.js';
export type {
  RtspPathInfo,
  RtspServerCounters,
  RtspServerOptions,
  RtspServerStats,
  RtspTrackInfo,
} from './types.js';
export { silentLogger } from './logger.js';
export type { RtspLogger } from './logger.js';
export { createJsonLineLogger } from './json-logger.js';
export type { LogLevel } from './json-logger.js';
export { runStandalone, standaloneConfigFromEnv } from './standalone.js';
export type { Standalone, StandaloneConfig } from './standalone.js';
export { registerRtspMetrics } from './metrics.js';
export type { RtspStatsSource } from './metrics.js';
export { RtspMessageParser } from './parser.js';
export type {
  InterleavedFrame,
  ParseFailure,
  ParserLimits,
  RtspMessage,
  RtspPeerResponse,
  RtspRequest,
} from './parser.js';
export { RtspHeaders } from './headers.js';
export { formatTransport, parseTransportHeader, parseTransportSpec } from './transport.js';
export type { NumberPair, TransportSpec } from './transport.js';
export { parseSdp, rewriteSdpForReaders } from './sdp.js';
export type { SdpMedia, SessionDescription } from './sdp.js';
export { h264NalStarts, startsIdr } from './h264.js';
export { parseRtpHeader } from './rtp.js';
export type { RtpHeader } from './rtp.js';
