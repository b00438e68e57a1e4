import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { FrameSplitter } from './index.js';

test('chunks of any size become whole frames, in order, partial chunks kept', async () => {
  const frames: number[][] = [];
  const splitter = new FrameSplitter(3, (f) => frames.push([...f]));
  const bytes = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const chunks = [bytes.subarray(0, 1), bytes.subarray(1, 5), bytes.subarray(5, 11)];
  await pipeline(Readable.from(chunks), splitter);
  assert.deepEqual(frames, [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
  ]);
  assert.equal(splitter.framesEmitted, 3);
  assert.equal(splitter.partialBytes, 2);
});

test('pause holds frames even in the middle of a chunk until resume', async () => {
  const seen: number[] = [];
  const splitter = new FrameSplitter(2, (f, i) => {
    seen.push(f[0] ?? -1);
    if (i === 0) splitter.pause();
  });
  const done = pipeline(Readable.from([Buffer.from([1, 1, 2, 2, 3, 3])]), splitter);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, [1]);
  assert.ok(splitter.isPaused);
  splitter.resume();
  await done;
  assert.deepEqual(seen, [1, 2, 3]);
});
