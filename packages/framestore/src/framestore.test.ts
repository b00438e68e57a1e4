import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PixelFormat } from '@sie/contracts';
import { FrameOverwrittenError, FrameStoreError } from '@sie/errors';
import { FrameStoreReader, FrameStoreReaders, FrameStoreWriter } from './index.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const dir = (): string => mkdtempSync(join(tmpdir(), 'sie-fs-'));

function frame(data: Uint8Array) {
  return {
    data,
    width: 4,
    height: 2,
    pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
    captureTimeMs: Date.now(),
    ptsMs: 0,
  };
}

test('a reader gets exactly the bytes written, by reference', () => {
  const d = dir();
  const w = FrameStoreWriter.create({
    dir: d,
    store: 'run-a',
    runId: 'a',
    slotCount: 4,
    slotBytes: 24,
  });
  const r = FrameStoreReader.open(d, 'run-a');
  for (let i = 0; i < 10; i++) {
    const px = randomBytes(24);
    const ref = w.write(frame(px));
    assert.equal(ref.seq, i + 1);
    assert.equal(ref.slot, i % 4);
    assert.equal(sha(r.read(ref)), sha(px));
  }
  w.close(true);
  r.close();
});

test('a reader of an overwritten slot is told so, not given wrong pixels', () => {
  const d = dir();
  const w = FrameStoreWriter.create({
    dir: d,
    store: 'run-b',
    runId: 'b',
    slotCount: 2,
    slotBytes: 24,
  });
  const r = FrameStoreReader.open(d, 'run-b');
  const old = w.write(frame(randomBytes(24)));
  w.write(frame(randomBytes(24)));
  w.write(frame(randomBytes(24))); // seq 3 lands in seq 1's slot
  assert.throws(
    () => r.read(old),
    (e: unknown) => e instanceof FrameOverwrittenError && e.wantedSeq === 1 && e.foundSeq === 3,
  );
  w.close(true);
  r.close();
});

test('oversized frames, forged slots and missing stores are refused with a clear error', () => {
  const d = dir();
  const w = FrameStoreWriter.create({
    dir: d,
    store: 'run-c',
    runId: 'c',
    slotCount: 2,
    slotBytes: 8,
  });
  assert.throws(() => w.write(frame(randomBytes(9))), FrameStoreError);
  const ref = w.write(frame(randomBytes(8)));
  const r = FrameStoreReader.open(d, 'run-c');
  assert.throws(() => r.read({ ...ref, slot: 1 }), FrameStoreError);
  assert.throws(() => FrameStoreReader.open(d, 'run-missing'), FrameStoreError);
  assert.throws(() => FrameStoreReader.open(d, '../etc'), RangeError);
  w.close(true);
  r.close();
});

test('the reader cache reopens a ring that a restarted writer recreated', () => {
  const d = dir();
  const readers = new FrameStoreReaders(d);
  const w1 = FrameStoreWriter.create({
    dir: d,
    store: 'run-d',
    runId: 'd',
    slotCount: 2,
    slotBytes: 8,
  });
  readers.read(w1.write(frame(randomBytes(8))));
  w1.close();
  const w2 = FrameStoreWriter.create({
    dir: d,
    store: 'run-d',
    runId: 'd',
    slotCount: 2,
    slotBytes: 8,
  });
  w2.write(frame(randomBytes(8)));
  const px = randomBytes(8);
  const ref = w2.write(frame(px));
  assert.equal(sha(readers.read(ref)), sha(px));
  readers.closeAll();
  w2.close(true);
});

test('a paired ring takes the seq of the frame it copies: same slot, gaps allowed, never backwards', () => {
  const d = dir();
  const opts = { dir: d, runId: 'p', slotCount: 4, slotBytes: 24 };
  const main = FrameStoreWriter.create({ ...opts, store: 'run-p' });
  const copies = FrameStoreWriter.create({ ...opts, store: 'run-p-model' });
  const r = FrameStoreReader.open(d, 'run-p-model');
  const a = main.write(frame(randomBytes(24)));
  main.write(frame(randomBytes(24))); // its copy was never written (the decoder died)
  const c = main.write(frame(randomBytes(24)));
  const px = randomBytes(24);
  const copy = copies.write(frame(px), c.seq);
  assert.deepEqual([copy.seq, copy.slot], [c.seq, c.slot]);
  assert.equal(sha(r.read(copy)), sha(px));
  assert.throws(() => copies.write(frame(px), a.seq), RangeError);
  assert.throws(() => copies.write(frame(px), c.seq), RangeError);
  main.close(true);
  copies.close(true);
  r.close();
});
