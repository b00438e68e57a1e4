import type { UdpPair } from './udp.js';

/** How one track of a session travels: over the control connection, or over a UDP pair. */
export type TrackTransport =
  | { kind: 'tcp'; rtpChannel: number; rtcpChannel: number }
  | { kind: 'udp'; pair: UdpPair; address: string; rtpPort: number; rtcpPort: number };
