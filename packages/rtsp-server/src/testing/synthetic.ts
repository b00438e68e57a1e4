/** Builders of synthetic H.264-over-RTP packets, so server behaviour is testable without ffmpeg. */

export const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8]);
export const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);

export function h264Sdp(control = 'streamid=0'): string {
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=synthetic',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 packetization-mode=1',
    `a=control:${control}`,
    '',
  ].join('\r\n');
}

export interface RtpFields {
  seq: number;
  timestamp: number;
  ssrc?: number;
  payloadType?: number;
  marker?: boolean;
}

export function rtpPacket(f: RtpFields, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = ((f.marker ? 1 : 0) << 7) | (f.payloadType ?? 96);
  h.writeUInt16BE(f.seq & 0xffff, 2);
  h.writeUInt32BE(f.timestamp >>> 0, 4);
  h.writeUInt32BE((f.ssrc ?? 0x1234abcd) >>> 0, 8);
  return Buffer.concat([h, payload]);
}

/** A single NAL unit packet: the NAL itself (header byte + `size` filler bytes). */
export function singleNal(type: number, size = 20): Buffer {
  const b = Buffer.alloc(1 + size, 0xab);
  b[0] = 0x60 | type;
  return b;
}

export function stapA(nals: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x78])];
  for (const n of nals) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(n.length);
    parts.push(len, n);
  }
  return Buffer.concat(parts);
}

export function fuA(type: number, start: boolean, end: boolean, size = 1000): Buffer {
  const b = Buffer.alloc(2 + size, 0xcd);
  b[0] = 0x60 | 28;
  b[1] = (start ? 0x80 : 0) | (end ? 0x40 : 0) | type;
  return b;
}

/**
 * A stream of `frames` pictures with an IDR every `gop` frames; each picture is one RTP
 * timestamp. IDRs are preceded by a STAP-A with SPS+PPS and fragmented in 3 FU-As; other
 * pictures are single NAL packets.
 */
export class SyntheticStream {
  seq = 1000;
  timestamp = 90_000;
  frame = 0;

  constructor(readonly gop = 10) {}

  /** Packets of the next picture; `idr` tells whether it is a keyframe. */
  nextPicture(): { idr: boolean; packets: Buffer[] } {
    const idr = this.frame % this.gop === 0;
    const ts = this.timestamp;
    const pk = (payload: Buffer, marker = false): Buffer =>
      rtpPacket({ seq: this.seq++, timestamp: ts, marker }, payload);
    const packets = idr
      ? [
          pk(stapA([SPS, PPS])),
          pk(fuA(5, true, false)),
          pk(fuA(5, false, false)),
          pk(fuA(5, false, true), true),
        ]
      : [pk(singleNal(1, 200), true)];
    this.frame++;
    this.timestamp += 9000;
    return { idr, packets };
  }
}

/** `$`-framed packet for an interleaved channel. */
export function interleaved(channel: number, packet: Buffer): Buffer {
  const h = Buffer.from([0x24, channel, 0, 0]);
  h.writeUInt16BE(packet.length, 2);
  return Buffer.concat([h, packet]);
}
