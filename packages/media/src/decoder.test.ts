import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSharedAsset } from '@sie/infra';
import { parseSourceUrl, startDecoder } from './index.js';

const VTEST = parseSourceUrl(resolveSharedAsset('media/vtest.avi'));

const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('decodes every frame of a file as exactly W×H×3 bytes, then reports a clean exit', async () => {
  const sizes = new Set<number>();
  let count = 0;
  let firstPixels = '';
  const decoder = startDecoder({
    source: VTEST,
    width: 768,
    height: 576,
    onFrame: (frame, index) => {
      assert.equal(index, count);
      sizes.add(frame.byteLength);
      if (count === 0) firstPixels = frame.subarray(0, 12).toString('hex');
      count++;
    },
  });
  const exit = await decoder.exited;
  assert.equal(count, 795);
  assert.deepEqual([...sizes], [768 * 576 * 3]);
  assert.notEqual(firstPixels, '0'.repeat(24));
  assert.deepEqual(
    {
      code: exit.code,
      frames: exit.framesEmitted,
      partial: exit.partialBytes,
      stopped: exit.stopped,
    },
    { code: 0, frames: 795, partial: 0, stopped: false },
  );
});

test('pause stops frames (ffmpeg blocks), resume continues without losing any', async () => {
  let count = 0;
  const decoder = startDecoder({
    source: VTEST,
    // Frames larger than the pipe buffers, so ffmpeg really has to wait.
    width: 768,
    height: 576,
    maxDurationMs: 3000,
    onFrame: () => {
      count++;
      if (count === 5) decoder.pause();
    },
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(count, 5);
  assert.ok(alive(decoder.pid), 'ffmpeg waits while paused');
  decoder.resume();
  const exit = await decoder.exited;
  assert.equal(count, 30);
  assert.equal(exit.code, 0);
});

test('stop terminates a looping realtime decoder and reports it', async () => {
  let count = 0;
  const decoder = startDecoder({
    source: VTEST,
    width: 32,
    height: 24,
    realtime: true,
    loop: true,
    onFrame: () => count++,
  });
  await new Promise((r) => setTimeout(r, 600));
  const pid = decoder.pid;
  assert.ok(alive(pid));
  const exit = await decoder.stop();
  assert.ok(exit.stopped);
  assert.ok(count >= 2, `frames before stop: ${count}`);
  assert.ok(!alive(pid));
});

test('a failing input exits non-zero with the reason in the stderr tail', async () => {
  const decoder = startDecoder({
    source: parseSourceUrl('/nonexistent/video.mp4'),
    width: 8,
    height: 8,
    onFrame: () => assert.fail('no frames expected'),
  });
  const exit = await decoder.exited;
  assert.notEqual(exit.code, 0);
  assert.match(exit.stderrTail, /No such file or directory/);
  assert.equal(exit.framesEmitted, 0);
});
