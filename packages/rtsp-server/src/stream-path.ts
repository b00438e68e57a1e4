import { GopCache } from './gop-cache.js';
import type { CachedPacket, GopCacheLimits } from './gop-cache.js';
import { h264NalStarts, startsIdr } from './h264.js';
import type { ReaderOutput } from './reader-output.js';
import { RTCP_SR, parseRtpHeader, rtcpPacketType } from './rtp.js';
import { isH264, mediaCodecs, rewriteSdpForReaders } from './sdp.js';
import type { SessionDescription } from './sdp.js';
import type { RtspTrackInfo } from './types.js';

interface TrackState {
  ssrc?: number;
  nextSeq?: number;
  lastTimestamp?: number;
  lastSenderReport?: Buffer;
}

/** Where a reader's RTP begins on one track, for the PLAY response's RTP-Info header. */
export interface RtpStart {
  track: number;
  seq: number;
  rtptime: number;
}

/**
 * One published stream: the publisher's SDP, its live readers and the last-GOP cache. Packets go
 * out unchanged (same SSRC, sequence numbers and timestamps) — a reader starts on the cached GOP
 * and continues with live packets that follow it without a gap, so nothing needs rewriting.
 */
export class StreamPath {
  readonly readerSdp: string;
  readonly keyframeTrack: number | undefined;
  readonly since = Date.now();
  /** The session that publishes; undefined between ANNOUNCE and SETUP. */
  publisherSessionId: string | undefined;
  ready = false;
  closed = false;
  /** The publisher's generation (`?sie_gen=`), when its URL said. */
  generation: number | undefined;
  bytesReceived = 0;
  packetsReceived = 0;
  /** Drops of readers that already left, so the path's total survives them. */
  private droppedByGoneReaders = 0;
  private seenIdr = false;
  private readonly readers = new Map<string, ReaderOutput>();
  private readonly tracks: TrackState[];
  private readonly gop: GopCache | undefined;

  constructor(
    readonly name: string,
    readonly sdpText: string,
    readonly sdp: SessionDescription,
    /** Id of the connection that announced it. */
    readonly ownerConnectionId: number,
    readonly publisherAddress: string,
    gopLimits: GopCacheLimits,
  ) {
    this.readerSdp = rewriteSdpForReaders(sdpText);
    const h264 = sdp.media.findIndex(isH264);
    this.keyframeTrack = h264 >= 0 ? h264 : undefined;
    this.gop = h264 >= 0 ? new GopCache(gopLimits) : undefined;
    this.tracks = sdp.media.map(() => ({}));
  }

  get trackCount(): number {
    return this.sdp.media.length;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  get readerPacketsDropped(): number {
    let n = this.droppedByGoneReaders;
    for (const r of this.readers.values()) n += r.packetsDropped;
    return n;
  }

  get cachedPackets(): number {
    return this.gop?.packetCount ?? 0;
  }

  trackInfo(): RtspTrackInfo[] {
    return this.sdp.media.map((m) => ({ type: m.type, codecs: mediaCodecs(m) }));
  }

  /** Takes one RTP packet from the publisher; false when it is not valid RTP. */
  ingestRtp(track: number, packet: Buffer): boolean {
    const state = this.tracks[track];
    const h = parseRtpHeader(packet);
    if (!state || !h) return false;
    this.bytesReceived += packet.length;
    this.packetsReceived++;
    state.ssrc = h.ssrc;
    state.nextSeq = (h.sequenceNumber + 1) & 0xffff;
    state.lastTimestamp = h.timestamp;
    let mask = 0;
    const keyTrack = track === this.keyframeTrack;
    if (keyTrack) {
      mask = h264NalStarts(packet.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength));
      if (startsIdr(mask)) this.seenIdr = true;
    }
    this.gop?.push(track, packet, keyTrack, mask, h.timestamp);
    for (const r of this.readers.values()) r.sendRtp(track, packet, mask);
    return true;
  }

  /** Takes one RTCP packet from the publisher and relays it (sender reports carry A/V sync). */
  ingestRtcp(track: number, packet: Buffer): boolean {
    const state = this.tracks[track];
    const type = rtcpPacketType(packet);
    if (!state || type === undefined) return false;
    this.bytesReceived += packet.length;
    this.packetsReceived++;
    if (type === RTCP_SR) state.lastSenderReport = packet;
    for (const r of this.readers.values()) r.sendRtcp(track, packet);
    return true;
  }

  /**
   * Where each track of a reader that starts now begins: the first cached packet of the track,
   * else the next live packet. Tracks that have not seen a packet yet are left out.
   */
  rtpStarts(cache: readonly CachedPacket[]): RtpStart[] {
    const out: RtpStart[] = [];
    this.tracks.forEach((state, track) => {
      const first = cache.find((c) => c.track === track);
      const h = first ? parseRtpHeader(first.packet) : undefined;
      if (h) out.push({ track, seq: h.sequenceNumber, rtptime: h.timestamp });
      else if (state.nextSeq !== undefined && state.lastTimestamp !== undefined) {
        out.push({ track, seq: state.nextSeq, rtptime: state.lastTimestamp });
      }
    });
    return out;
  }

  /** The cached GOP a reader starting now is sent first. */
  cacheSnapshot(): CachedPacket[] {
    return this.gop?.snapshot() ?? [];
  }

  /** Starts a reader: sender reports and the cached GOP first, then live packets. */
  addReader(sessionId: string, out: ReaderOutput, cache: CachedPacket[]): void {
    // With no cache but a stream known to have IDRs, video is held back until the next one.
    out.start(this.senderReports(), cache, this.seenIdr);
    this.readers.set(sessionId, out);
  }

  /** Restarts a paused reader on live packets, from the next keyframe. */
  resumeReader(out: ReaderOutput): void {
    out.start(this.senderReports(), [], this.seenIdr);
  }

  private senderReports(): Map<number, Buffer> {
    const srs = new Map<number, Buffer>();
    this.tracks.forEach((s, i) => {
      if (s.lastSenderReport) srs.set(i, s.lastSenderReport);
    });
    return srs;
  }

  removeReader(sessionId: string): void {
    const out = this.readers.get(sessionId);
    if (!out) return;
    out.stop();
    this.droppedByGoneReaders += out.packetsDropped;
    this.readers.delete(sessionId);
  }

  readerSessionIds(): string[] {
    return [...this.readers.keys()];
  }

  /** Last SSRC seen per track, for the RTCP BYE readers get when the publisher leaves. */
  ssrcs(): Map<number, number> {
    const m = new Map<number, number>();
    this.tracks.forEach((s, i) => {
      if (s.ssrc !== undefined) m.set(i, s.ssrc);
    });
    return m;
  }
}
