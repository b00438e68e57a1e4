import type { CachedPacket } from './gop-cache.js';
import { isResumePoint } from './h264.js';
import { buildRtcpBye } from './rtp.js';
import type { TrackTransport } from './track-transport.js';
import type { ControlChannel, RtspServerCounters } from './types.js';

export interface ReaderOutputLimits {
  maxQueueBytes: number;
  maxQueuePackets: number;
  stalledTimeoutMs: number;
}

interface Pending {
  transport: Extract<TrackTransport, { kind: 'udp' }>;
  packet: Buffer;
  rtcp: boolean;
}

/** UDP packets sent per timer tick while a backlog (the GOP burst) drains. */
const UDP_BATCH = 16;
/** A reader that lost packets waits at most this long for a keyframe before getting video again. */
const MAX_KEYFRAME_WAIT_MS = 5000;

/**
 * Delivers one reader's packets. It never blocks the publisher: over TCP it writes while the
 * socket's unsent queue is under the limit and drops beyond it; over UDP it paces bursts (the
 * cached GOP) so the reader's socket buffer does not overflow, and drops when its backlog is full.
 * After a drop on the keyframe track it withholds that track until the next SPS/IDR so the reader
 * resumes on a clean picture instead of decoding garbage.
 */
export class ReaderOutput {
  packetsSent = 0;
  packetsDropped = 0;
  private waitKeyframe = false;
  private waitSince = 0;
  private overSince = 0;
  private backlog: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly tracks: ReadonlyMap<number, TrackTransport>,
    private readonly keyframeTrack: number | undefined,
    private readonly control: ControlChannel,
    private readonly limits: ReaderOutputLimits,
    private readonly counters: RtspServerCounters,
    /** Called once when the reader stayed over its queue limit for stalledTimeoutMs. */
    private readonly onStalled: () => void,
  ) {}

  /**
   * Begins delivery: the last RTCP sender reports (so the reader can map timestamps at once),
   * then the cached GOP; with no cache and `waitForKeyframe`, video starts at the next keyframe.
   */
  start(
    senderReports: ReadonlyMap<number, Buffer>,
    cache: CachedPacket[],
    waitForKeyframe: boolean,
  ) {
    this.stopped = false;
    for (const [track, sr] of senderReports) this.send(track, sr, true, true);
    for (const c of cache) this.send(c.track, c.packet, false, true);
    if (cache.length === 0 && waitForKeyframe && this.keyframeTrack !== undefined) {
      this.gate(Date.now());
    }
  }

  /** Stops delivery (PAUSE or end); queued UDP packets are discarded. */
  stop(): void {
    this.stopped = true;
    this.backlog = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  sendRtp(track: number, packet: Buffer, nalMask: number): void {
    if (this.stopped) return;
    if (this.waitKeyframe && track === this.keyframeTrack) {
      const now = Date.now();
      if (!isResumePoint(nalMask) && now - this.waitSince < MAX_KEYFRAME_WAIT_MS) {
        // Withheld because of an earlier drop: still a packet this reader lost.
        this.drop(track);
        return;
      }
      this.waitKeyframe = false;
    }
    this.send(track, packet, false, false);
  }

  sendRtcp(track: number, packet: Buffer): void {
    if (!this.stopped) this.send(track, packet, true, false);
  }

  /** RTCP BYE on every track: RFC 3550's way of saying the stream is over. */
  sendBye(ssrcs: ReadonlyMap<number, number>): void {
    this.stop();
    for (const [track, t] of this.tracks) {
      const bye = buildRtcpBye(ssrcs.get(track) ?? 0);
      if (t.kind === 'tcp') {
        this.control.writeInterleaved(t.rtcpChannel, bye);
        this.sent();
      } else {
        this.udpSend({ transport: t, packet: bye, rtcp: true });
      }
    }
  }

  private gate(now: number): void {
    this.waitKeyframe = true;
    this.waitSince = now;
  }

  private send(track: number, packet: Buffer, rtcp: boolean, force: boolean): void {
    const t = this.tracks.get(track);
    if (!t) return;
    if (t.kind === 'tcp') {
      if (!force && !this.tcpHasRoom()) {
        this.drop(track);
        return;
      }
      this.control.writeInterleaved(rtcp ? t.rtcpChannel : t.rtpChannel, packet);
      this.sent();
      return;
    }
    if (this.backlog.length === 0 && !force && t.pair.rtp.getSendQueueCount() === 0) {
      this.udpSend({ transport: t, packet, rtcp });
      return;
    }
    if (!force && this.backlog.length >= this.limits.maxQueuePackets) {
      this.drop(track);
      return;
    }
    this.backlog.push({ transport: t, packet, rtcp });
    this.schedule();
  }

  private tcpHasRoom(): boolean {
    if (this.control.writableLength <= this.limits.maxQueueBytes) {
      this.overSince = 0;
      return true;
    }
    const now = Date.now();
    if (this.overSince === 0) this.overSince = now;
    else if (now - this.overSince > this.limits.stalledTimeoutMs) {
      this.overSince = 0;
      this.counters.stalledReaders++;
      this.onStalled();
    }
    return false;
  }

  private drop(track: number): void {
    this.packetsDropped++;
    this.counters.packetsDropped++;
    if (track === this.keyframeTrack && !this.waitKeyframe) this.gate(Date.now());
    // Keeps the stall clock running while packets are withheld rather than offered.
    if (this.tracks.get(track)?.kind === 'tcp') this.tcpHasRoom();
  }

  /** TCP bytes are counted by the connection; only UDP bytes are counted here. */
  private sent(udpBytes = 0): void {
    this.packetsSent++;
    this.counters.packetsSent++;
    this.counters.bytesSent += udpBytes;
  }

  private udpSend(p: Pending): void {
    const t = p.transport;
    const sock = p.rtcp ? t.pair.rtcp : t.pair.rtp;
    try {
      sock.send(p.packet, p.rtcp ? t.rtcpPort : t.rtpPort, t.address);
      this.sent(p.packet.length);
    } catch {
      // The socket closed under us (session ending): nothing left to deliver to.
    }
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const batch = this.backlog.splice(0, UDP_BATCH);
      for (const p of batch) this.udpSend(p);
      if (this.backlog.length > 0) this.schedule();
    }, 1);
  }
}
