import { FIRST_CHAR, GLYPHS, GLYPH_HEIGHT, GLYPH_WIDTH } from './font.js';

/** A BGR24 image: `width × height × 3` bytes, rows top to bottom, no padding. */
export interface Raster {
  data: Buffer;
  width: number;
  height: number;
}

/** A colour as red, green, blue 0-255 (written to the buffer in BGR order). */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** Fills a rectangle (clipped to the image). */
export function fillRect(img: Raster, x: number, y: number, w: number, h: number, c: Rgb): void {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + w));
  const y1 = Math.min(img.height, Math.floor(y + h));
  if (x1 <= x0 || y1 <= y0) return;
  const d = img.data;
  const stride = img.width * 3;
  // First row pixel by pixel, the other rows copied from it.
  const first = y0 * stride + x0 * 3;
  for (let i = first, end = first + (x1 - x0) * 3; i < end; i += 3) {
    d[i] = c.b;
    d[i + 1] = c.g;
    d[i + 2] = c.r;
  }
  const rowBytes = (x1 - x0) * 3;
  for (let yy = y0 + 1; yy < y1; yy++) {
    d.copyWithin(yy * stride + x0 * 3, first, first + rowBytes);
  }
}

/** Blends a colour over a rectangle: `alpha` 0 (nothing) to 1 (opaque). */
export function blendRect(
  img: Raster,
  x: number,
  y: number,
  w: number,
  h: number,
  c: Rgb,
  alpha: number,
): void {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + w));
  const y1 = Math.min(img.height, Math.floor(y + h));
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 256);
  const d = img.data;
  for (let yy = y0; yy < y1; yy++) {
    for (let i = (yy * img.width + x0) * 3, end = (yy * img.width + x1) * 3; i < end; i += 3) {
      d[i] = (d[i]! * (256 - a) + c.b * a) >> 8;
      d[i + 1] = (d[i + 1]! * (256 - a) + c.g * a) >> 8;
      d[i + 2] = (d[i + 2]! * (256 - a) + c.r * a) >> 8;
    }
  }
}

/** Outline of the box (x1,y1)-(x2,y2), `thickness` pixels drawn inwards from its edges. */
export function strokeRect(
  img: Raster,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  thickness: number,
  c: Rgb,
): void {
  const left = Math.round(Math.min(x1, x2));
  const right = Math.round(Math.max(x1, x2));
  const top = Math.round(Math.min(y1, y2));
  const bottom = Math.round(Math.max(y1, y2));
  const w = right - left;
  const h = bottom - top;
  if (w <= 0 || h <= 0) return;
  const t = Math.max(1, Math.min(Math.round(thickness), Math.ceil(w / 2), Math.ceil(h / 2)));
  fillRect(img, left, top, w, t, c);
  fillRect(img, left, bottom - t, w, t, c);
  fillRect(img, left, top + t, t, h - 2 * t, c);
  fillRect(img, right - t, top + t, t, h - 2 * t, c);
}

