import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSharedAsset } from '@sie/infra';
import { letterboxGeometry, parseSourceUrl, startDecoder } from './index.js';

const VTEST = parseSourceUrl(resolveSharedAsset('media/vtest.avi'));
const W = 768;
const H = 576;
const M = 416;

/** Mean absolute difference between the model frame's picture and the output frame under it. */
function pictureError(out: Buffer, model: Buffer, padX: number, padY: number, ratio: number) {
  let sum = 0;
  let n = 0;
  for (let y = 8; y < H - 8; y += 16) {
    for (let x = 8; x < W - 8; x += 16) {
      const mx = Math.floor(x * ratio) + padX;
      const my = Math.floor(y * ratio) + padY;
      for (let c = 0; c < 3; c++) {
        sum += Math.abs((out[(y * W + x) * 3 + c] ?? 0) - (model[(my * M + mx) * 3 + c] ?? 0));
        n++;
      }
    }
  }
  return sum / n;
}

for (const placement of ['top-left', 'center'] as const) {
  test(`one ffmpeg writes every frame twice: output size on stdout, ${placement} letterbox on fd 3`, async () => {
    const g = letterboxGeometry(W, H, { width: M, height: M, placement });
    const outs: Buffer[] = [];
    const models: Buffer[] = [];
    let modelCount = 0;
    let padValues = new Set<number>();
    const decoder = startDecoder({
      source: VTEST,
      width: W,
      height: H,
      maxDurationMs: 3000,
      onFrame: (frame, index) => {
        if (index === 20) outs.push(Buffer.from(frame));
      },
      modelFrame: {
        width: M,
        height: M,
        placement,
        padValue: 114,
        onFrame: (frame, index) => {
          assert.equal(index, modelCount++);
          assert.equal(frame.byteLength, M * M * 3);
          if (index !== 20) return;
          models.push(Buffer.from(frame));
          // Every pixel outside the picture is the pad value.
          padValues = new Set();
          for (let y = 0; y < M; y++) {
            for (let x = 0; x < M; x++) {
              const inside =
                x >= g.padX &&
                x < g.padX + g.resizedWidth &&
                y >= g.padY &&
                y < g.padY + g.resizedHeight;
              if (!inside) for (let c = 0; c < 3; c++) padValues.add(frame[(y * M + x) * 3 + c]!);
            }
          }
        },
      },
    });
    assert.deepEqual(decoder.modelGeometry, g);
    const exit = await decoder.exited;
    assert.equal(exit.code, 0, exit.stderrTail);
    assert.equal(exit.framesEmitted, 30);
    assert.equal(modelCount, 30, 'one model frame per output frame');
    assert.deepEqual([...padValues], [114]);
    if (placement === 'center') assert.ok(g.padY > 0, 'centred: padding above the picture');
    const [out] = outs;
    const [model] = models;
    assert.ok(out && model);
    const err = pictureError(out, model, g.padX, g.padY, g.ratio);
    // The same picture at 0.54 scale: small differences from resampling, nothing like a shift.
    assert.ok(
      err < 12,
      `model frame differs from the output frame by ${err.toFixed(1)} on average`,
    );
    const shifted = pictureError(out, model, g.padX + 12, g.padY, g.ratio);
    assert.ok(shifted > err * 1.5, 'the comparison notices a misplaced picture');
  });
}

test('pausing the dual decoder holds both pipes; resuming loses no frame of either', async () => {
  let outs = 0;
  let models = 0;
  const decoder = startDecoder({
    source: VTEST,
    width: W,
    height: H,
    maxDurationMs: 3000,
    onFrame: () => {
      outs++;
      if (outs === 5) {
        decoder.pause();
        setTimeout(() => decoder.resume(), 300);
      }
    },
    modelFrame: {
      width: M,
      height: M,
      placement: 'top-left',
      padValue: 114,
      onFrame: () => void models++,
    },
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(outs <= 6 && models <= 7, `paused: ${outs} output and ${models} model frames`);
  const exit = await decoder.exited;
  assert.equal(exit.code, 0, exit.stderrTail);
  assert.deepEqual([outs, models], [30, 30]);
});

test('a dual decoder that cannot start reports why', async () => {
  const decoder = startDecoder({
    source: VTEST,
    width: W,
    height: H,
    ffmpegPath: '/nonexistent/ffmpeg',
    onFrame: () => undefined,
    modelFrame: { width: M, height: M, placement: 'top-left', padValue: 114, onFrame: () => {} },
  });
  const exit = await decoder.exited;
  assert.match(exit.spawnError ?? '', /ENOENT/);
});
