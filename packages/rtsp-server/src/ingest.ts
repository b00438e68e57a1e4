import type { Registry } from './registry.js';
import type { Session } from './session.js';

/**
 * One RTP or RTCP packet a client sent for track `track` of `session`, over TCP interleaved or
 * UDP. Any packet counts as activity (UDP clients keep their session alive this way); only a
 * recording publisher's packets are relayed — a reader's receiver reports stop here, because
 * several readers' reports would contradict each other at the publisher.
 */
export function ingestFromClient(
  registry: Registry,
  session: Session,
  track: number,
  rtcp: boolean,
  packet: Buffer,
  now: number,
): void {
  session.lastActivity = now;
  const c = registry.counters;
  if (rtcp) c.rtcpPacketsReceived++;
  if (session.role !== 'record' || session.state !== 'recording') return;
  if (!rtcp) c.rtpPacketsReceived++;
  const ok = rtcp ? session.path.ingestRtcp(track, packet) : session.path.ingestRtp(track, packet);
  if (!ok) c.invalidPackets++;
}
