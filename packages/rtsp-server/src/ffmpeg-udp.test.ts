import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RtspServer } from './server.js';
import { decode, probe, publish, waitFor } from './testing/ffmpeg.js';
import type { Running } from './testing/ffmpeg.js';

// Real ffmpeg over UDP, and two paths published at once with different transports.
let server: RtspServer;
let port: number;
const publishers: Running[] = [];
const url = (path: string): string => `rtsp://127.0.0.1:${port}/${path}`;
const ready = (path: string): boolean => server.paths().some((p) => p.path === path && p.ready);

before(async () => {
  server = new RtspServer({ port: 0 });
  port = await server.start();
  publishers.push(publish(url('udpcam'), 'udp'), publish(url('tcpcam'), 'tcp'));
  await waitFor(() => ready('udpcam') && ready('tcpcam'), 10_000, 'both publishers');
});

after(async () => {
  for (const p of publishers) p.kill();
  await server.stop();
});

test('ffmpeg publishes over UDP; ffprobe over UDP sees H.264 768x576', async () => {
  const info = server.paths().find((p) => p.path === 'udpcam');
  assert.equal(info?.publisherTransport, 'udp');
  const streams = await probe(url('udpcam'), 'udp');
  assert.equal(streams[0]?.codec_name, 'h264');
  assert.equal(streams[0]?.width, 768);
  assert.equal(streams[0]?.height, 576);
});

test('an ffmpeg reader over UDP decodes 30 frames without errors', async () => {
  const r = await decode(url('udpcam'), 'udp', 30);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.frames, 30);
  assert.deepEqual(r.problems, []);
});

test('two paths at once, every reader/publisher transport combination decodes', async () => {
  const runs = Promise.all([
    decode(url('udpcam'), 'tcp', 30),
    decode(url('udpcam'), 'udp', 30),
    decode(url('tcpcam'), 'udp', 30),
    decode(url('tcpcam'), 'tcp', 30),
  ]);
  await waitFor(
    () => server.paths().every((p) => p.readers === 2),
    5000,
    'two readers on each path',
  );
  const paths = server.paths();
  assert.deepEqual(
    paths.map((p) => [p.path, p.publisherTransport, p.readers]),
    [
      ['tcpcam', 'tcp', 2],
      ['udpcam', 'udp', 2],
    ],
  );
  for (const r of await runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.frames, 30);
    assert.deepEqual(r.problems, []);
  }
  const stats = server.stats();
  assert.equal(stats.packetsDropped, 0);
  assert.equal(stats.invalidPackets, 0);
});
