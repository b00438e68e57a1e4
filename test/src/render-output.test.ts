/**
 * The render service as a real process between the real ingest + inference and sie's RTSP
 * server: vtest.avi (realtime, looped) → detections → Overlays published here (a test-side
 * mapper: one green box per detection plus one fixed magenta box in every overlay) → the render
 * service draws, encodes H.264 and publishes to `rtsp://…/<outputPath>` → real ffprobe/ffmpeg
 * clients read it back.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { get } from 'node:http';
import { after, before, test } from 'node:test';
import { controlSubject, detectionsSubject, overlaysSubject } from '@sie/bus';
import {
  FrameDetections,
  Overlay,
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
  type Shape,
} from '@sie/contracts';
import { findFreePort } from '@sie/infra';
import { RtspServer } from '@sie/rtsp-server';
import { asset, natsUrl } from './support/env.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { startRun } from './support/runs.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

const W = 768;
const H = 576;
const FIXED = { x1: 100, y1: 80, x2: 340, y2: 260 };
const THICK = 6;
const runId = `render-${process.pid}`;
const outputPath = `out/${runId}`;

let node: NodeStack;
let rtsp: RtspServer;
let render: ServiceProcess;
let url: string;
let previewPort: number;
const detectionLatencies: number[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function overlayFor(d: FrameDetections): Overlay {
  const shapes: Shape[] = [
    {
      shape: {
        $case: 'box',
        box: {
          box: FIXED,
          label: 'fixed',
          color: { r: 255, g: 0, b: 255, a: 255 },
          highlight: false,
        },
      },
    },
  ];
  for (const det of d.detections) {
    if (!det.box) continue;
    shapes.push({
      shape: {
        $case: 'box',
        box: {
          box: det.box,
          label: `${det.label} ${det.score.toFixed(2)}`,
          color: { r: 0, g: 255, b: 0, a: 255 },
          highlight: false,
        },
      },
    });
  }
  return { frame: d.frame, shapes };
}

/** Decodes `frames` frames of the output as RGB24 (optionally scaled down). */
function decode(frames: number, scale?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        url,
        '-frames:v',
        String(frames),
        ...(scale ? ['-vf', `scale=${scale}`] : []),
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-',
      ],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 20_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr.toString()}`)) : resolve(stdout),
    );
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

const isMagenta = (f: Buffer, i: number): boolean =>
  f[i]! > 170 && f[i + 1]! < 100 && f[i + 2]! > 170;

before(async () => {
  rtsp = new RtspServer({ host: '127.0.0.1', port: 0 });
  const port = await rtsp.start();
  node = await startNodeStack('render');
  previewPort = await findFreePort();
  render = await startServiceProcess('render', {
    NATS_URL: natsUrl(),
    SIE_NODE_ID: node.nodeId,
    SIE_FRAME_STORE_DIR: node.frameDir,
    SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${port}`,
    SIE_PREVIEW__PORT: String(previewPort),
    SIE_STYLE__BOX_THICKNESS: String(THICK),
  });
  url = `rtsp://127.0.0.1:${port}/${outputPath}`;

  // The test's stand-in for the rules stage: an Overlay for every detections message.
  node.bus.subscribe(detectionsSubject(runId), FrameDetections, (d) => {
    detectionLatencies.push(d.latencyMs);
    node.bus.publish(overlaysSubject(runId), Overlay, overlayFor(d));
  });
  await node.bus.flush();

  const run = {
    runId,
    tenantId: 'test',
    generation: 1,
    outputPath,
    // No outputFps: the output follows the source's rate (vtest.avi: 10 fps).
    pipeline: { modelId: 'yolox', scoreThreshold: 0.3 },
    source: { url: asset('media/vtest.avi'), loop: true, realtime: true, rtspTransport: 'tcp' },
  };
  const started = await node.bus.request(
    controlSubject(node.nodeId, 'render', 'start'),
    StartRunRequest,
    StartRunRequest.fromPartial({ run }),
    StartRunResponse,
    10_000,
  );
  assert.equal(started.accepted, true, JSON.stringify(started.error));
  const ingest = await startRun(node.bus, node.nodeId, {
    runId,
    modelId: 'yolox',
    source: { url: asset('media/vtest.avi'), loop: true, realtime: true },
  });
  assert.equal(ingest.accepted, true, JSON.stringify(ingest.error));
  await waitFor(
    () => rtsp.paths().some((p) => p.ready && p.path.replace(/^\//, '') === outputPath),
    20_000,
    `the render output on ${url}`,
  );
});

