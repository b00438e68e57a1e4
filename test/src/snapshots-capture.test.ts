/**
 * Event snapshots and dataset capture through the REST API with every service a real process
 * (scheduler, ingest, inference with YOLOX-Nano, rules, render, api) on vtest.avi read as fast as
 * inference goes (`realtime: false`, every frame):
 *
 * - pipeline settings are validated on POST /v1/pipelines (unknown keys named by path, capture
 *   directories confined to the node's capture root);
 * - a zone rule on pedestrians with snapshots (maxCount 3): the events SSE links `snapshotUrl`,
 *   the JPEG decodes at the run's size and shows the event's highlighted box, retention keeps the
 *   newest 3, another tenant gets 404;
 * - capture every 10th frame to a local directory: decodable images, YOLO labels of persons,
 *   a manifest matching the images;
 * - capture to a fake S3 endpoint (an in-test HTTP server that recomputes every SigV4 signature
 *   on its own and stores the objects): objects arrive, every signature valid.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findFreePort } from '@sie/infra';
import { asset } from './support/env.js';
import { FakeS3 } from './support/fake-s3.js';
import {
  type Node,
  startNode,
  startScheduler,
  startStack,
  until,
  type Stack,
} from './support/scheduler-stack.js';
import { startServiceProcess } from './support/service-process.js';

type Body = Record<string, unknown>;

const S3_KEY_ID = 'AKIDSIETEST';
const S3_SECRET = 'sie/test+secret/KEY';

let stack: Stack;
let base: string;
let work: string;
let snapDir: string;
let captureRoot: string;
let s3: FakeS3;
let node: Node;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sie-snapshots-'));
  snapDir = join(work, 'snapshots');
  captureRoot = join(work, 'capture');
  mkdirSync(captureRoot, { recursive: true });
  s3 = await FakeS3.start(S3_KEY_ID, S3_SECRET, 'eu-test-1');
  stack = await startStack();
  const shared = { SIE_SNAPSHOT_DIR: snapDir, SIE_CAPTURE__ROOT_DIR: captureRoot };
  node = await startNode(stack, `snap-${process.pid}`, {
    ...shared,
    SIE_SNAPSHOTS__SWEEP_INTERVAL_MS: '1000',
    CAPTURE_TEST_KEY_ID: S3_KEY_ID,
    CAPTURE_TEST_SECRET: S3_SECRET,
    CAPTURE_WRONG_SECRET: 'not the secret',
  });
  await startScheduler(stack, 'snap-scheduler');
  const httpPort = await findFreePort();
  stack.processes.push(
    await startServiceProcess('api', {
      ...shared,
      DATABASE_URL: stack.databaseUrl,
      NATS_URL: stack.natsUrl,
      SIE_HTTP__PORT: String(httpPort),
      SIE_DATA_DIR: join(work, 'api'),
      SIE_INFERENCE_URL: stack.inferenceUrl ?? '',
    }),
  );
  base = `http://127.0.0.1:${httpPort}`;
});

after(async () => {
  await stack?.close();
  await s3?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  tenant = stack.tenantId,
): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-sie-tenant': tenant,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

const HALL_RULES = {
  classes: ['person'],
  zones: [
    {
      id: 'hall',
      polygon: [
        [0.2, 0.3],
        [0.8, 0.3],
        [0.8, 0.95],
        [0.2, 0.95],
      ],
    },
  ],
  rules: [{ id: 'enter', kind: 'zone_enter', zone: 'hall', classes: ['person'] }],
};

async function startVtestRun(config: Body): Promise<string> {
  const pipeline = await call('POST', '/v1/pipelines', { name: 'snap', modelId: 'yolox', config });
  assert.equal(pipeline.status, 201, JSON.stringify(pipeline.body));
  const run = await call('POST', '/v1/runs', {
    pipelineId: pipeline.body.id,
    source: { url: asset('media/vtest.avi'), realtime: false },
  });
  assert.equal(run.status, 202, JSON.stringify(run.body));
  return String(run.body.id);
}

async function stopRun(runId: string): Promise<void> {
  const stop = await call('POST', `/v1/runs/${runId}/stop`);
  assert.ok(stop.status === 200 || stop.status === 202, JSON.stringify(stop.body));
  await until(
    `run ${runId} to end`,
    async () => {
      const s = (await call('GET', `/v1/runs/${runId}`)).body.status;
      return s === 'inactive' || s === 'failed';
    },
    60_000,
    250,
  );
}

interface EventJson {
  id: string;
  frameSeq: number;
  snapshotUrl?: string;
  objects: { label: string; box: [number, number, number, number]; trackId?: number }[];
}

/** Reads the run's events SSE (history first) until `enough` holds or `idleMs` pass quietly. */
async function readEvents(
  runId: string,
  enough: (events: EventJson[]) => boolean,
  timeoutMs: number,
  idleMs = 0,
): Promise<EventJson[]> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const res = await fetch(`${base}/v1/runs/${runId}/events?since=0`, {
    headers: { 'x-sie-tenant': stack.tenantId },
    signal: ctl.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: EventJson[] = [];
  let text = '';
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (!idleMs) return;
    clearTimeout(idle);
    idle = setTimeout(() => ctl.abort(), idleMs);
  };
  armIdle();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const parts = text.split('\n\n');
      text = parts.pop() ?? '';
      for (const part of parts) {
        const data = part.split('\n').find((l) => l.startsWith('data: '));
        if (part.includes('event: event') && data) events.push(JSON.parse(data.slice(6)));
      }
      armIdle();
      if (enough(events)) break;
    }
  } catch (err) {
    if (!ctl.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    clearTimeout(idle);
    ctl.abort();
  }
  return events;
}

