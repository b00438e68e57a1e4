import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { RunSpec, type Shape } from '@sie/contracts';
import { drawLine, drawText, fillRect, resizeNearest, strokeRect, type Raster } from './draw.js';
import { DEFAULT_STYLE, SLATE_BACKGROUND, classColor, drawShapes, makeSlate } from './overlay.js';
import { JpegSplitter } from './preview.js';
import { estimateSourceFps, outputFpsOf, outputUrlOf, styleOf } from './render-run.js';

const raster = (width: number, height: number): Raster => ({
  data: Buffer.alloc(width * height * 3),
  width,
  height,
});
const px = (img: Raster, x: number, y: number): [number, number, number] => {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
};

test('rectangles: fill and outline are clipped and written as BGR', () => {
  const img = raster(20, 10);
  fillRect(img, -5, -5, 8, 8, { r: 1, g: 2, b: 3 });
  assert.deepEqual(px(img, 0, 0), [3, 2, 1]);
  assert.deepEqual(px(img, 2, 2), [3, 2, 1]);
  assert.deepEqual(px(img, 3, 3), [0, 0, 0]);
  strokeRect(img, 5, 2, 15, 8, 2, { r: 0, g: 255, b: 0 });
  assert.deepEqual(px(img, 5, 2), [0, 255, 0]);
  assert.deepEqual(px(img, 14, 7), [0, 255, 0]);
  assert.deepEqual(px(img, 10, 5), [0, 0, 0], 'inside stays untouched');
  strokeRect(img, 0, 0, 1000, 1000, 3, { r: 9, g: 9, b: 9 }); // far outside: no throw
});

test('lines (Bresenham) hit both ends and the diagonal', () => {
  const img = raster(10, 10);
  drawLine(img, 0, 0, 9, 9, 1, { r: 255, g: 255, b: 255 });
  for (let i = 0; i < 10; i++) assert.deepEqual(px(img, i, i), [255, 255, 255]);
  assert.deepEqual(px(img, 9, 0), [0, 0, 0]);
  drawLine(img, -1e6, 5, 1e6, 5, 3, { r: 1, g: 1, b: 1 }); // bounded, no hang
});

test('text is drawn from the bitmap font; the slate carries its background colour', () => {
  const img = raster(64, 20);
  drawText(img, 0, 0, 'Hi', { r: 255, g: 255, b: 255 });
  let lit = 0;
  for (let i = 0; i < img.data.length; i += 3) if (img.data[i]! > 128) lit++;
  assert.ok(lit > 20, `${lit} pixels lit`);
  const slate = makeSlate(320, 180, ['source reconnecting', 'run r1']);
  assert.deepEqual(px(slate, 2, 2), [SLATE_BACKGROUND.b, SLATE_BACKGROUND.g, SLATE_BACKGROUND.r]);
});

test('shapes: boxes scaled from the frame size, polygons from normalized points', () => {
  const img = raster(200, 100);
  const shapes: Shape[] = [
    {
      shape: {
        $case: 'box',
        box: {
          box: { x1: 100, y1: 50, x2: 200, y2: 150 },
          label: '',
          color: { r: 255, g: 0, b: 255, a: 255 },
          highlight: false,
        },
      },
    },
    {
      shape: {
        $case: 'polygon',
        polygon: {
          points: [
            { x: 0, y: 0.9 },
            { x: 0.2, y: 0.9 },
          ],
          label: '',
          color: { r: 0, g: 0, b: 255, a: 0 },
          closed: false,
        },
      },
    },
  ];
  // Overlay made for a 400x200 frame, drawn on a 200x100 image: the box lands at 50,25-100,75.
  drawShapes(img, shapes, DEFAULT_STYLE, 400, 200);
  assert.deepEqual(px(img, 50, 25), [255, 0, 255]);
  assert.deepEqual(px(img, 75, 50), [0, 0, 0]);
  assert.deepEqual(px(img, 20, 90), [255, 0, 0]);
  assert.deepEqual(classColor('person 0.91'), classColor('person #7'));
});

