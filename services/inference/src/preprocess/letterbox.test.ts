import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hwcToChw,
  letterbox,
  letterboxRatio,
  type LetterboxTarget,
  type PixelImage,
} from './letterbox.js';

const target = (over: Partial<LetterboxTarget> = {}): LetterboxTarget => ({
  width: 416,
  height: 416,
  order: 'bgr',
  pixelScale: 1,
  padValue: 114,
  ...over,
});

function solid(width: number, height: number, rgb: [number, number, number]): PixelImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height, order: 'rgb' };
}

/** Value of plane `c` at (x, y) of a CHW tensor of `w` × `h`. */
const at = (out: Float32Array, w: number, h: number, c: number, x: number, y: number): number =>
  out[c * w * h + y * w + x] as number;

test('a landscape image is scaled by the smaller ratio, sits top-left, and the rest is padding', () => {
  const out = new Float32Array(3 * 416 * 416);
  const plan = letterbox(solid(768, 576, [10, 20, 30]), target(), out);
  assert.equal(plan.ratio, letterboxRatio(768, 576, 416, 416));
  assert.ok(Math.abs(plan.ratio - 416 / 768) < 1e-12);
  assert.equal(plan.resizedWidth, 416);
  assert.equal(plan.resizedHeight, 312); // int(576 × 0.5417)
  for (let c = 0; c < 3; c++) {
    assert.equal(at(out, 416, 416, c, 0, 311), [30, 20, 10][c]);
    assert.equal(at(out, 416, 416, c, 415, 311), [30, 20, 10][c]);
    assert.equal(at(out, 416, 416, c, 0, 312), 114);
    assert.equal(at(out, 416, 416, c, 415, 415), 114);
  }
});

test('a portrait image pads on the right', () => {
  const out = new Float32Array(3 * 416 * 416);
  const plan = letterbox(solid(100, 200, [1, 2, 3]), target(), out);
  assert.equal(plan.resizedWidth, 208);
  assert.equal(plan.resizedHeight, 416);
  assert.equal(at(out, 416, 416, 0, 207, 415), 3);
  assert.equal(at(out, 416, 416, 0, 208, 0), 114);
});

test('channel order follows the network: swapped for BGR, kept for RGB', () => {
  const out = new Float32Array(3 * 32 * 32);
  const img = solid(32, 32, [10, 20, 30]);
  letterbox(img, target({ width: 32, height: 32, order: 'bgr' }), out);
  assert.deepEqual(
    [0, 1, 2].map((c) => at(out, 32, 32, c, 5, 5)),
    [30, 20, 10],
  );
  letterbox(img, target({ width: 32, height: 32, order: 'rgb' }), out);
  assert.deepEqual(
    [0, 1, 2].map((c) => at(out, 32, 32, c, 5, 5)),
    [10, 20, 30],
  );
  letterbox({ ...img, order: 'bgr' }, target({ width: 32, height: 32, order: 'bgr' }), out);
  assert.deepEqual(
    [0, 1, 2].map((c) => at(out, 32, 32, c, 5, 5)),
    [10, 20, 30],
  );
});

test('pixel scale applies to pixels and padding alike', () => {
  const out = new Float32Array(3 * 8 * 8);
  letterbox(solid(8, 4, [255, 0, 51]), target({ width: 8, height: 8, pixelScale: 1 / 255 }), out);
  assert.ok(Math.abs(at(out, 8, 8, 2, 0, 0) - 1) < 1e-6);
  assert.ok(Math.abs(at(out, 8, 8, 0, 0, 0) - 0.2) < 1e-6);
  assert.ok(Math.abs(at(out, 8, 8, 0, 0, 7) - 114 / 255) < 1e-6);
});

test('resampling is bilinear with OpenCV pixel-centre alignment, rounded to 8 bits', () => {
  // 4×2 → 2×1: each output pixel is the mean of a 2×2 block.
  const row = [0, 100, 200, 251];
  const data = new Uint8Array(4 * 2 * 3);
  for (let y = 0; y < 2; y++)
    for (let x = 0; x < 4; x++) data.fill(row[x] as number, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  const out = new Float32Array(3 * 2 * 2);
  const plan = letterbox(
    { data, width: 4, height: 2, order: 'rgb' },
    target({ width: 2, height: 2 }),
    out,
  );
  assert.equal(plan.resizedWidth, 2);
  assert.equal(plan.resizedHeight, 1);
  assert.equal(at(out, 2, 2, 0, 0, 0), 50);
  assert.equal(at(out, 2, 2, 0, 1, 0), 226); // 225.5 rounds half up
  assert.equal(at(out, 2, 2, 0, 0, 1), 114);
});

test('an image of the target size is copied exactly', () => {
  const img: PixelImage = {
    data: new Uint8Array(16 * 16 * 3),
    width: 16,
    height: 16,
    order: 'bgr',
  };
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 37) % 256;
  const out = new Float32Array(3 * 16 * 16);
  letterbox(img, target({ width: 16, height: 16 }), out);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++) {
      for (let c = 0; c < 3; c++)
        assert.equal(at(out, 16, 16, c, x, y), img.data[(y * 16 + x) * 3 + c]);
    }
  }
});

