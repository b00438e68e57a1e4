/** NAL unit types (ITU-T H.264 Table 7-1) the server looks at. */
export const H264_NAL = {
  slice: 1,
  idr: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  aud: 9,
} as const;

const STAP_A = 24;
const STAP_B = 25;
const MTAP16 = 26;
const MTAP24 = 27;
const FU_A = 28;
const FU_B = 29;

/**
 * Bit mask of the NAL unit types whose first byte is in this RTP payload (RFC 6184): bit `t` is
 * set when a type-`t` NAL starts here. Single NAL packets carry one, aggregation packets
 * (STAP-A/B, MTAP16/24) several, fragmentation units (FU-A/B) one in their start fragment only.
 * A bit mask rather than an array because this runs for every packet a publisher sends.
 */
export function h264NalStarts(payload: Uint8Array): number {
  if (payload.length < 1) return 0;
  const type = (payload[0] ?? 0) & 0x1f;
  if (type >= 1 && type <= 23) return 1 << type;
  switch (type) {
    case STAP_A:
      return aggregated(payload, 1, 0);
    case STAP_B:
      return aggregated(payload, 3, 0);
    case MTAP16:
      return aggregated(payload, 3, 3);
    case MTAP24:
      return aggregated(payload, 3, 4);
    case FU_A:
    case FU_B: {
      const fu = payload[1];
      if (fu === undefined || (fu & 0x80) === 0) return 0;
      const inner = fu & 0x1f;
      return inner >= 1 && inner <= 23 ? 1 << inner : 0;
    }
    default:
      return 0;
  }
}

/** Walks size-prefixed units from `offset`; `skip` bytes sit between a size and its NAL (MTAP). */
function aggregated(payload: Uint8Array, offset: number, skip: number): number {
  let mask = 0;
  let at = offset;
  while (at + 2 <= payload.length) {
    const size = ((payload[at] ?? 0) << 8) | (payload[at + 1] ?? 0);
    const nal = at + 2 + skip;
    if (size === 0 || nal >= payload.length || at + 2 + size > payload.length) break;
    const t = (payload[nal] ?? 0) & 0x1f;
    if (t >= 1 && t <= 23) mask |= 1 << t;
    at += 2 + size;
  }
  return mask;
}

export function startsIdr(mask: number): boolean {
  return (mask & (1 << H264_NAL.idr)) !== 0;
}

/** SPS, PPS, SEI or AUD: units an encoder puts right before an IDR picture's slices. */
export function startsIdrPrefix(mask: number): boolean {
  return (
    (mask &
      ((1 << H264_NAL.sps) | (1 << H264_NAL.pps) | (1 << H264_NAL.sei) | (1 << H264_NAL.aud))) !==
    0
  );
}

export function startsNonIdrSlice(mask: number): boolean {
  return (mask & (1 << H264_NAL.slice)) !== 0;
}

/** Where a reader that lost packets may resume cleanly: an SPS or an IDR slice starts here. */
export function isResumePoint(mask: number): boolean {
  return (mask & ((1 << H264_NAL.sps) | (1 << H264_NAL.idr))) !== 0;
}