test("an event's highlighted box is drawn last: a neighbour's label never covers its edge", () => {
  const img = raster(200, 100);
  const box = (x1: number, y1: number, label: string, highlight: boolean, r: number): Shape => ({
    shape: {
      $case: 'box',
      box: {
        box: { x1, y1, x2: x1 + 40, y2: y1 + 40 },
        label,
        color: { r, g: 0, b: highlight ? 0 : 255, a: 255 },
        highlight,
      },
    },
  });
  // The highlighted (red) box comes first; the blue neighbour's label band sits across its top.
  drawShapes(
    img,
    [box(100, 40, '', true, 255), box(60, 48, 'a long label', false, 0)],
    DEFAULT_STYLE,
  );
  for (const x of [105, 115, 125]) assert.deepEqual(px(img, x, 40), [0, 0, 255], `x ${x}`);
});

test('run settings: output URL, fps and style from the run spec', () => {
  const run = RunSpec.fromPartial({
    runId: 'r1',
    outputPath: 'out/r1',
    pipeline: { sampleFps: 5, rulesJson: JSON.stringify({ style: { boxThickness: 6 } }) },
  });
  assert.equal(outputUrlOf(run, 'rtsp://h:8554/'), 'rtsp://h:8554/out/r1');
  assert.equal(outputFpsOf(run, 10), 5);
  assert.equal(outputFpsOf(RunSpec.fromPartial({ runId: 'x' }), 10), 10);
  assert.equal(styleOf(run, DEFAULT_STYLE).boxThickness, 6);
  assert.deepEqual(
    styleOf(RunSpec.fromPartial({ pipeline: { rulesJson: '{' } }), DEFAULT_STYLE),
    DEFAULT_STYLE,
  );
});

test("the source's rate from its frames' presentation times", () => {
  assert.equal(estimateSourceFps([0, 40, 80]), undefined, 'too few frames');
  // 25 fps with frames skipped by latest-frame-wins: the shortest step wins.
  assert.equal(estimateSourceFps([0, 40, 120, 160, 240, 280]), 25);
  // A looped file jumps back: ignored.
  assert.equal(estimateSourceFps([900, 1000, 0, 100, 200, 300]), 10);
  assert.equal(estimateSourceFps([0, 0, 0, 0, 0]), undefined);
});

test('JPEG splitter returns whole images across chunk boundaries', () => {
  const images: Buffer[] = [];
  const s = new JpegSplitter((j) => images.push(j));
  const a = Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0x00, 0xff, 0xd9]);
  const b = Buffer.from([0xff, 0xd8, 3, 0xff, 0xd9]);
  const all = Buffer.concat([a, b]);
  s.push(all.subarray(0, 5));
  s.push(all.subarray(5, 10));
  s.push(all.subarray(10));
  assert.deepEqual(images, [a, b]);
});

test('drawing cost: 1280x720, 20 labelled boxes and a zone (measured, not asserted)', (t) => {
  const img = raster(1280, 720);
  const frame = Buffer.alloc(img.data.length, 90);
  const shapes: Shape[] = [];
  for (let i = 0; i < 20; i++) {
    const x = 40 + (i % 5) * 240;
    const y = 40 + Math.floor(i / 5) * 170;
    shapes.push({
      shape: {
        $case: 'box',
        box: {
          box: { x1: x, y1: y, x2: x + 180, y2: y + 140 },
          label: `person 0.${80 + i} #${100 + i}`,
          color: undefined,
          highlight: i % 7 === 0,
        },
      },
    });
  }
  shapes.push({
    shape: {
      $case: 'polygon',
      polygon: {
        points: [
          { x: 0.1, y: 0.1 },
          { x: 0.9, y: 0.15 },
          { x: 0.85, y: 0.9 },
          { x: 0.15, y: 0.85 },
        ],
        label: 'zone entrance: 12',
        color: { r: 255, g: 200, b: 0, a: 255 },
        closed: true,
      },
    },
  });
  const runs = 200;
  const times: number[] = [];
  for (let i = 0; i < 30; i++) drawShapes(img, shapes, DEFAULT_STYLE); // JIT warm-up
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    frame.copy(img.data);
    drawShapes(img, shapes, DEFAULT_STYLE);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(runs / 2)]!;
  const p90 = times[Math.floor(runs * 0.9)]!;
  const p99 = times[Math.floor(runs * 0.99)]!;
  // Includes the 2.7 MB copy of the frame into the canvas, as the service does per frame.
  t.diagnostic(
    `draw 1280x720, 20 labelled boxes + zone: p50 ${p50.toFixed(3)} ms, p90 ${p90.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`,
  );
  const scaled = raster(640, 360);
  const t0 = performance.now();
  resizeNearest(img, scaled);
  t.diagnostic(`nearest resize 1280x720 → 640x360: ${(performance.now() - t0).toFixed(2)} ms`);
});
