/**
 * Render's output clock. The encoder stamps each frame with the wall-clock time it reads it
 * (variable frame rate), so a frame goes out as soon as its overlay is ready — a fixed-rate grid
 * made a frame that came just before the grid allowed the next tick wait for the tick after,
 * up to a whole period (the tail of capture→encoder latency). Three rules keep the output sane:
 * new frames at the nominal rate on average (a token bucket: a source that runs faster, a file
 * read as fast as inference goes, is thinned, latest frame wins), never closer than half a
 * period, and a repeat of the last frame when none came for a while, so a viewer never starves.
 */

/** The closest two frames may follow each other, as a fraction of the nominal period. */
export const MIN_SPACING = 0.5;
/**
 * How long after the last frame a repeat goes out while frames are still coming: a late frame
 * normally beats it, so no frame is encoded twice for a little jitter.
 */
export const LIVE_REPEAT_AFTER = 1.5;

/**
 * New frames allowed in a burst: a frame late by up to a period and the next one on time both go
 * out when ready. Repeats take no token, so a late frame's repeat costs the next frame nothing.
 */
export const BURST_FRAMES = 2;
/**
 * Tokens come 10 % faster than the nominal rate: the rate is estimated from the source's first
 * timestamps, and a source even 1 % faster than its estimate would otherwise drain the bucket
 * and make every frame wait for a token (measured: capture→encoder p50 34 → 64 ms at 10 fps).
 */
export const RATE_SLACK = 1.1;

/** Paces new frames: the nominal rate (+ `RATE_SLACK`) on average, bursts of `BURST_FRAMES`. */
export class FramePacer {
  private tokens = BURST_FRAMES;
  private at: number;

  constructor(nowMs: number) {
    this.at = nowMs;
  }

  /** How long a new frame ready at `nowMs` waits before it may go out (0: now). */
  delayMs(nowMs: number, lastTickMs: number, periodMs: number): number {
    const tokens = this.level(nowMs, periodMs);
    const forRate = tokens >= 1 ? 0 : ((1 - tokens) * periodMs) / RATE_SLACK;
    return Math.max(forRate, lastTickMs + MIN_SPACING * periodMs - nowMs, 0);
  }

  /** A new frame went out at `nowMs`. */
  took(nowMs: number, periodMs: number): void {
    this.tokens = this.level(nowMs, periodMs) - 1;
    this.at = nowMs;
  }

  private level(nowMs: number, periodMs: number): number {
    return Math.min(BURST_FRAMES, this.tokens + ((nowMs - this.at) * RATE_SLACK) / periodMs);
  }
}

/**
 * When the clock ticks on its own after a tick at `lastTickMs`: a period later once the source
 * is quiet (repeats, then the slate, at the nominal rate), a little later while frames are coming.
 */
export function nextRepeatAtMs(lastTickMs: number, periodMs: number, sourceLive: boolean): number {
  return lastTickMs + (sourceLive ? LIVE_REPEAT_AFTER : 1) * periodMs;
}
