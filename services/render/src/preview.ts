import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildJpegStreamArgv } from '@sie/media';
import type { Logger } from '@sie/telemetry';
import { FfmpegPipe } from './encoder.js';

const BOUNDARY = 'siepreviewframe';

export interface PreviewOptions {
  fps: number;
  quality: number;
  maxClients: number;
  killGraceMs: number;
}

/** Splits a stream of back-to-back JPEG images (SOI … EOI) into whole images. */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onImage: (jpeg: Buffer) => void,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const start = this.buf.indexOf(SOI);
      if (start < 0) {
        this.buf = Buffer.alloc(0);
        return;
      }
      // Entropy-coded data escapes 0xFF as FF 00, so FF D9 only ever ends the image.
      const end = this.buf.indexOf(EOI, start + 2);
      if (end < 0) {
        if (start > 0) this.buf = this.buf.subarray(start);
        if (this.buf.length > this.maxBytes) this.buf = Buffer.alloc(0);
        return;
      }
      this.onImage(Buffer.from(this.buf.subarray(start, end + 2)));
      this.buf = this.buf.subarray(end + 2);
    }
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * The browser preview of one run: while at least one browser watches, a JPEG encoder (ffmpeg
 * mjpeg) gets the run's output frames at `fps`, and every viewer receives each JPEG as a part of
 * a multipart/x-mixed-replace response. Nobody watching: no encoder, no cost. A viewer whose
 * socket is still busy skips frames instead of queueing them.
 */
export class RunPreview {
  private readonly clients = new Set<ServerResponse>();
  private encoder: FfmpegPipe | undefined;
  private encoderSize = '';
  private lastOfferAt = 0;
  private latestJpeg: Buffer | undefined;
  private readonly splitter = new JpegSplitter((jpeg) => this.broadcast(jpeg));

  constructor(
    readonly runId: string,
    private readonly options: PreviewOptions,
    private readonly logger: Logger,
    private readonly onClients: (delta: number) => void,
  ) {}

  get viewers(): number {
    return this.clients.size;
  }

  /** Adds a viewer; false when the run already has its maximum. */
  attach(res: ServerResponse): boolean {
    if (this.clients.size >= this.options.maxClients) return false;
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'Cache-Control': 'no-cache, no-store',
      Connection: 'close',
      Pragma: 'no-cache',
    });
    this.clients.add(res);
    this.onClients(1);
    res.once('close', () => {
      if (this.clients.delete(res)) this.onClients(-1);
      if (this.clients.size === 0) void this.stopEncoder();
    });
    if (this.latestJpeg) this.sendTo(res, this.latestJpeg);
    return true;
  }

  /** The latest JPEG, if a viewer made the preview encode any. */
  get lastImage(): Buffer | undefined {
    return this.latestJpeg;
  }

  /** Offers the run's current output frame (BGR24); taken at most `fps` times a second. */
  offer(frame: Buffer, width: number, height: number, now: number): void {
    if (this.clients.size === 0) return;
    if (now - this.lastOfferAt < 1000 / this.options.fps - 5) return;
    const size = `${width}x${height}`;
    if (!this.encoder?.running || this.encoderSize !== size) {
      void this.encoder?.stop();
      this.encoderSize = size;
      this.encoder = new FfmpegPipe({
        argv: buildJpegStreamArgv({
          width,
          height,
          fps: this.options.fps,
          quality: this.options.quality,
        }),
        killGraceMs: this.options.killGraceMs,
        onStdout: (chunk) => this.splitter.push(chunk),
      });
      const enc = this.encoder;
      void enc.exited.then((exit) => {
        if (this.encoder === enc && this.clients.size > 0) {
          this.logger.warn({ run: this.runId, ...exit }, 'preview encoder exited');
        }
      });
    }
    if (this.encoder.write(frame) === 'written') this.lastOfferAt = now;
  }

  async close(): Promise<void> {
    for (const res of this.clients) res.end();
    await this.stopEncoder();
  }

  private async stopEncoder(): Promise<void> {
    const enc = this.encoder;
    this.encoder = undefined;
    await enc?.stop();
  }

  private broadcast(jpeg: Buffer): void {
    this.latestJpeg = jpeg;
    for (const res of this.clients) this.sendTo(res, jpeg);
  }

  private sendTo(res: ServerResponse, jpeg: Buffer): void {
    // A viewer that has not taken the previous image yet skips this one.
    if (res.writableLength > 0 || res.destroyed) return;
    res.write(
      `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`,
    );
    res.write(jpeg);
    res.write('\r\n');
  }
}

/** The preview HTTP endpoint: `GET /runs/:id/preview.mjpeg` and a small HTML page per run. */
export class PreviewServer {
  private server: Server | undefined;

  constructor(
    private readonly lookup: (runId: string) => RunPreview | undefined,
    private readonly logger: Logger,
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    this.logger.info({ host, port: bound }, 'preview listening');
    return bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://preview');
    const m = /^\/runs\/([A-Za-z0-9_-]{1,128})\/(preview\.mjpeg|preview)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const runId = m[1] ?? '';
    const preview = this.lookup(runId);
    if (!preview) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no run ${runId} here\n`);
      return;
    }
    if (m[2] === 'preview') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>sie ${runId}</title>` +
          `<body style="margin:0;background:#111"><img style="max-width:100%" ` +
          `src="/runs/${runId}/preview.mjpeg" alt="${runId}"></body>\n`,
      );
      return;
    }
    if (!preview.attach(res)) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('too many viewers\n');
    }
  }
}
