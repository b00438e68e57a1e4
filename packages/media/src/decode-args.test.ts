import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDecodeArgs, decodeArgv, frameBytes, parseSourceUrl } from './index.js';

const file = parseSourceUrl('/media/a.mp4');

test('a file read as fast as possible: no -re, no loop, scale then BGR24 on stdout', () => {
  const args = buildDecodeArgs(file, { width: 640, height: 360 });
  assert.equal(args.input, 'file:/media/a.mp4');
  assert.deepEqual(args.inputOptions, [
    '-nostdin',
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'file',
  ]);
  assert.deepEqual(args.outputOptions, [
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    'scale=640:360',
    '-fps_mode',
    'passthrough',
    '-pix_fmt',
    'bgr24',
    '-f',
    'rawvideo',
  ]);
  assert.equal(decodeArgv(args).at(-1), 'pipe:1');
  assert.equal(frameBytes(640, 360), 640 * 360 * 3);
});

test('realtime and loop add -re and -stream_loop -1 before the input', () => {
  const argv = decodeArgv(
    buildDecodeArgs(file, { width: 8, height: 8, realtime: true, loop: true }),
  );
  const i = argv.indexOf('-i');
  assert.ok(argv.indexOf('-re') >= 0 && argv.indexOf('-re') < i);
  const loop = argv.indexOf('-stream_loop');
  assert.ok(loop >= 0 && loop < i);
  assert.equal(argv[loop + 1], '-1');
});

test('fps sampling comes before scaling, and both before the BGR24 conversion', () => {
  const { outputOptions } = buildDecodeArgs(file, { width: 416, height: 416, sampleFps: 5 });
  const vf = outputOptions[outputOptions.indexOf('-vf') + 1];
  assert.equal(vf, 'fps=5,scale=416:416');
  assert.ok(outputOptions.indexOf('-vf') < outputOptions.indexOf('-pix_fmt'));
  const fractional = buildDecodeArgs(file, { width: 8, height: 8, sampleFps: 2.5 });
  assert.ok(fractional.outputOptions.includes('fps=2.5,scale=8:8'));
});

test('rtsp: transport, socket timeout in microseconds and a protocol whitelist', () => {
  const rtsp = parseSourceUrl('rtsp://cam/1');
  const args = buildDecodeArgs(rtsp, {
    width: 8,
    height: 8,
    rtspTransport: 'udp',
    socketTimeoutMs: 5000,
    realtime: true,
    loop: true,
  });
  const opts = args.inputOptions;
  assert.equal(opts[opts.indexOf('-rtsp_transport') + 1], 'udp');
  assert.equal(opts[opts.indexOf('-timeout') + 1], '5000000');
  assert.equal(opts[opts.indexOf('-protocol_whitelist') + 1], 'rtsp,rtp,tcp,udp');
  // -re and -stream_loop are file options: a camera is live already.
  assert.ok(!opts.includes('-re') && !opts.includes('-stream_loop'));
  assert.equal(args.input, 'rtsp://cam/1');

  const tls = buildDecodeArgs(parseSourceUrl('rtsps://cam/1'), { width: 8, height: 8 });
  const t = tls.inputOptions;
  assert.equal(t[t.indexOf('-rtsp_transport') + 1], 'tcp');
  assert.equal(t[t.indexOf('-protocol_whitelist') + 1], 'rtsp,rtp,tcp,udp,tls');
});

test('a duration limit and decoder threads are passed through; bad sizes are refused', () => {
  const args = buildDecodeArgs(file, { width: 8, height: 8, maxDurationMs: 1500, threads: 2 });
  assert.equal(args.outputOptions[args.outputOptions.indexOf('-t') + 1], '1.5');
  assert.equal(args.inputOptions[args.inputOptions.indexOf('-threads') + 1], '2');
  assert.throws(() => buildDecodeArgs(file, { width: 0, height: 8 }), RangeError);
  assert.throws(() => buildDecodeArgs(file, { width: 7.5, height: 8 }), RangeError);
});

test('every kind gets its own protocol whitelist; none allows file:, concat: or subfile:', () => {
  const opts = (url: string, extra: { realtime?: boolean } = {}): string[] =>
    buildDecodeArgs(parseSourceUrl(url, { allowDevices: true }), {
      width: 8,
      height: 8,
      socketTimeoutMs: 3000,
      ...extra,
    }).inputOptions;
  const whitelist = (o: string[]): string => o[o.indexOf('-protocol_whitelist') + 1] ?? '';
  const http = opts('http://cam/video.mjpg', { realtime: true });
  assert.equal(whitelist(http), 'http,https,tcp,tls');
  assert.equal(http[http.indexOf('-rw_timeout') + 1], '3000000');
  assert.ok(http.includes('-re'));
  const hls = opts('https://cdn/live.m3u8');
  assert.equal(whitelist(hls), 'http,https,tcp,tls,crypto');
  assert.equal(hls[hls.indexOf('-f') + 1], 'hls');
  const cam = opts('v4l2:///dev/video0?size=640x480&fps=15&format=yuyv422');
  assert.deepEqual(cam.slice(cam.indexOf('-protocol_whitelist')), [
    '-protocol_whitelist',
    'file',
    '-f',
    'v4l2',
    '-video_size',
    '640x480',
    '-framerate',
    '15',
    '-input_format',
    'yuyv422',
  ]);
  for (const o of [http, hls, opts('rtsp://cam/1')]) {
    assert.doesNotMatch(whitelist(o), /file|concat|subfile|pipe|data/);
  }
  // ONVIF has no stream of its own until resolveSource asked the camera.
  assert.throws(
    () => opts('onvif://admin:pw@cam/'),
    (e: Error) => /must be resolved/.test(e.message) && !e.message.includes(':pw@'),
  );
});
