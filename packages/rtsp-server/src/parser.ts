import { RtspHeaders } from './headers.js';

export interface RtspRequest {
  kind: 'request';
  method: string;
  uri: string;
  /** e.g. `RTSP/1.0`; the parser accepts any `RTSP/d.d` so the server can answer 505 itself. */
  version: string;
  headers: RtspHeaders;
  body: Buffer;
}

/** A response sent by the peer (clients answer server-initiated requests); the server ignores it. */
export interface RtspPeerResponse {
  kind: 'response';
  version: string;
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Buffer;
}

/** A `$`-framed RTP/RTCP packet on the control connection (RFC 2326 §10.12). */
export interface InterleavedFrame {
  kind: 'interleaved';
  channel: number;
  payload: Buffer;
}

/**
 * The byte stream cannot be framed any further. The parser stops here: after a framing error the
 * next message boundary is unknown, so the only safe reaction is to answer once and close.
 */
export interface ParseFailure {
  kind: 'error';
  status: number;
  detail: string;
  /** The request's CSeq when the headers got that far, so the error reply can carry it. */
  cseq?: string;
}

export type RtspMessage = RtspRequest | RtspPeerResponse | InterleavedFrame | ParseFailure;

export interface ParserLimits {
  /** Request line plus headers, terminator included. */
  maxHeaderBytes: number;
  /** Header lines per message; unlimited when absent. */
  maxHeaderCount?: number;
  maxBodyBytes: number;
}

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

// RFC 2616 token characters: what a method name or a header name may consist of.
const TOKEN_CHARS = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CHARS[c.charCodeAt(0)] = 1;
}
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\uffff]+) (RTSP\/\d\.\d)$/;
const STATUS_LINE = /^(RTSP\/\d\.\d) (\d{3})(?: (.*))?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*(.*?)[ \t]*$/;

interface Step {
  msg?: RtspMessage;
  end: number;
}

interface Head {
  startLine: string;
  headers: RtspHeaders;
  bodyLength: number;
}

/**
 * Incremental RTSP/1.0 message framer: feed it socket chunks, get whole messages back. Requests,
 * peer responses and interleaved frames may be split across chunks or share one. Pure: it never
 * touches a socket, so every framing rule is unit-testable.
 */
export class RtspMessageParser {
  private buf: Buffer = EMPTY;
  /** Where the search for the end of the current head resumes (avoids rescanning). */
  private scanFrom = 0;
  private head: Head | undefined;
  private failed = false;

  constructor(private readonly limits: ParserLimits) {}

  /** True once a framing error was returned; later input is ignored. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** Bytes held while waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  /** True while part of a request or response (not an interleaved frame) waits for its rest. */
  get partialMessage(): boolean {
    if (this.failed) return false;
    if (this.head) return true;
    for (const b of this.buf) {
      if (b !== CR && b !== LF) return b !== DOLLAR;
    }
    return false;
  }

