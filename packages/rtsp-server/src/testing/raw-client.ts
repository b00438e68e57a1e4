import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { RtspMessageParser } from '../parser.js';
import type { InterleavedFrame, RtspPeerResponse } from '../parser.js';

/**
 * A bare RTSP client for tests: sends whatever bytes a test wants (well-formed or not) and
 * collects the server's responses and interleaved frames with the server's own framer.
 */
export class RawRtspClient {
  readonly responses: RtspPeerResponse[] = [];
  readonly frames: InterleavedFrame[] = [];
  /** Called for every interleaved frame as it arrives (frames are still collected). */
  onFrame: ((f: InterleavedFrame, at: number) => void) | undefined;
  private cseq = 0;
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  readonly closed: Promise<void>;
  private readonly parser = new RtspMessageParser({
    maxHeaderBytes: 1 << 20,
    maxBodyBytes: 1 << 20,
  });

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const now = Date.now();
      for (const m of this.parser.push(chunk)) {
        if (m.kind === 'response') this.responses.push(m);
        else if (m.kind === 'interleaved') {
          this.frames.push(m);
          this.onFrame?.(m, now);
        }
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawRtspClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => {
        s.off('error', reject);
        resolve(new RawRtspClient(s));
      });
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a request with the next CSeq and waits for its response. */
  async request(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<RtspPeerResponse> {
    const cseq = ++this.cseq;
    let text = `${method} ${url} RTSP/1.0\r\nCSeq: ${cseq}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    if (body !== undefined) text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    text += `\r\n${body ?? ''}`;
    const before = this.responses.length;
    this.write(text);
    await this.until(() => this.responses.length > before, 5000);
    return this.responses[before] as RtspPeerResponse;
  }

  /** The next response not yet returned by request() or an earlier call. */
  async nextResponse(index: number, timeoutMs = 5000): Promise<RtspPeerResponse> {
    await this.until(() => this.responses.length > index, timeoutMs);
    return this.responses[index] as RtspPeerResponse;
  }

  /** Resolves when `cond` holds, or throws after `timeoutMs` (closing counts as a wake-up). */
  async until(cond: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.closedFlag && !cond()) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the server to close the connection; false on timeout. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const r = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
