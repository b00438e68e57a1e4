import { inflateSync } from 'node:zlib';

/** A decoded 8-bit PNG: `channels` bytes per pixel (3 RGB, 4 RGBA, 1 grey, 2 grey+alpha). */
export interface PngImage {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * Decodes a non-interlaced, 8-bit-per-channel PNG (what Chromium's screenshots are): the IDAT
 * stream inflated with node:zlib, then each scanline unfiltered (None, Sub, Up, Average, Paeth).
 */
export function decodePng(png: Buffer): PngImage {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const bitDepth = body[8];
      const colorType = body[9] ?? -1;
      if (bitDepth !== 8) throw new Error(`bit depth ${bitDepth} is not supported`);
      if (body[12] !== 0) throw new Error('interlaced PNGs are not supported');
      channels = CHANNELS[colorType] ?? 0;
      if (!channels) throw new Error(`colour type ${colorType} is not supported`);
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  if (!width || !height) throw new Error('no IHDR');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error('IDAT holds too few bytes');
  const data = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    const prev = y * stride - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[out + i - channels]! : 0;
      const b = y > 0 ? data[prev + i]! : 0;
      const c = y > 0 && i >= channels ? data[prev + i - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4:
          predictor = paeth(a, b, c);
          break;
        default:
          throw new Error(`unknown PNG filter ${filter} on line ${y}`);
      }
      data[out + i] = (line[i]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, data };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Mean and standard deviation of the pixels' luma (Rec. 601), 0–255. */
export function lumaStats(img: PngImage): { mean: number; stdDev: number } {
  let sum = 0;
  let sumSq = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const i = p * img.channels;
    const y =
      img.channels >= 3
        ? 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!
        : img.data[i]!;
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  return { mean, stdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
}

/** How many pixels `match(r, g, b)` accepts. */
export function countPixels(
  img: PngImage,
  match: (r: number, g: number, b: number) => boolean,
): number {
  if (img.channels < 3) return 0;
  let count = 0;
  for (let p = 0; p < img.width * img.height; p++) {
    const i = p * img.channels;
    if (match(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!)) count++;
  }
  return count;
}
