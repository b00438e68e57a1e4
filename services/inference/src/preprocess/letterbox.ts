export type ChannelOrder = 'rgb' | 'bgr';

/**
 * Where the resized image sits: `top-left` as YOLOX's preprocess (sizes rounded down), or
 * `center` as Ultralytics' LetterBox (sizes rounded, padding split with the odd pixel on the
 * right or bottom).
 */
export type LetterboxPlacement = 'top-left' | 'center';

/** Packed 8-bit, 3-channel pixels, row-major without padding (a frame store slot, a decoded image). */
export interface PixelImage {
  data: Uint8Array;
  width: number;
  height: number;
  order: ChannelOrder;
}

/** What the network takes: a CHW float tensor of `width` × `height`. */
export interface LetterboxTarget {
  width: number;
  height: number;
  order: ChannelOrder;
  /** Multiplier on 0-255 values. */
  pixelScale: number;
  /** Padding in 0-255 units. */
  padValue: number;
  /** Default `top-left`. */
  placement?: LetterboxPlacement;
}

export interface LetterboxResult {
  /** Input pixels per original pixel; divide network-space boxes by it to map them back. */
  ratio: number;
  resizedWidth: number;
  resizedHeight: number;
  /** Input pixels left of and above the image: network-space x - padX is image-space x × ratio. */
  padX: number;
  padY: number;
}

/**
 * Sampling tables for one (source size, target size) pair: source offsets and weights of every
 * target column and row. Frames of a stream share their size, so a worker computes them once.
 */
export interface LetterboxPlan extends LetterboxResult {
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  placement: LetterboxPlacement;
  x0: Int32Array;
  x1: Int32Array;
  fx: Float32Array;
  y0: Int32Array;
  y1: Int32Array;
  fy: Float32Array;
}

/** YOLOX's ratio: the largest scale that fits the whole image into the target. */
export function letterboxRatio(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
): number {
  return Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
}

export function planLetterbox(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  placement: LetterboxPlacement = 'top-left',
): LetterboxPlan {
  if (srcWidth < 1 || srcHeight < 1) throw new RangeError('image has no pixels');
  const ratio = letterboxRatio(srcWidth, srcHeight, dstWidth, dstHeight);
  // int(w * r) as YOLOX's preprocess does, round(w * r) as Ultralytics' does; at least one pixel
  // for extreme aspect ratios.
  const size = placement === 'center' ? Math.round : Math.floor;
  const resizedWidth = Math.min(dstWidth, Math.max(1, size(srcWidth * ratio)));
  const resizedHeight = Math.min(dstHeight, Math.max(1, size(srcHeight * ratio)));
  // Ultralytics pads round(d/2 - 0.1) before and round(d/2 + 0.1) after: the odd pixel goes after.
  const padX = placement === 'center' ? Math.floor((dstWidth - resizedWidth) / 2) : 0;
  const padY = placement === 'center' ? Math.floor((dstHeight - resizedHeight) / 2) : 0;
  const [x0, x1, fx] = axisTable(srcWidth, resizedWidth, 3);
  const [y0, y1, fy] = axisTable(srcHeight, resizedHeight, srcWidth * 3);
  return {
    ratio,
    resizedWidth,
    resizedHeight,
    padX,
    padY,
    srcWidth,
    srcHeight,
    dstWidth,
    dstHeight,
    placement,
    x0,
    x1,
    fx,
    y0,
    y1,
    fy,
  };
}

/**
 * cv2.resize INTER_LINEAR's sampling along one axis (pixel centres aligned, edges clamped), with
 * source indices pre-multiplied by `stride` so the inner loop only adds.
 */
function axisTable(
  src: number,
  dst: number,
  stride: number,
): [Int32Array, Int32Array, Float32Array] {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const f = new Float32Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    let pos = (d + 0.5) * scale - 0.5;
    let s = Math.floor(pos);
    pos -= s;
    if (s < 0) {
      s = 0;
      pos = 0;
    }
    if (s >= src - 1) {
      s = src - 1;
      pos = 0;
    }
    i0[d] = s * stride;
    i1[d] = Math.min(s + 1, src - 1) * stride;
    f[d] = pos;
  }
  return [i0, i1, f];
}

/**
 * Letterbox: resize keeping the aspect ratio (bilinear, rounded to 8 bits like OpenCV's uint8
 * output), image at the top-left (YOLOX) or centred (Ultralytics), the rest `padValue`; written
 * as planar CHW floats in the network's channel order, times `pixelScale`. Writes into `out`
 * (reused across frames); pass the previous `plan` when nothing has changed to skip rebuilding
 * the sampling tables.
 */