  push(chunk: Buffer): RtspMessage[] {
    if (this.failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: RtspMessage[] = [];
    let off = 0;
    for (;;) {
      const r = this.next(off);
      if (r === undefined) break;
      off = r.end;
      if (r.msg === undefined) continue;
      out.push(r.msg);
      if (r.msg.kind === 'error') {
        this.failed = true;
        this.buf = EMPTY;
        return out;
      }
    }
    if (off > 0) {
      this.scanFrom = Math.max(0, this.scanFrom - off);
      // Copy a small remainder so one pending byte does not pin a whole 64 KiB socket chunk.
      const rest = this.buf.subarray(off);
      this.buf = rest.length === 0 ? EMPTY : rest.length < 4096 ? Buffer.from(rest) : rest;
    }
    return out;
  }

  /** The next message from `start`; `msg` is absent when only bytes were consumed. */
  private next(start: number): Step | undefined {
    const buf = this.buf;
    if (this.head) return this.body(start, this.head);
    // Blank lines between messages are tolerated (RFC 2616 §4.1, which RTSP inherits).
    let at = start;
    while (at < buf.length && (buf[at] === CR || buf[at] === LF)) at++;
    if (at >= buf.length) return at > start ? { end: at } : undefined;
    if (buf[at] === DOLLAR) return this.interleaved(at);
    if (TOKEN_CHARS[buf[at] ?? 0] !== 1) {
      return this.fail(at, 400, 'message does not start with a method, a status line or $');
    }
    return this.parseHead(at);
  }

  private interleaved(at: number): Step | undefined {
    const buf = this.buf;
    if (buf.length - at < 4) return undefined;
    const channel = buf[at + 1] ?? 0;
    const len = buf.readUInt16BE(at + 2);
    if (buf.length - at - 4 < len) return undefined;
    return {
      msg: { kind: 'interleaved', channel, payload: buf.subarray(at + 4, at + 4 + len) },
      end: at + 4 + len,
    };
  }

  private parseHead(at: number): Step | undefined {
    const buf = this.buf;
    const { maxHeaderBytes } = this.limits;
    const headEnd = findHeadEnd(buf, at, Math.max(at, this.scanFrom));
    if (headEnd < 0) {
      // Judge the first line as soon as it is complete: garbage is refused at once instead of
      // after maxHeaderBytes of waiting.
      const firstLf = buf.indexOf(LF, at);
      if (firstLf >= 0) {
        const line = stripCr(buf.toString('utf8', at, firstLf));
        if (!REQUEST_LINE.test(line) && !STATUS_LINE.test(line)) {
          return this.fail(at, 400, 'malformed request line');
        }
      }
      if (buf.length - at > maxHeaderBytes) {
        return this.fail(at, 400, `headers exceed ${maxHeaderBytes} bytes`);
      }
      this.scanFrom = Math.max(at, buf.length - 3);
      return undefined;
    }
    this.scanFrom = 0;
    if (headEnd - at > maxHeaderBytes) {
      return this.fail(at, 400, `headers exceed ${maxHeaderBytes} bytes`);
    }
    const lines = buf.toString('utf8', at, headEnd).split('\n').map(stripCr);
    // The split leaves the terminating empty line(s) at the end.
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const startLine = lines[0] ?? '';
    if (!REQUEST_LINE.test(startLine) && !STATUS_LINE.test(startLine)) {
      return this.fail(headEnd, 400, 'malformed request line');
    }
    const maxCount = this.limits.maxHeaderCount;
    if (maxCount !== undefined && lines.length - 1 > maxCount) {
      return this.fail(headEnd, 400, `more than ${maxCount} header lines`);
    }
    const headers = new RtspHeaders();
    let lastName: string | undefined;
    let lastValue = '';
    for (const line of lines.slice(1)) {
      if (line.startsWith(' ') || line.startsWith('\t')) {
        // Obsolete line folding: the continuation belongs to the previous header's value.
        if (lastName === undefined) return this.fail(headEnd, 400, 'continuation before a header');
        lastValue = `${lastValue} ${line.trim()}`;
        continue;
      }
      if (lastName !== undefined) headers.add(lastName, lastValue);
      const m = HEADER_LINE.exec(line);
      if (!m) return this.fail(headEnd, 400, 'malformed header line', headers);
      lastName = m[1] ?? '';
      lastValue = m[2] ?? '';
    }
    if (lastName !== undefined) headers.add(lastName, lastValue);

    const lengths = headers.getAll('content-length');
    let bodyLength = 0;
    if (lengths.length > 0) {
      const first = lengths[0] ?? '';
      if (!/^\d{1,10}$/.test(first) || lengths.some((l) => l !== first)) {
        return this.fail(headEnd, 400, 'invalid Content-Length', headers);
      }
      bodyLength = Number(first);
      if (bodyLength > this.limits.maxBodyBytes) {
        return this.fail(headEnd, 413, `body of ${bodyLength} bytes is too large`, headers);
      }
    }
    const head: Head = { startLine, headers, bodyLength };
    this.head = head;
    // The head is consumed; the body (possibly empty) is picked up by the next step.
    return this.body(headEnd, head) ?? { end: headEnd };
  }

  private body(start: number, head: Head): Step | undefined {
    if (this.buf.length - start < head.bodyLength) return undefined;
    this.head = undefined;
    const end = start + head.bodyLength;
    // A copy: a body outlives the socket chunk (an SDP is kept for the publisher's lifetime).
    const body = head.bodyLength === 0 ? EMPTY : Buffer.from(this.buf.subarray(start, end));
    const req = REQUEST_LINE.exec(head.startLine);
    if (req) {
      return {
        msg: {
          kind: 'request',
          method: req[1] ?? '',
          uri: req[2] ?? '',
          version: req[3] ?? '',
          headers: head.headers,
          body,
        },
        end,
      };
    }
    const res = STATUS_LINE.exec(head.startLine);
    return {
      msg: {
        kind: 'response',
        version: res?.[1] ?? '',
        status: Number(res?.[2] ?? 0),
        reason: res?.[3] ?? '',
        headers: head.headers,
        body,
      },
      end,
    };
  }

  private fail(end: number, status: number, detail: string, headers?: RtspHeaders): Step {
    const cseq = headers?.get('cseq');
    const msg: ParseFailure = { kind: 'error', status, detail };
    if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) msg.cseq = cseq;
    return { msg, end };
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Index just past the empty line that ends a head starting at `start`, or -1. Accepts CRLF and
 * bare LF line ends (some embedded clients send the latter). `from` skips bytes already scanned.
 */
export function findHeadEnd(buf: Buffer, start: number, from: number): number {
  let i = buf.indexOf(LF, Math.max(start, from));
  while (i >= 0) {
    const a = buf[i + 1];
    if (a === LF) return i + 2;
    if (a === CR && buf[i + 2] === LF) return i + 3;
    if (a === undefined || (a === CR && i + 2 >= buf.length)) return -1;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}
