import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { h264NalStarts, isResumePoint } from './h264.js';
import { parseRtpHeader } from './rtp.js';
import { RtspServer } from './server.js';
import { decode, probe, publish, waitFor } from './testing/ffmpeg.js';
import type { Running } from './testing/ffmpeg.js';
import { RawRtspClient } from './testing/raw-client.js';
import { readTcp } from './testing/synthetic-clients.js';

// Real ffmpeg publishing and reading over TCP interleaved; one server and publisher for the file.
let server: RtspServer;
let port: number;
let publisher: Running;
const url = (path: string): string => `rtsp://127.0.0.1:${port}/${path}`;
const ready = (path: string): boolean => server.paths().some((p) => p.path === path && p.ready);

before(async () => {
  server = new RtspServer({ port: 0 });
  port = await server.start();
  publisher = publish(url('cam1'), 'tcp');
  await waitFor(() => ready('cam1'), 10_000, 'ffmpeg to publish cam1');
});

after(async () => {
  publisher.kill();
  await server.stop();
});

test('ffprobe over TCP sees the published H.264 768x576 stream', async () => {
  const streams = await probe(url('cam1'), 'tcp');
  assert.equal(streams.length, 1);
  assert.equal(streams[0]?.codec_name, 'h264');
  assert.equal(streams[0]?.width, 768);
  assert.equal(streams[0]?.height, 576);
  assert.equal(server.paths()[0]?.publisherTransport, 'tcp');
});

test('an ffmpeg reader over TCP decodes 30 frames without errors', async () => {
  const r = await decode(url('cam1'), 'tcp', 30);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.frames, 30);
  assert.deepEqual(r.problems, []);
});

test('a reader joining mid-stream gets a decodable keyframe within 1 s (cached GOP)', async () => {
  // Join at a point unrelated to the GOP boundaries (GOP = 1 s at 10 fps).
  await new Promise((r) => setTimeout(r, 350));
  let firstAt = 0;
  const t0 = Date.now();
  const r = await readTcp(port, 'cam1');
  const playedAt = Date.now();
  r.client.onFrame = (f, at) => {
    if (f.channel === 0 && firstAt === 0) firstAt = at;
  };
  if (r.client.frames.some((f) => f.channel === 0)) firstAt = playedAt;
  await r.client.until(() => r.client.frames.some((f) => f.channel === 0), 1000);
  const first = r.client.frames.find((f) => f.channel === 0);
  assert.ok(first);
  const h = parseRtpHeader(first.payload);
  assert.ok(h);
  assert.ok(
    isResumePoint(h264NalStarts(first.payload.subarray(h.payloadOffset))),
    'first video packet starts an SPS or IDR',
  );
  assert.ok(firstAt - t0 < 1000, `first packet after ${firstAt - t0} ms`);
  r.client.close();

  const t1 = Date.now();
  const late = await decode(url('cam1'), 'tcp', 5);
  assert.equal(late.frames, 5);
  assert.deepEqual(late.problems, [], 'the decoder started on a keyframe');
  // Five frames at 10 fps live would take 0.5 s after the next keyframe; the cache has them now.
  assert.ok(Date.now() - t1 < 3000);
});

test('malformed requests are answered or cut off while an ffmpeg reader keeps decoding', async () => {
  const reading = decode(url('cam1'), 'tcp', 40);
  await new Promise((r) => setTimeout(r, 500));

  const garbage = await RawRtspClient.connect(port);
  garbage.write('GARBAGE\x00\x7f\r\n\r\n');
  assert.equal((await garbage.nextResponse(0)).status, 400);
  assert.ok(await garbage.waitClosed(3000));

  const huge = await RawRtspClient.connect(port);
  huge.write(
    `DESCRIBE ${url('cam1')} RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${'p'.repeat(100_000)}\r\n\r\n`,
  );
  assert.equal((await huge.nextResponse(0)).status, 400);
  assert.ok(await huge.waitClosed(3000));

  const bad = await RawRtspClient.connect(port);
  bad.write(`DESCRIBE ${url('cam1')} RTSP/1.0\r\nCSeq: one\r\n\r\n`);
  assert.equal((await bad.nextResponse(0)).status, 400);
  bad.write(`$\x05\x00\x03abcDESCRIBE ${url('cam1')} RTSP/1.0\r\nCSeq: 2\r\n\r\n`);
  assert.equal((await bad.nextResponse(1)).status, 200, 'same connection still usable');
  bad.close();

  const r = await reading;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.frames, 40);
  assert.deepEqual(r.problems, []);
});

test('when the publisher dies readers end and the path can be published again', async () => {
  const raw = await readTcp(port, 'cam1');
  const reader = decode(url('cam1'), 'tcp', 10_000, 30_000);
  await waitFor(() => server.paths()[0]?.readers === 2, 5000, 'two readers');
  const killedAt = Date.now();
  publisher.kill('SIGKILL');
  assert.ok(await raw.client.waitClosed(3000), 'raw reader closed');
  const r = await reader;
  assert.ok(Date.now() - killedAt < 5000, 'ffmpeg reader ended promptly');
  assert.ok(r.frames > 0 && r.frames < 10_000);
  await waitFor(() => server.paths().length === 0, 2000, 'path freed');

  publisher = publish(url('cam1'), 'tcp');
  await waitFor(() => ready('cam1'), 10_000, 'ffmpeg to publish cam1 again');
  const streams = await probe(url('cam1'), 'tcp');
  assert.equal(streams[0]?.codec_name, 'h264');
});