export function letterbox(
  image: PixelImage,
  target: LetterboxTarget,
  out: Float32Array,
  plan?: LetterboxPlan,
): LetterboxPlan {
  const { width: W, height: H } = target;
  const placement = target.placement ?? 'top-left';
  const planeSize = W * H;
  if (out.length < 3 * planeSize)
    throw new RangeError(`output holds ${out.length} floats, needs ${3 * planeSize}`);
  if (image.data.length < image.width * image.height * 3) {
    throw new RangeError(
      `image of ${image.width}x${image.height} needs ${image.width * image.height * 3} bytes, got ${image.data.length}`,
    );
  }
  const p =
    plan &&
    plan.srcWidth === image.width &&
    plan.srcHeight === image.height &&
    plan.dstWidth === W &&
    plan.dstHeight === H &&
    plan.placement === placement
      ? plan
      : planLetterbox(image.width, image.height, W, H, placement);
  const { resizedWidth: rw, resizedHeight: rh, padX, padY, x0, x1, fx, y0, y1, fy } = p;
  const src = image.data;
  const scale = target.pixelScale;
  const pad = target.padValue * scale;
  // Output plane c takes source channel c, or 2 - c when the orders differ (RGB <-> BGR).
  const swap = image.order !== target.order;
  const plane0 = swap ? 2 * planeSize : 0;
  const plane2 = swap ? 0 : 2 * planeSize;
  const plane1 = planeSize;
  const fillAll = (from: number, to: number): void => {
    if (to <= from) return;
    for (let ch = 0; ch < 3; ch++) out.fill(pad, ch * planeSize + from, ch * planeSize + to);
  };

  fillAll(0, padY * W);
  for (let y = 0; y < rh; y++) {
    const r0 = y0[y] as number;
    const r1 = y1[y] as number;
    const wy = fy[y] as number;
    const row = (y + padY) * W;
    fillAll(row, row + padX);
    const start = row + padX;
    for (let x = 0; x < rw; x++) {
      const c0 = x0[x] as number;
      const c1 = x1[x] as number;
      const wx = fx[x] as number;
      const a = r0 + c0;
      const b = r0 + c1;
      const c = r1 + c0;
      const d = r1 + c1;
      const o = start + x;
      out[plane0 + o] = Math.round(bilerp(src, a, b, c, d, wx, wy)) * scale;
      out[plane1 + o] = Math.round(bilerp(src, a + 1, b + 1, c + 1, d + 1, wx, wy)) * scale;
      out[plane2 + o] = Math.round(bilerp(src, a + 2, b + 2, c + 2, d + 2, wx, wy)) * scale;
    }
    fillAll(start + rw, row + W);
  }
  fillAll((padY + rh) * W, planeSize);
  return p;
}

/**
 * The letterbox of an image that already has the network's size (e.g. letterboxed by ffmpeg's
 * filter graph): ratio 1, no padding, so only HWC bytes → CHW floats in the network's channel
 * order, times `scale`. The same output `letterbox` gives for such an image, at a fraction of
 * the cost (no sampling).
 */
export function hwcToChw(image: PixelImage, target: LetterboxTarget, out: Float32Array): void {
  const { width: W, height: H } = target;
  const planeSize = W * H;
  if (image.width !== W || image.height !== H) {
    throw new RangeError(`image is ${image.width}x${image.height}, the network takes ${W}x${H}`);
  }
  if (out.length < 3 * planeSize)
    throw new RangeError(`output holds ${out.length} floats, needs ${3 * planeSize}`);
  const src = image.data;
  const scale = target.pixelScale;
  const swap = image.order !== target.order;
  const p0 = swap ? 2 * planeSize : 0;
  const p2 = swap ? 0 : 2 * planeSize;
  for (let i = 0, s = 0; i < planeSize; i++, s += 3) {
    out[p0 + i] = (src[s] as number) * scale;
    out[planeSize + i] = (src[s + 1] as number) * scale;
    out[p2 + i] = (src[s + 2] as number) * scale;
  }
}

function bilerp(
  src: Uint8Array,
  a: number,
  b: number,
  c: number,
  d: number,
  wx: number,
  wy: number,
): number {
  const pa = src[a] as number;
  const pc = src[c] as number;
  const top = pa + ((src[b] as number) - pa) * wx;
  const bottom = pc + ((src[d] as number) - pc) * wx;
  return top + (bottom - top) * wy;
}
