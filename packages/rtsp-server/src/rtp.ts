/** The fixed part of an RTP header (RFC 3550 §5.1) and where the payload lies. */
export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payloadOffset: number;
  /** Payload bytes, padding excluded. */
  payloadLength: number;
}

/** Undefined for anything that is not a well-formed RTP version 2 packet. */
export function parseRtpHeader(packet: Uint8Array): RtpHeader | undefined {
  if (packet.length < 12) return undefined;
  const b0 = packet[0] ?? 0;
  if (b0 >> 6 !== 2) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  let offset = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    // Header extension: 16-bit profile, 16-bit length in 32-bit words.
    if (packet.length < offset + 4) return undefined;
    offset += 4 + view.getUint16(offset + 2) * 4;
  }
  let end = packet.length;
  if (b0 & 0x20) {
    const pad = packet[packet.length - 1] ?? 0;
    end -= pad;
  }
  if (end < offset) return undefined;
  const b1 = packet[1] ?? 0;
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payloadOffset: offset,
    payloadLength: end - offset,
  };
}

export const RTCP_SR = 200;
export const RTCP_BYE = 203;

/** Packet type of the first RTCP packet of a compound packet, or undefined if not RTCP. */
export function rtcpPacketType(packet: Uint8Array): number | undefined {
  if (packet.length < 8 || (packet[0] ?? 0) >> 6 !== 2) return undefined;
  const pt = packet[1] ?? 0;
  return pt >= 192 && pt <= 223 ? pt : undefined;
}

/** An RTCP BYE (RFC 3550 §6.6) for `ssrc`: tells a reader the stream ended. */
export function buildRtcpBye(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x81; // V=2, one source
  b[1] = RTCP_BYE;
  b.writeUInt16BE(1, 2); // length in 32-bit words minus one
  b.writeUInt32BE(ssrc >>> 0, 4);
  return b;
}
