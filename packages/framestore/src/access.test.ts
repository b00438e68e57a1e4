import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { PixelFormat, type FrameRef } from '@sie/contracts';
import { FrameOverwrittenError } from '@sie/errors';
import { FrameStoreReader, FrameStoreReaders, FrameStoreWriter } from './index.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const dir = (): string => mkdtempSync(join(tmpdir(), 'sie-fs-access-'));

/** Whether this machine can map rings: the optional module was built and the CPU is x86-64. */
function canMap(): boolean {
  try {
    createRequire(import.meta.url)('@riaskov/mmap-io');
  } catch {
    return false;
  }
  return process.arch === 'x64';
}

function frame(data: Uint8Array, width = 4, height = 2) {
  return {
    data,
    width,
    height,
    pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
    captureTimeMs: Date.now(),
    ptsMs: 0,
  };
}

test('auto maps rings where the native module and x86-64 allow, and read never does', () => {
  const d = dir();
  const w = FrameStoreWriter.create({
    dir: d,
    store: 'auto',
    runId: 'a',
    slotCount: 2,
    slotBytes: 24,
  });
  const r = FrameStoreReader.open(d, 'auto');
  const expected = canMap() ? 'mmap' : 'read';
  assert.equal(w.access, expected);
  assert.equal(r.access, expected);
  const pr = FrameStoreReader.open(d, 'auto', 'read');
  assert.equal(pr.access, 'read');
  w.close(true);
  r.close();
  pr.close();
});

for (const writeAccess of ['read', 'mmap'] as const) {
  for (const readAccess of ['read', 'mmap'] as const) {
    const skip = (writeAccess === 'mmap' || readAccess === 'mmap') && !canMap();
    test(
      `a ${writeAccess} writer and a ${readAccess} reader agree on every byte and on overwrites`,
      { skip: skip && 'no @riaskov/mmap-io or not x86-64: only the read path exists here' },
      () => {
        const d = dir();
        const store = `run-${writeAccess}-${readAccess}`;
        const w = FrameStoreWriter.create({
          dir: d,
          store,
          runId: 'x',
          slotCount: 3,
          slotBytes: 24,
          access: writeAccess,
        });
        const r = FrameStoreReader.open(d, store, readAccess);
        const refs: { ref: FrameRef; sum: string }[] = [];
        for (let i = 0; i < 9; i++) {
          const px = randomBytes(i % 2 === 0 ? 24 : 12);
          const ref = w.write(frame(px, i % 2 === 0 ? 4 : 2));
          refs.push({ ref, sum: sha(px) });
          assert.equal(sha(r.read(ref)), sha(px));
          assert.equal(
            r.withFrame(ref, (p) => sha(p)),
            sha(px),
          );
        }
        // The three newest are readable, the older ones were overwritten and say so.
        for (const [i, { ref, sum }] of refs.entries()) {
          if (i >= 6) assert.equal(sha(r.read(ref)), sum);
          else assert.throws(() => r.read(ref), FrameOverwrittenError);
        }
        w.close(true);
        r.close();
      },
    );
  }
}

test(
  'a mapped reader lends the slot itself, and a write during the loan discards the result',
  { skip: !canMap() && 'no @riaskov/mmap-io or not x86-64' },
  () => {
    const d = dir();
    const w = FrameStoreWriter.create({
      dir: d,
      store: 'loan',
      runId: 'l',
      slotCount: 2,
      slotBytes: 24,
    });
    const r = FrameStoreReader.open(d, 'loan', 'mmap');
    const first = w.write(frame(Buffer.alloc(24, 1)));
    // No copy: the view sees a later write into the same slot.
    let seenAfterWrite = -1;
    assert.throws(
      () =>
        r.withFrame(first, (px) => {
          w.write(frame(Buffer.alloc(24, 2)));
          w.write(frame(Buffer.alloc(24, 3))); // seq 3 lands in seq 1's slot
          seenAfterWrite = px[0] ?? -1;
          return 'computed from torn pixels';
        }),
      FrameOverwrittenError,
    );
    assert.equal(seenAfterWrite, 3);
    // The read path lends a copy in the scratch buffer it was given.
    const scratch = Buffer.alloc(64);
    const pr = FrameStoreReader.open(d, 'loan', 'read');
    const latest = w.write(frame(Buffer.alloc(24, 4)));
    pr.withFrame(latest, (px) => assert.equal(px.buffer, scratch.buffer), scratch);
    // The cache reuses one scratch buffer for rings it reads with pread.
    const readers = new FrameStoreReaders(d, 'read');
    const a = readers.withFrame(latest, (px) => px.buffer);
    const b = readers.withFrame(latest, (px) => px.buffer);
    assert.equal(a, b);
    readers.closeAll();
    w.close(true);
    r.close();
    pr.close();
  },
);