after(async () => {
  await render?.stop();
  await node?.stop();
  await rtsp?.stop();
});

test('ffprobe sees H.264 at the run size; decoded frames carry the overlay boxes', async (t) => {
  // Async: the RTSP server runs in this process and must keep answering.
  const probe = JSON.parse(
    await run('ffprobe', [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-show_streams',
      '-of',
      'json',
      url,
    ]),
  ) as {
    streams: Array<{ codec_name: string; width: number; height: number; r_frame_rate: string }>;
  };
  const v = probe.streams[0];
  assert.ok(v, 'a video stream');
  assert.equal(v.codec_name, 'h264');
  assert.equal(v.width, W);
  assert.equal(v.height, H);
  t.diagnostic(`ffprobe: ${v.codec_name} ${v.width}x${v.height} at ${v.r_frame_rate} fps`);

  const raw = await decode(20);
  assert.equal(raw.length, 20 * W * H * 3, 'twenty whole frames');
  const frame = raw.subarray(19 * W * H * 3);

  // Along the middle of each edge of the fixed box (thickness 6), the box colour.
  const samples: Array<[number, number]> = [];
  const mid = Math.floor(THICK / 2);
  for (let x = FIXED.x1 + 20; x < FIXED.x2 - 20; x += 10) {
    samples.push([x, FIXED.y1 + mid], [x, FIXED.y2 - mid - 1]);
  }
  for (let y = FIXED.y1 + 20; y < FIXED.y2 - 20; y += 10) {
    samples.push([FIXED.x1 + mid, y], [FIXED.x2 - mid - 1, y]);
  }
  const hits = samples.filter(([x, y]) => isMagenta(frame, (y * W + x) * 3)).length;
  t.diagnostic(`box colour on ${hits}/${samples.length} edge samples`);
  assert.ok(hits >= samples.length * 0.9, `box colour on only ${hits}/${samples.length} samples`);

  // Far from the box (and its label above it): no box colour at all.
  let far = 0;
  let farTotal = 0;
  for (let y = 0; y < H; y += 2) {
    for (let x = 0; x < W; x += 2) {
      if (x > FIXED.x1 - 40 && x < FIXED.x2 + 40 && y > FIXED.y1 - 60 && y < FIXED.y2 + 40) {
        continue;
      }
      farTotal++;
      if (isMagenta(frame, (y * W + x) * 3)) far++;
    }
  }
  t.diagnostic(`box colour on ${far}/${farTotal} pixels far from the box`);
  assert.ok(far <= farTotal * 0.001, `box colour found far from the box on ${far} pixels`);

  // The detections' green boxes are drawn too (vtest.avi always has people in view).
  let green = 0;
  for (let i = 0; i < frame.length; i += 3) {
    if (frame[i]! < 90 && frame[i + 1]! > 180 && frame[i + 2]! < 90) green++;
  }
  t.diagnostic(`${green} green pixels (detection boxes)`);
  assert.ok(green > 200, `only ${green} green pixels`);
});

test('a viewer joining mid-stream has a decoded frame within 1 s', async (t) => {
  // ffmpeg's default stream analysis alone waits ~2.8 s before the first frame on any live
  // RTSP stream; a low-latency viewer limits it, as players do.
  const times: number[] = [];
  for (const wait of [130, 370, 610]) {
    await sleep(wait); // join at different points of the 1 s GOP
    const t0 = Date.now();
    times.push(
      await new Promise<number>((resolve, reject) => {
        const p = spawn(
          'ffmpeg',
          ['-v', 'error', '-analyzeduration', '100000', '-probesize', '32768'].concat([
            '-rtsp_transport',
            'tcp',
            '-i',
            url,
            '-frames:v',
            '1',
            '-f',
            'rawvideo',
            '-pix_fmt',
            'rgb24',
            '-',
          ]),
          { stdio: ['ignore', 'pipe', 'ignore'] },
        );
        let bytes = 0;
        p.stdout.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes >= W * H * 3) resolve(Date.now() - t0);
        });
        p.once('exit', () => (bytes >= W * H * 3 ? undefined : reject(new Error('no frame'))));
      }),
    );
  }
  t.diagnostic(`first decoded frame after ${times.join(', ')} ms (ffmpeg start included)`);
  assert.ok(Math.max(...times) < 1000, `first frame after ${times.join(', ')} ms`);
});