test('the output buffer and the plan are reused; a new size rebuilds the plan and its padding', () => {
  const out = new Float32Array(3 * 64 * 64);
  const t = target({ width: 64, height: 64 });
  const p1 = letterbox(solid(128, 64, [9, 9, 9]), t, out);
  assert.equal(letterbox(solid(128, 64, [9, 9, 9]), t, out, p1), p1);
  const p2 = letterbox(solid(32, 64, [7, 7, 7]), t, out, p1);
  assert.notEqual(p2, p1);
  assert.equal(at(out, 64, 64, 0, 31, 40), 7);
  assert.equal(at(out, 64, 64, 0, 32, 40), 114); // was image in the previous frame
  assert.throws(() => letterbox(solid(8, 8, [0, 0, 0]), t, new Float32Array(10)), RangeError);
});

test('centred (Ultralytics): the padding is split, the odd pixel below or right', () => {
  const out = new Float32Array(3 * 416 * 416);
  const t = target({ placement: 'center' });
  const plan = letterbox(solid(768, 576, [10, 20, 30]), t, out);
  assert.equal(plan.resizedHeight, 312);
  assert.deepEqual([plan.padX, plan.padY], [0, 52]);
  for (let c = 0; c < 3; c++) {
    assert.equal(at(out, 416, 416, c, 0, 51), 114);
    assert.equal(at(out, 416, 416, c, 0, 52), [30, 20, 10][c]);
    assert.equal(at(out, 416, 416, c, 415, 363), [30, 20, 10][c]);
    assert.equal(at(out, 416, 416, c, 415, 364), 114);
  }
  const portrait = letterbox(solid(100, 200, [1, 2, 3]), t, out, plan);
  assert.notEqual(portrait, plan);
  assert.deepEqual([portrait.padX, portrait.padY], [104, 0]);
  assert.equal(at(out, 416, 416, 0, 103, 0), 114);
  assert.equal(at(out, 416, 416, 0, 104, 0), 3);
  assert.equal(at(out, 416, 416, 0, 311, 415), 3);
  assert.equal(at(out, 416, 416, 0, 312, 415), 114);

  const small = new Float32Array(3 * 10 * 10);
  const odd = letterbox(
    solid(10, 7, [5, 5, 5]),
    target({ width: 10, height: 10, placement: 'center' }),
    small,
  );
  assert.deepEqual([odd.resizedWidth, odd.resizedHeight, odd.padX, odd.padY], [10, 7, 0, 1]);
  const column = Array.from({ length: 10 }, (_, y) => at(small, 10, 10, 0, 4, y));
  assert.deepEqual(column, [114, 5, 5, 5, 5, 5, 5, 5, 114, 114]);
});

test('a plan is reused only for the same placement', () => {
  const out = new Float32Array(3 * 64 * 64);
  const img = solid(64, 32, [9, 9, 9]);
  const topLeft = letterbox(img, target({ width: 64, height: 64 }), out);
  assert.equal(topLeft.padY, 0);
  const centred = letterbox(
    img,
    target({ width: 64, height: 64, placement: 'center' }),
    out,
    topLeft,
  );
  assert.notEqual(centred, topLeft);
  assert.equal(centred.padY, 16);
  assert.equal(at(out, 64, 64, 0, 0, 0), 114);
  assert.equal(at(out, 64, 64, 0, 0, 16), 9);
});

test('an image of the network size (letterboxed upstream) needs only HWC → CHW: same floats', () => {
  const data = new Uint8Array(416 * 416 * 3);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    data[i] = seed & 255;
  }
  for (const order of ['bgr', 'rgb'] as const) {
    for (const pixelScale of [1, 1 / 255]) {
      const image: PixelImage = { data, width: 416, height: 416, order };
      const t = target({ pixelScale });
      const viaLetterbox = new Float32Array(3 * 416 * 416);
      const plan = letterbox(image, t, viaLetterbox);
      assert.deepEqual([plan.ratio, plan.padX, plan.padY], [1, 0, 0]);
      const direct = new Float32Array(3 * 416 * 416);
      hwcToChw(image, t, direct);
      assert.deepEqual(direct, viaLetterbox, `${order} × ${pixelScale}`);
    }
  }
  assert.throws(() =>
    hwcToChw(solid(400, 416, [1, 2, 3]), target(), new Float32Array(3 * 416 * 416)),
  );
});