/** A line (Bresenham) of `thickness` pixels between two pixel positions. */
export function drawLine(
  img: Raster,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  thickness: number,
  c: Rgb,
): void {
  let x0 = Math.round(ax);
  let y0 = Math.round(ay);
  const x1 = Math.round(bx);
  const y1 = Math.round(by);
  const t = Math.max(1, Math.round(thickness));
  const half = Math.floor((t - 1) / 2);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  // A line far outside the image is not walked pixel by pixel forever: bound the steps.
  for (let steps = 0; steps <= 20_000; steps++) {
    if (t === 1) {
      if (x0 >= 0 && y0 >= 0 && x0 < img.width && y0 < img.height) {
        const i = (y0 * img.width + x0) * 3;
        img.data[i] = c.b;
        img.data[i + 1] = c.g;
        img.data[i + 2] = c.r;
      }
    } else {
      fillRect(img, x0 - half, y0 - half, t, t, c);
    }
    if (x0 === x1 && y0 === y1) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/** Consecutive points joined by lines; `closed` joins the last to the first. */
export function drawPolyline(
  img: Raster,
  points: ReadonlyArray<{ x: number; y: number }>,
  closed: boolean,
  thickness: number,
  c: Rgb,
): void {
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    drawLine(img, a.x, a.y, b.x, b.y, thickness, c);
  }
  if (closed && points.length > 2) {
    const a = points[points.length - 1]!;
    const b = points[0]!;
    drawLine(img, a.x, a.y, b.x, b.y, thickness, c);
  }
}

/** Width in pixels of `text` at an integer `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length * GLYPH_WIDTH * scale;
}

export function textHeight(scale = 1): number {
  return GLYPH_HEIGHT * scale;
}

/**
 * Draws `text` with its top-left corner at (x, y), anti-aliased by the glyphs' coverage; `scale`
 * enlarges each glyph pixel to scale × scale. Characters outside ASCII 32-126 draw as '?'.
 */
export function drawText(img: Raster, x: number, y: number, text: string, c: Rgb, scale = 1): void {
  const s = Math.max(1, Math.round(scale));
  const d = img.data;
  const ox = Math.round(x);
  const oy = Math.round(y);
  for (let k = 0; k < text.length; k++) {
    const code = text.charCodeAt(k);
    const glyph = GLYPHS[code - FIRST_CHAR] ?? GLYPHS['?'.charCodeAt(0) - FIRST_CHAR]!;
    const gx = ox + k * GLYPH_WIDTH * s;
    if (gx >= img.width) break;
    if (gx + GLYPH_WIDTH * s <= 0) continue;
    for (let py = 0; py < GLYPH_HEIGHT * s; py++) {
      const yy = oy + py;
      if (yy < 0 || yy >= img.height) continue;
      const row = Math.floor(py / s) * GLYPH_WIDTH;
      for (let px = 0; px < GLYPH_WIDTH * s; px++) {
        const a = glyph[row + Math.floor(px / s)]!;
        if (a === 0) continue;
        const xx = gx + px;
        if (xx < 0 || xx >= img.width) continue;
        const i = (yy * img.width + xx) * 3;
        if (a === 255) {
          d[i] = c.b;
          d[i + 1] = c.g;
          d[i + 2] = c.r;
        } else {
          const inv = 255 - a;
          d[i] = ((d[i]! * inv + c.b * a) / 255) | 0;
          d[i + 1] = ((d[i + 1]! * inv + c.g * a) / 255) | 0;
          d[i + 2] = ((d[i + 2]! * inv + c.r * a) / 255) | 0;
        }
      }
    }
  }
}

/** Black or white, whichever reads better on `bg`. */
export function contrastText(bg: Rgb): Rgb {
  const luma = 0.299 * bg.r + 0.587 * bg.g + 0.114 * bg.b;
  return luma > 140 ? { r: 0, g: 0, b: 0 } : { r: 255, g: 255, b: 255 };
}

/**
 * A label: text on a filled background of colour `bg`, its bottom-left at (x, y) (placed below
 * `y` instead when there is no room above it), kept inside the image horizontally.
 */
export function drawLabel(
  img: Raster,
  x: number,
  y: number,
  text: string,
  bg: Rgb,
  scale = 1,
): void {
  if (text.length === 0) return;
  const pad = 2 * scale;
  const w = textWidth(text, scale) + 2 * pad;
  const h = textHeight(scale) + pad;
  let left = Math.round(x);
  let top = Math.round(y) - h;
  if (top < 0) top = Math.round(y);
  if (left + w > img.width) left = img.width - w;
  if (left < 0) left = 0;
  fillRect(img, left, top, w, h, bg);
  drawText(img, left + pad, top + Math.floor(pad / 2), text, contrastText(bg), scale);
}

/** Nearest-neighbour resize of a BGR24 image into `out` (used when a frame's size differs). */
export function resizeNearest(src: Raster, out: Raster): void {
  const xs = new Int32Array(out.width);
  for (let x = 0; x < out.width; x++) {
    xs[x] = Math.min(src.width - 1, Math.floor(((x + 0.5) * src.width) / out.width)) * 3;
  }
  for (let y = 0; y < out.height; y++) {
    const sy = Math.min(src.height - 1, Math.floor(((y + 0.5) * src.height) / out.height));
    const srow = sy * src.width * 3;
    let o = y * out.width * 3;
    for (let x = 0; x < out.width; x++, o += 3) {
      const i = srow + xs[x]!;
      out.data[o] = src.data[i]!;
      out.data[o + 1] = src.data[i + 1]!;
      out.data[o + 2] = src.data[i + 2]!;
    }
  }
}
