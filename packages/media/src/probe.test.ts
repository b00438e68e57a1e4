import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceInvalidError, SourceUnreachableError } from '@sie/errors';
import { resolveSharedAsset } from '@sie/infra';
import {
  classifyFfmpegFailure,
  ffmpegErrorReason,
  parseRate,
  parseSourceUrl,
  probeSource,
} from './index.js';

const VTEST = resolveSharedAsset('media/vtest.avi');
const tmp = mkdtempSync(join(tmpdir(), 'sie-probe-'));

test('probes the sample video: codec, size, rate and length', async () => {
  const info = await probeSource(VTEST, 10_000);
  assert.deepEqual(info, {
    codec: 'msmpeg4v3',
    width: 768,
    height: 576,
    fps: 10,
    durationMs: 79_500,
  });
  assert.deepEqual(await probeSource(`file://${VTEST}`, 10_000), info);
});

test('a missing file is unreachable: "No such file or directory"', async () => {
  await assert.rejects(
    probeSource(join(tmp, 'missing.mp4'), 5000),
    (e: unknown) =>
      e instanceof SourceUnreachableError && /No such file or directory/.test(e.message),
  );
});

test('a text file is not a video', async () => {
  const text = join(tmp, 'notes.txt');
  writeFileSync(text, 'this is not a video\n'.repeat(50));
  await assert.rejects(
    probeSource(text, 5000),
    (e: unknown) => e instanceof SourceInvalidError && /^not a video: /.test(e.message),
  );
  const dir = tmp;
  await assert.rejects(probeSource(dir, 5000), SourceInvalidError);
});

test('a camera port nobody listens on is unreachable: "Connection refused"', async () => {
  await assert.rejects(
    probeSource('rtsp://127.0.0.1:1/stream', 5000),
    (e: unknown) => e instanceof SourceUnreachableError && /Connection refused/.test(e.message),
  );
});

test('ffmpeg stderr becomes a short reason without the URL prefix or password', () => {
  const src = parseSourceUrl('rtsp://u:pw@127.0.0.1:1/x');
  const stderr =
    'ffprobe exited with code 1\n[tcp @ 0x1] Connection to tcp://127.0.0.1:1 failed: Connection refused\nrtsp://u:pw@127.0.0.1:1/x: Connection refused\n';
  assert.equal(ffmpegErrorReason(stderr, src), 'Connection refused');
  const err = classifyFfmpegFailure(stderr, src);
  assert.equal(err.code, 'source_unreachable');
  assert.ok(!err.message.includes('pw'));
  const file = parseSourceUrl('/m/a.txt');
  const invalid = classifyFfmpegFailure(
    'file:/m/a.txt: Invalid data found when processing input',
    file,
  );
  assert.equal(invalid.code, 'source_invalid');
  assert.equal(invalid.message, 'not a video: Invalid data found when processing input');
  assert.equal(parseRate('30000/1001').toFixed(2), '29.97');
  assert.equal(parseRate('0/0'), 0);
});