function exec(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr.toString()}`)) : resolve(stdout),
    );
  });
}

async function probeJpeg(file: string): Promise<{ codec: string; width: number; height: number }> {
  const out = await exec('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height',
    '-of',
    'json',
    file,
  ]);
  const s = (
    JSON.parse(out.toString()) as {
      streams: { codec_name: string; width: number; height: number }[];
    }
  ).streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height };
}

test('pipeline settings: unknown keys named by path, capture dirs confined to the root', async () => {
  const bad = await call('POST', '/v1/pipelines', {
    name: 'bad',
    modelId: 'yolox',
    config: {
      snapshots: { enabled: true, maxCount: 0, colour: 'red' },
      capture: {
        enabled: true,
        everyNthFrame: 5,
        destination: {
          type: 's3',
          endpoint: 'http://127.0.0.1:9000',
          bucket: 'frames',
          accessKeyIdEnv: 'K',
          secretAccessKeyEnv: 'S',
          secretAccessKey: 'never stored',
        },
      },
    },
  });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  const paths = (bad.body.issues as { path: string }[]).map((i) => i.path);
  for (const p of [
    'config.snapshots.maxCount',
    'config.snapshots.colour',
    'config.capture.destination.secretAccessKey',
  ]) {
    assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`);
  }
  for (const dir of ['/etc/sie', join(captureRoot, '..', 'elsewhere'), 'relative/dir']) {
    const r = await call('POST', '/v1/pipelines', {
      name: 'outside',
      modelId: 'yolox',
      config: {
        capture: { enabled: true, everyNthFrame: 5, destination: { type: 'local', dir } },
      },
    });
    assert.equal(r.status, 400, `${dir}: ${JSON.stringify(r.body)}`);
    const issues = (r.body.issues as { path: string }[]).map((i) => i.path);
    assert.ok(issues.includes('config.capture.destination.dir'), JSON.stringify(r.body));
  }
});