// A writer thread on the other core writes frames whose every byte is (seq mod 251) as fast as
// it can into a 2-slot mapped ring; this thread reads the newest ones through the mapping, in
// place. Every frame the reader accepts must be whole; torn ones must be refused.
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { FrameStoreWriter } = await import(workerData.framestore);
  const w = FrameStoreWriter.create({ dir: workerData.dir, store: 'race', runId: 'r', slotCount: 2,
    slotBytes: workerData.bytes, access: workerData.access });
  const latest = new Int32Array(workerData.latest);
  const px = Buffer.alloc(workerData.bytes);
  const until = Date.now() + workerData.ms;
  while (Date.now() < until) {
    const seq = w.lastSeq + 1;
    px.fill(seq % 251);
    w.write({ data: px, width: workerData.bytes / 3, height: 1, pixelFormat: 1, captureTimeMs: 0, ptsMs: 0 });
    Atomics.store(latest, 0, seq);
  }
  w.close(false);
  parentPort.postMessage('done');
})();
`;

for (const access of ['read', 'mmap'] as const) {
  test(
    `readers racing a writer on another thread never accept a torn frame (${access})`,
    { skip: access === 'mmap' && !canMap() && 'no @riaskov/mmap-io or not x86-64' },
    async () => {
      const d = dir();
      const bytes = 3 * 64 * 1024;
      const latest = new SharedArrayBuffer(4);
      const seqNow = new Int32Array(latest);
      const framestore = new URL('./index.js', import.meta.url).href;
      const worker = new Worker(WRITER, {
        eval: true,
        workerData: { dir: d, bytes, access, latest, ms: 1500, framestore },
      });
      const done = new Promise<void>((resolve, reject) => {
        worker.on('message', (m) => m === 'done' && resolve());
        worker.on('error', reject);
      });
      while (Atomics.load(seqNow, 0) === 0) await new Promise((r) => setImmediate(r));
      const reader = FrameStoreReader.open(d, 'race', access);
      let whole = 0;
      let refused = 0;
      const deadline = Date.now() + 1200;
      while (Date.now() < deadline) {
        const seq = Atomics.load(seqNow, 0);
        const ref: FrameRef = {
          runId: 'r',
          seq,
          slot: (seq - 1) % 2,
          captureTimeMs: 0,
          ptsMs: 0,
          width: bytes / 3,
          height: 1,
          pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
          store: 'race',
          byteLength: bytes,
          generation: 0,
        };
        try {
          const ok = reader.withFrame(
            ref,
            (px) => {
              const want = seq % 251;
              // Every byte, not a sample: a torn frame differs somewhere in the middle.
              for (let i = 0; i < px.length; i++) if (px[i] !== want) return false;
              return true;
            },
            Buffer.alloc(bytes),
          );
          // A whole check that found a foreign byte must have been refused by the seqlock.
          assert.ok(ok, `frame ${seq} was accepted torn`);
          whole++;
        } catch (err) {
          if (!(err instanceof FrameOverwrittenError)) throw err;
          refused++;
        }
      }
      await done;
      await worker.terminate();
      reader.close();
      assert.ok(whole > 50, `only ${whole} frames read whole`);
      assert.ok(refused > 0, 'the race never happened: no frame was overwritten while read');
    },
  );
}
