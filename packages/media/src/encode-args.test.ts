import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEncodeArgv, buildJpegStreamArgv } from './encode-args.js';

const base = {
  width: 1280,
  height: 720,
  fps: 10,
  gopFrames: 20,
  outputUrl: 'rtsp://127.0.0.1:8554/run-1',
} as const;

test('libx264: raw BGR24 on stdin, ultrafast/zerolatency, fixed GOP, RTSP over TCP', () => {
  const argv = buildEncodeArgv({ ...base, encoder: 'libx264' });
  const s = argv.join(' ');
  // Stamped as read, kept as stamped: frames go out when render hands them over.
  assert.match(
    s,
    /-use_wallclock_as_timestamps 1 -f rawvideo -pix_fmt bgr24 -s 1280x720 -framerate 10 -i pipe:0/,
  );
  assert.match(s, /-fps_mode passthrough -f rtsp/);
  assert.match(s, /-c:v libx264 -preset ultrafast -tune zerolatency/);
  assert.match(s, /-g 20 -keyint_min 20/);
  assert.match(s, /-bf 0/);
  assert.deepEqual(argv.slice(-4), ['rtsp', '-rtsp_transport', 'tcp', base.outputUrl]);
});

test('h264_nvenc: low-latency preset; a bitrate sets the rate control', () => {
  const s = buildEncodeArgv({ ...base, encoder: 'h264_nvenc', bitrateKbps: 2000 }).join(' ');
  assert.match(s, /-c:v h264_nvenc -preset p1 -tune ll -zerolatency 1/);
  assert.match(s, /-b:v 2000k -maxrate 2000k -bufsize 4000k/);
});

test('bad sizes, rates and GOPs are refused', () => {
  assert.throws(() => buildEncodeArgv({ ...base, encoder: 'libx264', width: 0 }), RangeError);
  assert.throws(() => buildEncodeArgv({ ...base, encoder: 'libx264', fps: 0 }), RangeError);
  assert.throws(() => buildEncodeArgv({ ...base, encoder: 'libx264', gopFrames: 0 }), RangeError);
});

test('JPEG stream: mjpeg images back to back on stdout, quality clamped', () => {
  const argv = buildJpegStreamArgv({ width: 640, height: 360, fps: 5, quality: 99 });
  const s = argv.join(' ');
  assert.match(s, /-s 640x360 -framerate 5 -i pipe:0/);
  assert.match(s, /-c:v mjpeg -q:v 31/);
  assert.deepEqual(argv.slice(-3), ['-f', 'image2pipe', 'pipe:1']);
});