test(
  'snapshots: each event links a JPEG of its annotated frame; the newest 3 are kept; tenant-scoped',
  { timeout: 300_000 },
  async () => {
    const runId = await startVtestRun({
      ...HALL_RULES,
      snapshots: { enabled: true, maxCount: 3 },
    });
    const early = await readEvents(runId, (e) => e.length >= 6, 180_000);
    assert.ok(early.length >= 6, `${early.length} events`);
    await stopRun(runId);
    // Every event the run made, in stream order (rules stops before render: all reach render).
    const events = await readEvents(runId, () => false, 60_000, 3000);
    assert.ok(events.length >= 6, `${events.length} events`);
    for (const e of events) {
      assert.equal(e.snapshotUrl, `/v1/runs/${runId}/events/${e.id}/snapshot`);
    }
    const last = events.at(-1)!;
    const got = await until(
      'the newest snapshot',
      async () => {
        const res = await fetch(`${base}${last.snapshotUrl}`, {
          headers: { 'x-sie-tenant': stack.tenantId },
        });
        if (res.status !== 200) {
          const body = (await res.json()) as Body;
          assert.equal(body.code, 'snapshot_not_ready', JSON.stringify(body));
          return undefined;
        }
        assert.equal(res.headers.get('content-type'), 'image/jpeg');
        return Buffer.from(await res.arrayBuffer());
      },
      30_000,
      250,
    );
    const file = join(work, 'got.jpg');
    writeFileSync(file, got);
    assert.deepEqual(await probeJpeg(file), { codec: 'mjpeg', width: 768, height: 576 });

    // The event's own box is drawn highlighted (rules: red, 2 px thicker) on its top edge.
    const obj = last.objects[0]!;
    const [x1, y1, x2] = obj.box.map((v) => Math.round(v)) as [number, number, number];
    const w = Math.max(8, x2 - x1 - 8);
    const rgb = await exec('ffmpeg', [
      '-v',
      'error',
      '-i',
      file,
      '-vf',
      `crop=${w}:3:${x1 + 4}:${Math.max(0, y1)}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ]);
    let red = 0;
    for (let i = 0; i + 2 < rgb.length; i += 3) {
      if (rgb[i]! > 150 && rgb[i + 1]! < 120 && rgb[i + 2]! < 120) red++;
    }
    assert.ok(
      red >= (rgb.length / 3) * 0.5,
      `${red} of ${rgb.length / 3} pixels red at the box top`,
    );

    // Retention: the newest 3 remain (and nothing half-written).
    const runDir = join(snapDir, stack.tenantId, runId);
    const files = await until(
      'retention to settle at 3',
      async () => {
        const jpgs = readdirSync(runDir).filter((f) => f.endsWith('.jpg'));
        return jpgs.length === 3 ? jpgs : undefined;
      },
      20_000,
      250,
    );
    assert.deepEqual(
      readdirSync(runDir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const recent = new Set(events.slice(-5).map((e) => `${e.id}.jpg`));
    assert.ok(
      files.every((f) => recent.has(f)),
      `${files.join(', ')} are not the newest`,
    );
    assert.ok(files.includes(`${last.id}.jpg`));

    // An older event's snapshot is gone; another tenant sees no run at all.
    const old = await call('GET', events[0]!.snapshotUrl!);
    assert.equal(old.status, 404);
    assert.equal(old.body.code, 'snapshot_not_ready');
    const other = await call('GET', last.snapshotUrl!, undefined, 'another-tenant');
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'not_found');
    const traversal = await call('GET', `/v1/runs/${runId}/events/..%2F..%2Fetc/snapshot`);
    assert.ok(traversal.status === 400 || traversal.status === 404, JSON.stringify(traversal));
  },
);

test(
  'capture to a local directory: every 10th frame as a YOLO dataset with a manifest',
  { timeout: 300_000 },
  async () => {
    const dir = join(captureRoot, 'door');
    const runId = await startVtestRun({
      classes: ['person'],
      capture: {
        enabled: true,
        everyNthFrame: 10,
        maxFrames: 12,
        destination: { type: 'local', dir },
      },
    });
    const manifestFile = join(dir, 'manifest.jsonl');
    await until(
      '12 captured frames',
      async () =>
        existsSync(manifestFile) &&
        readFileSync(manifestFile, 'utf8').trim().split('\n').length >= 12,
      180_000,
      500,
    );
    await stopRun(runId);
    const lines = readFileSync(manifestFile, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            run: string;
            seq: number;
            image: string;
            label: string;
            width: number;
            height: number;
            modelId: string;
            detections: { classId: number; className: string; score: number }[];
          },
      );
    assert.equal(lines.length, 12, 'maxFrames');
    const images = readdirSync(join(dir, 'images', runId)).sort();
    assert.deepEqual(images, lines.map((l) => `${l.seq}.jpg`).sort());
    assert.equal(readFileSync(join(dir, 'classes.txt'), 'utf8').split('\n')[0], 'person');
    let persons = 0;
    for (const l of lines) {
      assert.equal(l.run, runId);
      assert.equal((l.seq - 1) % 10, 0, `seq ${l.seq} is every 10th frame`);
      assert.equal(l.modelId, 'yolox');
      assert.deepEqual([l.width, l.height], [768, 576]);
      assert.equal(l.image, `images/${runId}/${l.seq}.jpg`);
      const labels = readFileSync(join(dir, l.label), 'utf8').trim();
      const rows = labels ? labels.split('\n') : [];
      assert.equal(rows.length, l.detections.length);
      for (const row of rows) {
        const [cls, ...nums] = row.split(' ');
        assert.equal(cls, '0', row);
        assert.equal(nums.length, 4, row);
        for (const n of nums.map(Number)) assert.ok(n >= 0 && n <= 1, row);
        persons++;
      }
      assert.ok(l.detections.every((d) => d.className === 'person' && d.classId === 0));
    }
    assert.ok(persons >= 12, `${persons} labelled persons`);
    for (const img of images.slice(0, 3)) {
      assert.deepEqual(await probeJpeg(join(dir, 'images', runId, img)), {
        codec: 'mjpeg',
        width: 768,
        height: 576,
      });
    }
  },
);

test(
  'capture to a fake S3 endpoint: signed PUTs, every signature checked independently',
  { timeout: 300_000 },
  async () => {
    const runId = await startVtestRun({
      classes: ['person'],
      capture: {
        enabled: true,
        everyNthFrame: 5,
        maxFrames: 4,
        onlyWithDetections: true,
        destination: {
          type: 's3',
          endpoint: s3.url,
          bucket: 'datasets',
          prefix: 'sie/door/',
          region: 'eu-test-1',
          accessKeyIdEnv: 'CAPTURE_TEST_KEY_ID',
          secretAccessKeyEnv: 'CAPTURE_TEST_SECRET',
        },
      },
    });
    const manifestKey = `/datasets/sie/door/manifests/${runId}.jsonl`;
    await until(
      'a manifest with 4 frames',
      async () => (s3.objects.get(manifestKey)?.toString().trim().split('\n').length ?? 0) >= 4,
      180_000,
      500,
    );
    await stopRun(runId);
    assert.deepEqual(s3.rejected, [], 'every request carried a valid signature');
    const lines = s3.objects
      .get(manifestKey)!
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; image: string; label: string });
    assert.equal(lines.length, 4);
    for (const l of lines) {
      const img = s3.objects.get(`/datasets/sie/door/${l.image}`);
      assert.ok(img && img[0] === 0xff && img[1] === 0xd8, `${l.image} is a JPEG`);
      assert.ok(s3.objects.has(`/datasets/sie/door/${l.label}`), l.label);
    }
    assert.ok(s3.objects.has('/datasets/sie/door/classes.txt'));
    assert.ok(s3.accepted >= 4 * 3, `${s3.accepted} signed PUTs`);
  },
);

test('capture failures are counted and logged; the run goes on', { timeout: 300_000 }, async () => {
  const metric = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${node.render.opsPort}/metrics`)).text();
    // Every sample carries the service's default labels (service, node).
    const line = text.split('\n').find((l) => /^sie_render_capture_errors_total[{ ]/.test(l));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const before = await metric();
  const runId = await startVtestRun({
    capture: {
      enabled: true,
      everyNthFrame: 5,
      destination: {
        type: 's3',
        endpoint: s3.url,
        bucket: 'refused',
        region: 'eu-test-1',
        accessKeyIdEnv: 'CAPTURE_TEST_KEY_ID',
        secretAccessKeyEnv: 'CAPTURE_WRONG_SECRET',
      },
    },
  });
  try {
    await until('capture errors', async () => (await metric()) >= before + 3, 120_000, 500);
  } catch (err) {
    const run = await call('GET', `/v1/runs/${runId}`);
    const text = await (await fetch(`http://127.0.0.1:${node.render.opsPort}/metrics`)).text();
    throw new Error(
      `${(err as Error).message}\nrun: ${JSON.stringify(run.body)}\nrejected: ${s3.rejected.slice(-3).join('; ')}\n` +
        text
          .split('\n')
          .filter((l) => l.includes('capture'))
          .join('\n') +
        `\n${node.render.output().slice(-1500)}`,
    );
  }
  assert.ok(
    s3.rejected.some((r) => r.startsWith('/refused/') && r.endsWith('signature mismatch')),
    s3.rejected.join('\n'),
  );
  assert.ok(![...s3.objects.keys()].some((k) => k.startsWith('/refused/')), 'nothing stored');
  const run = await call('GET', `/v1/runs/${runId}`);
  assert.equal(run.body.status, 'active', JSON.stringify(run.body));
  await stopRun(runId);
});
