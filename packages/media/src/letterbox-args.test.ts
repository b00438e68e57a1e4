import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { resolveSharedAsset } from '@sie/infra';
import { buildDualDecodeArgs, dualDecodeArgv, letterboxGeometry, parseSourceUrl } from './index.js';

const VTEST = parseSourceUrl(resolveSharedAsset('media/vtest.avi'));

test('the letterbox geometry is the engine’s: YOLOX top-left, Ultralytics centred', () => {
  assert.deepEqual(
    letterboxGeometry(768, 576, { width: 416, height: 416, placement: 'top-left' }),
    {
      ratio: 416 / 768,
      resizedWidth: 416,
      resizedHeight: 312,
      padX: 0,
      padY: 0,
    },
  );
  const c = letterboxGeometry(1280, 720, { width: 640, height: 640, placement: 'center' });
  assert.deepEqual([c.resizedWidth, c.resizedHeight, c.padX, c.padY], [640, 360, 0, 140]);
});

test('the filter graph splits once, scales each branch and pads the model branch', () => {
  const args = buildDualDecodeArgs(
    VTEST,
    { width: 768, height: 576, sampleFps: 5 },
    { width: 416, height: 416, placement: 'top-left', padValue: 114 },
  );
  assert.equal(
    args.filterComplex,
    '[0:v:0]fps=5,split=2[o][m];[o]scale=768:576,format=bgr24[out];' +
      '[m]scale=416:312,format=bgr24,pad=416:416:0:0:color=0x727272[model]',
  );
  const argv = dualDecodeArgv(args);
  assert.equal(argv.indexOf('pipe:1') < argv.indexOf('pipe:3'), true);
  assert.throws(() =>
    buildDualDecodeArgs(
      VTEST,
      { width: 0, height: 5 },
      {
        width: 416,
        height: 416,
        placement: 'top-left',
        padValue: 114,
      },
    ),
  );
});

function collect(stream: Readable | null | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream?.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => stream?.on('end', () => resolve(Buffer.concat(chunks))));
}

const meanOf = (b: Buffer): number => b.reduce((a, v) => a + v, 0) / b.length;

for (const placement of ['top-left', 'center'] as const) {
  test(`real ffmpeg writes matching output and letterboxed model frames (${placement})`, async () => {
    const model = { width: 416, height: 416, placement, padValue: 114 };
    const args = buildDualDecodeArgs(VTEST, { width: 768, height: 576, maxDurationMs: 300 }, model);
    const child = spawn('ffmpeg', dualDecodeArgv(args), {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const [frames, models] = await Promise.all([
      collect(child.stdout),
      collect(child.stdio[3] as Readable),
      new Promise((r) => child.once('close', r)),
    ]);
    const outBytes = 768 * 576 * 3;
    const modelBytes = 416 * 416 * 3;
    const n = frames.length / outBytes;
    assert.ok(Number.isInteger(n) && n >= 2, `${frames.length} bytes of output frames`);
    assert.equal(models.length, n * modelBytes, 'one model frame per output frame');
    const g = args.geometry;
    for (let f = 0; f < n; f++) {
      const m = models.subarray(f * modelBytes, (f + 1) * modelBytes);
      let sum = 0;
      let count = 0;
      for (let y = 0; y < 416; y++) {
        const row = m.subarray(y * 416 * 3, (y + 1) * 416 * 3);
        const inside = y >= g.padY && y < g.padY + g.resizedHeight;
        if (!inside)
          assert.ok(
            row.every((v) => v === 114),
            `row ${y} of frame ${f} is padding`,
          );
        else {
          sum += row.reduce((a, v) => a + v, 0);
          count += row.length;
        }
      }
      // The letterboxed picture is the output frame, smaller: the same brightness on average.
      const out = frames.subarray(f * outBytes, (f + 1) * outBytes);
      const diff = Math.abs(sum / count - meanOf(out));
      assert.ok(diff < 2, `mean differs by ${diff}`);
    }
  });
}
