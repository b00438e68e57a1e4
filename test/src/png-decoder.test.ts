import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { countPixels, decodePng, lumaStats } from './support/png.js';

/** CRC-32 of PNG chunks (the decoder does not check it, but a real PNG has it). */
function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** An RGB PNG of `pixels`, line y filtered with filter type y % 5 (every filter is exercised). */
function encodeRgb(width: number, height: number, pixels: Buffer): Buffer {
  const stride = width * 3;
  const lines: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    const line = Buffer.alloc(stride + 1);
    line[0] = filter;
    for (let i = 0; i < stride; i++) {
      const x = pixels[y * stride + i]!;
      const a = i >= 3 ? pixels[y * stride + i - 3]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= 3 ? pixels[(y - 1) * stride + i - 3]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter]!;
      line[i + 1] = (x - pred) & 0xff;
    }
    lines.push(line);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(lines))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('the screenshot decoder undoes every PNG filter exactly', () => {
  const width = 7;
  const height = 11;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 3) * 101) & 0xff;
  // A green square, as the render draws boxes.
  for (let y = 2; y < 5; y++)
    for (let x = 2; x < 5; x++) pixels.set([0, 200, 0], (y * width + x) * 3);
  const img = decodePng(encodeRgb(width, height, pixels));
  assert.equal(img.width, width);
  assert.equal(img.height, height);
  assert.equal(img.channels, 3);
  assert.ok(img.data.equals(pixels), 'pixels round-trip');
  assert.ok(countPixels(img, (r, g, b) => r === 0 && g === 200 && b === 0) >= 9);
  assert.ok(lumaStats(img).stdDev > 10);
  assert.throws(() => decodePng(Buffer.from('not a png')), /not a PNG/);
});
