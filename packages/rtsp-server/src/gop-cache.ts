import { startsIdr, startsIdrPrefix, startsNonIdrSlice } from './h264.js';

export interface CachedPacket {
  track: number;
  packet: Buffer;
  /** H.264 NAL start mask for packets of the keyframe track; 0 otherwise. */
  nalMask: number;
}

export interface GopCacheLimits {
  maxPackets: number;
  maxBytes: number;
}

/**
 * The packets of every track since the latest H.264 IDR picture began, so a reader that joins
 * mid-stream is sent a decodable picture at once instead of waiting for the next keyframe.
 *
 * A GOP starts at the packet carrying the start of the first IDR slice of a new timestamp, or
 * earlier at the SPS/PPS/SEI/AUD packets directly in front of it (in-band parameter sets must
 * reach the decoder before the slice). A GOP longer than the limits is abandoned until the next
 * IDR: readers then join live and wait for that keyframe.
 */
export class GopCache {
  private entries: CachedPacket[] = [];
  private bytes = 0;
  private started = false;
  private gopTimestamp = -1;
  /** Index of the first prefix packet that may open the next GOP; -1 when none pending. */
  private candidate = -1;

  constructor(private readonly limits: GopCacheLimits) {}

  /** Records a packet; `timestamp` and `nalMask` matter only on the keyframe track. */
  push(track: number, packet: Buffer, keyframeTrack: boolean, nalMask: number, timestamp: number) {
    if (keyframeTrack) {
      if (startsIdr(nalMask) && (!this.started || timestamp !== this.gopTimestamp)) {
        const from = this.candidate >= 0 ? this.candidate : this.entries.length;
        this.dropBefore(from);
        this.started = true;
        this.gopTimestamp = timestamp;
        this.candidate = -1;
      } else if (startsNonIdrSlice(nalMask)) {
        this.candidate = -1;
      } else if (startsIdrPrefix(nalMask) && this.candidate < 0) {
        this.candidate = this.entries.length;
      }
    }
    if (!this.started && this.candidate < 0) return;
    this.entries.push({ track, packet, nalMask });
    this.bytes += packet.length;
    if (this.entries.length > this.limits.maxPackets || this.bytes > this.limits.maxBytes) {
      this.clear();
    }
  }

  /** The cached packets, oldest first; empty while no complete GOP start is held. */
  snapshot(): CachedPacket[] {
    return this.started ? this.entries.slice() : [];
  }

  get packetCount(): number {
    return this.started ? this.entries.length : 0;
  }

  get byteCount(): number {
    return this.started ? this.bytes : 0;
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
    this.started = false;
    this.candidate = -1;
    this.gopTimestamp = -1;
  }

  private dropBefore(index: number): void {
    if (index <= 0) return;
    for (let i = 0; i < index; i++) this.bytes -= this.entries[i]?.packet.length ?? 0;
    this.entries = this.entries.slice(index);
  }
}
