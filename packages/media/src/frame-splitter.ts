import { Writable } from 'node:stream';

/**
 * Called once per complete frame. The buffer is reused for the next frame: copy it (or write it
 * to the frame store) before returning.
 */
export type FrameHandler = (frame: Buffer, index: number) => void;

/**
 * A Writable that cuts a raw video byte stream into frames of exactly `frameBytes`, keeping
 * partial chunks until the frame completes. `pause()` takes effect between two frames, even in
 * the middle of a chunk: the write callback is held, so whoever pipes into it (ffmpeg's stdout)
 * stops reading and the producer blocks — backpressure without buffering frames.
 */
export class FrameSplitter extends Writable {
  private readonly frame: Buffer;
  private filled = 0;
  private emitted = 0;
  private paused = false;
  private pending: {
    chunk: Buffer;
    offset: number;
    callback: (err?: Error | null) => void;
  } | null = null;

  constructor(
    readonly frameBytes: number,
    private readonly onFrame: FrameHandler,
  ) {
    // A small high-water mark: frames are the unit of buffering here, not bytes in the stream.
    super({ highWaterMark: 64 * 1024, decodeStrings: true });
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new RangeError(`bad frame size ${frameBytes}`);
    }
    this.frame = Buffer.allocUnsafe(frameBytes);
  }

  /** Frames handed to the handler so far. */
  get framesEmitted(): number {
    return this.emitted;
  }

  /** Bytes of an incomplete frame currently held. */
  get partialBytes(): number {
    return this.filled;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const p = this.pending;
    if (p) {
      this.pending = null;
      this.consume(p.chunk, p.offset, p.callback);
    }
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ) {
    this.consume(chunk, 0, callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.pending = null;
    callback(err);
  }

  private consume(chunk: Buffer, start: number, callback: (err?: Error | null) => void): void {
    let offset = start;
    while (offset < chunk.length) {
      if (this.paused) {
        this.pending = { chunk, offset, callback };
        return;
      }
      const n = Math.min(chunk.length - offset, this.frameBytes - this.filled);
      chunk.copy(this.frame, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        this.filled = 0;
        try {
          this.onFrame(this.frame, this.emitted++);
        } catch (err) {
          callback(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (this.destroyed) return;
      }
    }
    callback();
  }
}
