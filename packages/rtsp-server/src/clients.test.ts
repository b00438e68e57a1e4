import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { RtspServer } from './server.js';
import { PROBLEM, SAMPLE_FPS, decodeFor, publish, run, waitFor } from './testing/ffmpeg.js';
import type { Finished, Running, WindowResult } from './testing/ffmpeg.js';

// Real, independent clients against one looping ffmpeg publisher (TCP), all in one window so the
// file takes about WINDOW_S: an ffmpeg reader over TCP and one over UDP for the whole window,
// eight simultaneous ffmpeg viewers over TCP, and GStreamer's rtspsrc.
const WINDOW_S = 20;
const VIEWERS = 8;
const VIEWER_S = 10;
const GST_BUFFERS = 50;
const MIN_SHARE = 0.95;

let server: RtspServer;
let port: number;
let publisher: Running;
let tcpReader: Promise<WindowResult>;
let udpReader: Promise<WindowResult>;
let viewers: Promise<WindowResult[]>;
let gst: Promise<Finished & { decoder: string }>;
let peakReaders = 0;
let peakTimer: NodeJS.Timeout | undefined;

const url = (path: string): string => `rtsp://127.0.0.1:${port}/${path}`;

const installed = (cmd: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** GStreamer with the libav H.264 decoder when installed, else depayload + parse only. */
function gstreamer(location: string): Promise<Finished & { decoder: string }> {
  if (!installed('gst-launch-1.0')) {
    return Promise.resolve({
      code: null,
      signal: null,
      stdout: '',
      stderr: 'gst-launch-1.0 is not installed (scripts/setup.sh installs gstreamer1.0-tools)',
      decoder: 'none',
    });
  }
  return run('gst-inspect-1.0', ['avdec_h264'], 10_000).done.then((inspect) => {
    const decoder = inspect.code === 0 ? 'avdec_h264' : 'h264parse';
    const r = run(
      'gst-launch-1.0',
      [
        ...['-q', 'rtspsrc', `location=${location}`, 'protocols=tcp', 'latency=200'],
        ...['!', 'rtph264depay', '!', decoder, '!', 'fakesink', `num-buffers=${GST_BUFFERS}`],
      ],
      30_000,
    );
    return r.done.then((f) => ({ ...f, decoder }));
  });
}

/** Fewest frames a reader of `seconds` of a SAMPLE_FPS stream may decode. */
const minFrames = (seconds: number): number => Math.floor(MIN_SHARE * SAMPLE_FPS * seconds);

before(async () => {
  server = new RtspServer({ port: 0 });
  port = await server.start();
  publisher = publish(url('cam'), 'tcp', 120_000, true);
  await waitFor(() => server.paths().some((p) => p.ready), 15_000, 'ffmpeg to publish');
  peakTimer = setInterval(() => {
    peakReaders = Math.max(peakReaders, server.paths()[0]?.readers ?? 0);
  }, 100);
  tcpReader = decodeFor(url('cam'), 'tcp', WINDOW_S);
  udpReader = decodeFor(url('cam'), 'udp', WINDOW_S);
  viewers = Promise.all(
    Array.from({ length: VIEWERS }, () => decodeFor(url('cam'), 'tcp', VIEWER_S)),
  );
  gst = gstreamer(url('cam'));
});

after(async () => {
  if (peakTimer) clearInterval(peakTimer);
  publisher.kill();
  await server.stop();
});

function assertWindow(r: WindowResult, seconds: number, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  assert.deepEqual(r.problems, [], `${what}: decoder complaints`);
  assert.ok(
    r.frames >= minFrames(seconds),
    `${what}: ${r.frames} frames of ${SAMPLE_FPS * seconds} published in ${seconds} s`,
  );
  assert.ok(r.frames <= SAMPLE_FPS * seconds + 1, `${what}: ${r.frames} frames is too many`);
  // Real time, not a replay: at most the cached GOP (1 s) arrives ahead of the live stream.
  assert.ok(r.wallMs >= (seconds - 1.5) * 1000, `${what}: took only ${r.wallMs} ms`);
  return `${what}: ${r.frames}/${SAMPLE_FPS * seconds} frames in ${r.wallMs} ms`;
}

test(`an ffmpeg reader over TCP decodes >= 95 % of the frames of ${WINDOW_S} s`, async (t) => {
  t.diagnostic(assertWindow(await tcpReader, WINDOW_S, 'tcp reader'));
});

test(`an ffmpeg reader over UDP decodes >= 95 % of the frames of ${WINDOW_S} s`, async (t) => {
  t.diagnostic(assertWindow(await udpReader, WINDOW_S, 'udp reader'));
});

test(`${VIEWERS} simultaneous viewers over TCP all decode`, async (t) => {
  const all = await viewers;
  all.forEach((r, i) => t.diagnostic(assertWindow(r, VIEWER_S, `viewer ${i}`)));
  // The eight viewers, the two window readers and GStreamer were connected at once.
  assert.ok(peakReaders >= VIEWERS + 2, `at most ${peakReaders} readers at once`);
});

test('GStreamer rtspsrc (an independent RTSP client) plays the stream', async (t) => {
  const r = await gst;
  assert.equal(r.code, 0, `gst-launch (${r.decoder}): ${r.stderr}`);
  t.diagnostic(`gst-launch rtspsrc ! rtph264depay ! ${r.decoder}: ${GST_BUFFERS} buffers, exit 0`);
  const complaints = r.stderr
    .split('\n')
    .filter((l) => /ERROR|CRITICAL/.test(l) || PROBLEM.test(l));
  assert.deepEqual(complaints, [], `gst-launch (${r.decoder})`);
});

test('the server dropped nothing and saw only valid RTP during the window', async () => {
  await Promise.all([tcpReader, udpReader, viewers, gst]);
  const stats = server.stats();
  assert.equal(stats.packetsDropped, 0);
  assert.equal(stats.invalidPackets, 0);
  assert.equal(stats.stalledReaders, 0);
  assert.ok(stats.bytesSent > stats.bytesReceived * 5, 'every reader was sent the stream');
});
