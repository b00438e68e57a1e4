import { trackControl } from './url.js';

export interface RtpMapEntry {
  encoding: string;
  clockRate: number;
  channels?: number;
}

/** One `m=` section of a session description. */
export interface SdpMedia {
  /** `video`, `audio`, `application`, … */
  type: string;
  protocol: string;
  formats: string[];
  control?: string;
  rtpmap: Map<number, RtpMapEntry>;
}

export interface SessionDescription {
  media: SdpMedia[];
  /** Session-level `a=control`, if any. */
  control?: string;
}

const MAX_MEDIA = 16;

/**
 * Parses the parts of an SDP (RFC 4566) the server needs: its media sections, their controls and
 * payload formats. Undefined when the text is not a usable session description (no `v=` line, no
 * media, or more media sections than the server will relay).
 */
export function parseSdp(text: string): SessionDescription | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (!lines.some((l) => /^v=\d+$/.test(l))) return undefined;
  const desc: SessionDescription = { media: [] };
  let cur: SdpMedia | undefined;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const parts = line.slice(2).split(/\s+/);
      const [type, , protocol, ...formats] = parts;
      if (type === undefined || protocol === undefined || formats.length === 0) return undefined;
      cur = { type, protocol, formats, rtpmap: new Map() };
      desc.media.push(cur);
      if (desc.media.length > MAX_MEDIA) return undefined;
    } else if (line.startsWith('a=control:')) {
      const value = line.slice('a=control:'.length).trim();
      if (cur) cur.control = value;
      else desc.control = value;
    } else if (line.startsWith('a=rtpmap:') && cur) {
      const m = /^a=rtpmap:(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(line);
      if (m) {
        const entry: RtpMapEntry = { encoding: m[2] ?? '', clockRate: Number(m[3]) };
        if (m[4] !== undefined) entry.channels = Number(m[4]);
        cur.rtpmap.set(Number(m[1]), entry);
      }
    }
  }
  return desc.media.length > 0 ? desc : undefined;
}

/** The codec names of a media section (`H264`, `MPEG4-GENERIC`, …), upper-cased. */
export function mediaCodecs(media: SdpMedia): string[] {
  const names = [...media.rtpmap.values()].map((e) => e.encoding.toUpperCase());
  return names.length > 0 ? names : media.formats.map((f) => `PT${f}`);
}

export function isH264(media: SdpMedia): boolean {
  return [...media.rtpmap.values()].some((e) => e.encoding.toUpperCase() === 'H264');
}

/**
 * The SDP handed to readers: the publisher's, with every `a=control` replaced by the server's own
 * (`*` for the session, `trackID=N` per media, relative to the Content-Base the server sends) so
 * a reader's SETUP URLs always resolve here, whatever names the publisher used. Connection lines
 * are neutralised: the publisher's address means nothing to a reader and a multicast address
 * there would lead some clients to try multicast.
 */
export function rewriteSdpForReaders(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const out: string[] = [];
  let mediaIndex = -1;
  // RFC 4566 puts a= lines last in each section, so a section's control goes at its end.
  const endSection = (): void => {
    out.push(`a=control:${mediaIndex < 0 ? '*' : trackControl(mediaIndex)}`);
  };
  for (const line of lines) {
    if (line.startsWith('a=control:')) continue;
    if (line.startsWith('m=')) {
      endSection();
      mediaIndex++;
      out.push(line);
    } else if (line.startsWith('c=')) {
      out.push(/\bIP6\b/.test(line) ? 'c=IN IP6 ::' : 'c=IN IP4 0.0.0.0');
    } else {
      out.push(line);
    }
  }
  endSection();
  return `${out.join('\r\n')}\r\n`;
}
