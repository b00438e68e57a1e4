import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Detection } from '@sie/contracts';
import { FrameSampler, classesText, manifestEntry, yoloLines } from './dataset.js';
import { createDestination, type CaptureDestination } from './destinations.js';

const det = (classId: number, label: string, x1: number, y1: number, x2: number, y2: number) =>
  ({ classId, label, score: 0.91234, box: { x1, y1, x2, y2 }, trackId: 0 }) as Detection;

test('YOLO lines: class cx cy w h normalised, clipped to the frame', () => {
  const text = yoloLines(
    [det(0, 'person', 100, 50, 300, 450), det(2, 'car', -20, 500, 40, 700)],
    400,
    600,
  );
  const rows = text.trim().split('\n');
  assert.equal(rows[0], '0 0.500000 0.416667 0.500000 0.666667');
  const [cls, cx, cy, w, h] = rows[1]!.split(' ').map(Number);
  assert.equal(cls, 2);
  for (const v of [cx!, cy!, w!, h!]) assert.ok(v >= 0 && v <= 1);
  assert.equal(yoloLines([det(0, 'p', 10, 10, 10, 20)], 100, 100), '');
});

test('manifest entries and classes.txt', () => {
  const e = manifestEntry(
    'run1',
    { seq: 11, ptsMs: 1000, captureTimeMs: 5, width: 768, height: 576 },
    [det(0, 'person', 1, 2, 3, 4)],
    'yolox',
  );
  assert.equal(e.image, 'images/run1/11.jpg');
  assert.equal(e.label, 'labels/run1/11.txt');
  assert.deepEqual(e.detections[0], {
    classId: 0,
    className: 'person',
    score: 0.912,
    box: [1, 2, 3, 4],
  });
  assert.equal(
    classesText(
      new Map([
        [0, 'person'],
        [2, 'car'],
      ]),
    ),
    'person\nclass1\ncar\n',
  );
});

test('sampling: every Nth frame, or by interval, up to maxFrames', () => {
  const nth = new FrameSampler({ everyNthFrame: 10, maxFrames: 2 });
  const kept: number[] = [];
  for (let i = 1; i <= 40; i++) if (nth.sample(i * 100) && nth.reserve()) kept.push(i);
  assert.deepEqual(kept, [1, 11]);
  const iv = new FrameSampler({ intervalMs: 250 });
  const t: number[] = [];
  for (let ms = 0; ms <= 1000; ms += 100) if (iv.sample(ms)) t.push(ms);
  assert.deepEqual(t, [0, 300, 600, 900]);
});

test('destinations: local ones stay under the root, keys cannot climb out, S3 needs its env', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sie-capture-unit-'));
  try {
    const d: CaptureDestination = createDestination(
      { type: 'local', dir: join(root, 'ds') },
      { rootDir: root, env: {} },
    );
    assert.equal(d.type, 'local');
    await d.put('images/r/1.jpg', Buffer.from('x'), 'image/jpeg');
    await d.append('manifest.jsonl', 'a\n', 'text/plain');
    await d.append('manifest.jsonl', 'b\n', 'text/plain');
    assert.equal(readFileSync(join(root, 'ds', 'manifest.jsonl'), 'utf8'), 'a\nb\n');
    await assert.rejects(d.put('../x', Buffer.alloc(1), 'text/plain'), RangeError);
    assert.throws(
      () => createDestination({ type: 'local', dir: '/etc/sie' }, { rootDir: root, env: {} }),
      /not under/,
    );
    const s3 = {
      type: 's3' as const,
      endpoint: 'http://127.0.0.1:1',
      bucket: 'b1x',
      prefix: '',
      region: 'us-east-1',
      accessKeyIdEnv: 'K_ID',
      secretAccessKeyEnv: 'K_SECRET',
    };
    assert.throws(() => createDestination(s3, { rootDir: root, env: {} }), /K_ID/);
    const built = createDestination(s3, { rootDir: root, env: { K_ID: 'a', K_SECRET: 'b' } });
    assert.equal(built.type, 's3');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