test('the browser preview streams JPEG frames (multipart/x-mixed-replace)', async () => {
  const { type, jpeg } = await new Promise<{ type: string; jpeg: Buffer }>((resolve, reject) => {
    const req = get(`http://127.0.0.1:${previewPort}/runs/${runId}/preview.mjpeg`, (res) => {
      let buf = Buffer.alloc(0);
      res.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const s = buf.indexOf(Buffer.from([0xff, 0xd8]));
        const e = s >= 0 ? buf.indexOf(Buffer.from([0xff, 0xd9]), s) : -1;
        if (e > 0) {
          resolve({ type: res.headers['content-type'] ?? '', jpeg: buf.subarray(s, e + 2) });
          req.destroy();
        }
      });
    });
    req.on('error', reject);
    setTimeout(() => reject(new Error('no JPEG in 10 s')), 10_000).unref();
  });
  assert.match(type, /^multipart\/x-mixed-replace; boundary=/);
  assert.ok(jpeg.length > 1000);
});

test('source stopped for 5 s: the output keeps going with the slate, then live video resumes', async (t) => {
  const ps = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(node.ingest.child.pid)])
    .toString()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p[1] === 'ffmpeg');
  const decoderPid = Number(ps[0]?.[0]);
  assert.ok(decoderPid > 0, 'the ingest ffmpeg');

  // A viewer that stays connected throughout, 96x72 frames (enough to tell slate from video).
  const fw = 96;
  const fh = 72;
  const frames: Array<{ at: number; slate: boolean }> = [];
  const viewer = spawn(
    'ffmpeg',
    ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-vf', `scale=${fw}:${fh}`].concat([
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ]),
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let pending = Buffer.alloc(0);
  viewer.stdout.on('data', (c: Buffer) => {
    pending = Buffer.concat([pending, c]);
    while (pending.length >= fw * fh * 3) {
      const f = pending.subarray(0, fw * fh * 3);
      pending = pending.subarray(fw * fh * 3);
      let dark = 0;
      for (let i = 0; i < f.length; i += 3) {
        if (f[i]! < 50 && f[i + 1]! < 50 && f[i + 2]! < 55) dark++;
      }
      frames.push({ at: Date.now(), slate: dark > fw * fh * 0.75 });
    }
  });
  try {
    await waitFor(() => frames.length >= 10, 10_000, 'the viewer');
    const stoppedAt = Date.now();
    process.kill(decoderPid, 'SIGSTOP');
    await sleep(5000);
    process.kill(decoderPid, 'SIGCONT');
    const resumedAt = Date.now();
    await waitFor(
      () => frames.some((f) => f.at > resumedAt && !f.slate),
      10_000,
      'live video after the source came back',
    );
    await sleep(1000);

    const during = frames.filter((f) => f.at > stoppedAt && f.at <= resumedAt);
    const slate = during.filter((f) => f.slate);
    let maxGap = 0;
    for (let i = 1; i < frames.length; i++) {
      const a = frames[i - 1]!;
      const b = frames[i]!;
      if (b.at > stoppedAt) maxGap = Math.max(maxGap, b.at - a.at);
    }
    const liveAfter = frames.filter((f) => f.at > resumedAt && !f.slate).length;
    t.diagnostic(
      `${during.length} frames while stopped (${slate.length} slate), longest gap ${maxGap} ms, ${liveAfter} live after`,
    );
    assert.ok(during.length >= 35, `only ${during.length} frames in the 5 s the source was down`);
    assert.ok(slate.length >= 15, `only ${slate.length} slate frames`);
    assert.ok(maxGap < 1000, `the output paused for ${maxGap} ms`);
    assert.ok(liveAfter > 0);
    assert.ok(
      frames.filter((f) => f.at < stoppedAt).every((f) => !f.slate),
      'live before',
    );
  } finally {
    try {
      process.kill(decoderPid, 'SIGCONT');
    } catch {
      // Gone already.
    }
    viewer.kill('SIGKILL');
  }

  const metrics = await new Promise<string>((resolve, reject) => {
    get(`http://127.0.0.1:${render.opsPort}/metrics`, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  const value = (name: string): number =>
    Number(new RegExp(`^${name}\\{[^}]*run="${runId}"[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
  assert.ok(value('sie_render_frames_out_total') > 50);
  assert.ok(value('sie_render_slate_frames_total') >= 15);
  const drawSum = Number(/^sie_render_draw_ms_sum\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
  const drawCount = Number(/^sie_render_draw_ms_count\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
  assert.ok(drawCount > 0);
  // Capture → encoder, once per live frame: counted and plausible (inference plus a tick).
  const e2eCount = value('sie_render_e2e_latency_ms_count');
  const e2eMean = value('sie_render_e2e_latency_ms_sum') / e2eCount;
  assert.ok(e2eCount > 20, `${e2eCount} frames timed end to end`);
  assert.ok(e2eMean > 0 && e2eMean < 3000, `mean end-to-end latency ${e2eMean} ms`);
  t.diagnostic(`end to end (capture → encoder): mean ${e2eMean.toFixed(1)} ms over ${e2eCount}`);
  // A frame goes to the encoder when its overlay arrives, not at the output clock's next tick
  // (which would add half a 100 ms period on average): capture → encoder is capture →
  // detections plus the overlay hop and the drawing.
  const detMean = detectionLatencies.reduce((a, b) => a + b, 0) / detectionLatencies.length;
  t.diagnostic(`capture → detections: mean ${detMean.toFixed(1)} ms`);
  assert.ok(
    e2eMean < detMean + 30,
    `capture → encoder ${e2eMean.toFixed(1)} ms against capture → detections ${detMean.toFixed(1)} ms`,
  );
  t.diagnostic(
    `service draw (read + copy + overlay, 768x576): mean ${(drawSum / drawCount).toFixed(2)} ms over ${drawCount} frames`,
  );
});

test('a killed encoder is restarted and the output comes back', async () => {
  const children = await run('ps', ['-o', 'pid=,args=', '--ppid', String(render.child.pid)]);
  const encoder = children
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.includes('libx264') && l.includes(outputPath));
  const pid = Number(encoder?.split(/\s+/)[0]);
  assert.ok(pid > 0, `the run's encoder among:\n${children}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(
    () => !rtsp.paths().some((p) => p.ready && p.path.replace(/^\//, '') === outputPath),
    5000,
    'the killed publisher to free its path',
  );
  await waitFor(
    () => rtsp.paths().some((p) => p.ready && p.path.replace(/^\//, '') === outputPath),
    10_000,
    'the restarted encoder to publish again',
  );
  const raw = await decode(5);
  assert.equal(raw.length, 5 * W * H * 3);
  const metrics = await new Promise<string>((resolve, reject) => {
    get(`http://127.0.0.1:${render.opsPort}/metrics`, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  assert.match(
    metrics,
    new RegExp(`^sie_render_encode_restarts_total\\{[^}]*run="${runId}"[^}]*\\} 1$`, 'm'),
  );
});

test('stopping the run ends its encoder and frees the RTSP path', async () => {
  const stopped = await node.bus.request(
    controlSubject(node.nodeId, 'render', 'stop'),
    StopRunRequest,
    { runId, generation: 1, reason: 'test' },
    StopRunResponse,
    10_000,
  );
  assert.equal(stopped.stopped, true);
  await waitFor(
    () => !rtsp.paths().some((p) => p.path.replace(/^\//, '') === outputPath && p.ready),
    5000,
    'the output path to be freed',
  );
  const children = await run('ps', ['-o', 'pid=,args=', '--ppid', String(render.child.pid)]).catch(
    () => '',
  );
  assert.ok(!children.includes(outputPath), `encoder still running:\n${children}`);
});
