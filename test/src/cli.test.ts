/**
 * The `sie` command line as a user runs it: the compiled CLI as a child process against the API
 * as a real process (real Postgres, NATS with JetStream, the real YOLOX file). No scheduler runs,
 * so runs stay queued: the test asserts what a user sees then. Events are published to the
 * `SIE_EVENTS` stream the way the rules service does; the tail is followed across an API restart.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Bus, eventSubject, nodeStatusSubject } from '@sie/bus';
import { COCO_CLASS_NAMES as CLI_COCO, onnxInputSize } from '@sie/cli';
import { Event, NodeStatus } from '@sie/contracts';
import { findFreePort, findRepoRoot, freshDatabase, type TestDatabase } from '@sie/infra';
import { COCO_CLASS_NAMES } from '@sie/models';
import { createLogger } from '@sie/telemetry';
import { asset, natsUrl } from './support/env.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

const CLI = join(findRepoRoot(), 'packages', 'cli', 'dist', 'main.js');
const MODEL = asset('models/yolox_nano_coco.onnx');

let database: TestDatabase;
let dataDir: string;
let httpPort: number;
let api: ServiceProcess;
let base: string;
let bus: Bus;
const tenant = `cli-${process.pid}`;

const startApi = async (): Promise<ServiceProcess> =>
  startServiceProcess('api', {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl(),
    SIE_HTTP__PORT: String(httpPort),
    SIE_DATA_DIR: dataDir,
    // No inference process: uploads are validated by the API itself, and say "not loaded".
    SIE_INFERENCE_URL: `127.0.0.1:${await findFreePort()}`,
  });

before(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sie-cli-'));
  httpPort = await findFreePort();
  api = await startApi();
  base = `http://127.0.0.1:${httpPort}`;
  bus = await Bus.connect({
    servers: natsUrl(),
    name: 'cli-test',
    logger: createLogger({ service: 'cli-test', level: 'silent' }),
  });
  // The stream the rules service creates at its start (same name and subjects).
  const jsm = await bus.nc.jetstreamManager();
  await jsm.streams
    .add({ name: 'SIE_EVENTS', subjects: ['sie.evt.>'], duplicate_window: 120_000 * 1_000_000 })
    .catch(() => undefined);
});

after(async () => {
  await bus?.close();
  await api?.stop();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  lines: string[];
  stderr(): string;
  waitLines(n: number, timeoutMs: number): Promise<void>;
  done: Promise<Result>;
}

/** Starts `sie <args>` against the test API (env SIE_API_URL / SIE_TENANT, not a TTY). */
function spawnSie(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SIE_API_URL: base, SIE_TENANT: tenant, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    lines.splice(0, lines.length, ...stdout.split('\n').filter(Boolean));
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Result>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void done.then(() => clearTimeout(timer));
  return {
    lines,
    stderr: () => stderr,
    done,
    async waitLines(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < n) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`waited for ${n} lines, got ${lines.length}:\n${stdout}\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

const sie = (args: string[], env?: Record<string, string>): Promise<Result> =>
  spawnSie(args, env).done;

const show = (r: Result): string =>
  `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

let modelId = '';
let pipelineId = '';

test('the CLI ships the COCO class names of @sie/models', () => {
  assert.deepEqual([...CLI_COCO], [...COCO_CLASS_NAMES]);
});

test('the input size an ONNX model declares is read from the file, without loading it', () => {
  for (const name of [
    'yolox_nano_coco.onnx',
    'yolox_nano_coco_dyn.onnx',
    'yolox_nano_coco_raw.onnx',
  ]) {
    assert.deepEqual(onnxInputSize(asset(`models/${name}`)), { width: 416, height: 416 }, name);
  }
  assert.equal(onnxInputSize(asset('media/dog.jpg')), undefined);
});

test('models upload then list, human and --json; a duplicate is refused with its code', async () => {
  // No --input: the size is read from the model file itself.
  const up = await sie(['models', 'upload', MODEL, '--id', 'yolox-nano']);
  assert.equal(up.code, 0, show(up));
  const m = /^model (mdl_\S+) registered: yolox-nano, yolox 416x416, 80 classes, [\d.]+ MB$/m.exec(
    up.stdout,
  );
  assert.ok(m, show(up));
  modelId = m[1] ?? '';
  assert.match(up.stdout, /not loaded yet .*the scheduler loads it/);
  // Not a terminal: no progress bar.
  assert.doesNotMatch(up.stderr, /%/, show(up));

  const list = await sie(['models', 'list']);
  assert.equal(list.code, 0, show(list));
  const [header, row, ...more] = list.stdout.trimEnd().split('\n');
  assert.deepEqual(more, [], show(list));
  assert.match(header ?? '', /^ID\s+NAME\s+TASK\s+DECODER\s+INPUT\s+CLASSES\s+SIZE\s+CREATED$/);
  assert.match(
    row ?? '',
    new RegExp(`^${modelId}\\s+yolox-nano\\s+detect\\s+yolox\\s+416x416\\s+80\\s`),
  );
  // Aligned: every column starts where its header does.
  for (const col of ['NAME', 'INPUT', 'CLASSES']) {
    const at = header?.indexOf(col) ?? -1;
    assert.notEqual(row?.[at - 1], undefined);
    assert.equal(row?.[at - 1], ' ', `${col} column aligned:\n${list.stdout}`);
    assert.notEqual(row?.[at], ' ', `${col} column aligned:\n${list.stdout}`);
  }

  const asJson = await sie(['models', 'list', '--json']);
  assert.equal(asJson.code, 0, show(asJson));
  const doc = JSON.parse(asJson.stdout) as { items: { id: string; inputWidth: number }[] };
  assert.deepEqual(
    doc.items.map((i) => [i.id, i.inputWidth]),
    [[modelId, 416]],
  );

  const again = await sie(['models', 'upload', MODEL, '--id', 'again', '--input', '416x416']);
  assert.equal(again.code, 1, show(again));
  assert.match(
    again.stderr,
    new RegExp(`already registered as model ${modelId} \\[conflict, HTTP 409\\]`),
  );
  const againJson = await sie([
    'models',
    'upload',
    MODEL,
    '--id',
    'x',
    '--input',
    '416x416',
    '--json',
  ]);
  assert.equal(againJson.code, 1);
  assert.equal(againJson.stdout, '');
  assert.equal(
    (JSON.parse(againJson.stderr) as { error: { code: string } }).error.code,
    'conflict',
  );

  // Shapes that disagree with the file are the API's model_error, shown as it said.
  const wrong = await sie(['models', 'upload', MODEL, '--id', 'w', '--input', '640x640'], {
    SIE_TENANT: `${tenant}-b`,
  });
  assert.equal(wrong.code, 1, show(wrong));
  assert.match(wrong.stderr, /\[model_error, HTTP 400\]/, show(wrong));
});

// util-linux `script` (Debian's essential bsdutils) provides the pseudo-terminal.
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

test(
  'models upload draws a progress bar on a terminal',
  { skip: HAS_SCRIPT ? false : 'util-linux `script` is not installed' },
  async () => {
    // `script` gives the CLI a pseudo-terminal, as an interactive shell would.
    const cmd = `${process.execPath} ${CLI} models upload ${MODEL} --id tty`;
    const r = await new Promise<Result>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], {
        env: { ...process.env, SIE_API_URL: base, SIE_TENANT: `${tenant}-tty` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    assert.equal(r.code, 0, show(r));
    assert.match(
      r.stdout,
      /uploading \[#{24}\] 100%\s+[\d.]+ MB \/ [\d.]+ MB\s+[\d.]+ [KMG]?B\/s/,
      show(r),
    );
    assert.match(r.stdout, /model mdl_\S+ registered: tty/);
  },
);

test('pipelines apply: create, update listing what changed, bad fields by path and line, bad YAML', async () => {
  assert.ok(modelId, 'the upload test ran first');
  const dir = mkdtempSync(join(tmpdir(), 'sie-cli-yaml-'));
  const file = join(dir, 'door.yaml');
  try {
    writeFileSync(
      file,
      [
        '# the door camera',
        'name: door',
        `modelId: ${modelId}`,
        'config:',
        '  scoreThreshold: 0.4',
        '  classes: [person]',
        '',
      ].join('\n'),
    );
    const created = await sie(['pipelines', 'apply', '-f', file]);
    assert.equal(created.code, 0, show(created));
    const m = /^pipeline (pl_\S+) created: door, version 1$/m.exec(created.stdout);
    assert.ok(m, show(created));
    pipelineId = m[1] ?? '';

    writeFileSync(
      file,
      [
        'name: door',
        `modelId: ${modelId}`,
        'config:',
        '  scoreThreshold: 0.6',
        '  classes: [person, dog]',
        '  sampleFps: 5',
        '',
      ].join('\n'),
    );
    const updated = await sie(['pipelines', 'apply', '-f', file]);
    assert.equal(updated.code, 0, show(updated));
    assert.equal(
      updated.stdout,
      `pipeline ${pipelineId} updated: door, version 1 → 2\n` +
        '  config.classes: ["person"] → ["person","dog"]\n' +
        '  config.sampleFps: 0 → 5\n' +
        '  config.scoreThreshold: 0.4 → 0.6\n',
    );
    const json = await sie(['pipelines', 'apply', '-f', file, '--json']);
    assert.equal(json.code, 0, show(json));
    const doc = JSON.parse(json.stdout) as {
      action: string;
      changed: string[];
      pipeline: { version: number };
    };
    assert.deepEqual([doc.action, doc.changed, doc.pipeline.version], ['updated', [], 3]);

    // A value out of range and a misspelt key: each named by its path and its line.
    writeFileSync(
      file,
      [
        'name: door',
        `modelId: ${modelId}`,
        'config:',
        '  scoreThreshold: 7',
        '  sampelFps: 5',
        '',
      ].join('\n'),
    );
    const bad = await sie(['pipelines', 'apply', '-f', file]);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, /^error: invalid request \[invalid_argument, HTTP 400\]$/m, show(bad));
    assert.match(bad.stderr, new RegExp(`config\\.scoreThreshold: .*\\(${file}:4\\)`), show(bad));
    assert.match(
      bad.stderr,
      new RegExp(`config\\.sampelFps: unknown key.*\\(${file}:5\\)`),
      show(bad),
    );

    writeFileSync(
      file,
      ['name: door', 'config:', '  classes: [person', '  sampleFps: 5', ''].join('\n'),
    );
    const broken = await sie(['pipelines', 'apply', '-f', file]);
    assert.equal(broken.code, 1, show(broken));
    assert.match(broken.stderr, new RegExp(`^error: ${file}:\\d+:\\d+: `), show(broken));

    const list = await sie(['pipelines', 'list']);
    assert.match(
      list.stdout,
      new RegExp(`^${pipelineId}\\s+door\\s+${modelId}\\s+3\\s+0\\s`, 'm'),
      show(list),
    );
    const missing = await sie(['pipelines', 'apply']);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /--file is required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runs create, list, show and stop: a queued run as the user sees it', async () => {
  assert.ok(pipelineId, 'the pipelines test ran first');
  const source = asset('media/vtest.avi');
  const created = await sie([
    'runs',
    'create',
    '--pipeline',
    pipelineId,
    '--source',
    source,
    '--name',
    'cli/cam1',
  ]);
  assert.equal(created.code, 0, show(created));
  const m = /^run (run_\S+) created: init_startup$/m.exec(created.stdout);
  assert.ok(m, show(created));
  const runId = m[1] ?? '';
  assert.match(created.stdout, /^output: rtsp:\/\/127\.0\.0\.1:8554\/cli\/cam1$/m);

  const list = await sie(['runs', 'list']);
  assert.match(
    list.stdout,
    /^ID\s+STATE\s+PIPELINE\s+NODE\s+SOURCE\s+CREATED\s+REASON$/m,
    show(list),
  );
  assert.match(
    list.stdout,
    new RegExp(`^${runId}\\s+init_startup\\s+${pipelineId}\\s+-\\s+${source}\\s`, 'm'),
  );
  const active = await sie(['runs', 'list', '--state', 'active']);
  assert.equal(active.stdout, 'no runs\n', show(active));
  const badState = await sie(['runs', 'list', '--state', 'sleeping']);
  assert.equal(badState.code, 1, show(badState));
  assert.match(badState.stderr, /status\.0: /);

  const shown = await sie(['runs', 'show', runId]);
  assert.equal(shown.code, 0, show(shown));
  assert.match(shown.stdout, /^state:\s+init_startup$/m);
  assert.match(shown.stdout, /^node:\s+-$/m);
  assert.match(shown.stdout, /^live:\s+-$/m);
  assert.match(shown.stdout, /^output:\s+rtsp:\/\/127\.0\.0\.1:8554\/cli\/cam1$/m);
  assert.match(shown.stdout, new RegExp(`^pipeline:\\s+${pipelineId} \\(version 3\\)$`, 'm'));

  const stopped = await sie(['runs', 'stop', runId]);
  assert.equal(stopped.code, 0, show(stopped));
  assert.equal(stopped.stdout, `run ${runId} stopping: init_shutdown\n`);
  const stoppedRun = JSON.parse((await sie(['runs', 'show', runId, '--json'])).stdout) as {
    status: string;
    desiredState: string;
    reason: { code: string } | null;
  };
  assert.deepEqual([stoppedRun.status, stoppedRun.desiredState], ['init_shutdown', 'stopped']);

  const unknown = await sie(['runs', 'show', 'run_nope']);
  assert.equal(unknown.code, 1, show(unknown));
  assert.match(unknown.stderr, /\[not_found, HTTP 404\]/);
  const usage = await sie(['runs', 'show']);
  assert.equal(usage.code, 2, show(usage));
  assert.match(usage.stderr, /missing <id>\nusage: sie runs show <id>/);
});

test('events tail: filters, JSON lines and human lines; resumes after the API restarts', async () => {
  const js = bus.nc.jetstream();
  // A registered run of this tenant: another tenant's or an unknown run id answers 404.
  assert.ok(pipelineId, 'the pipelines test ran first');
  const created = await sie([
    'runs',
    'create',
    '--pipeline',
    pipelineId,
    '--source',
    asset('media/vtest.avi'),
    '--name',
    'cli/events',
  ]);
  const runId = /^run (run_\S+) created/m.exec(created.stdout)?.[1] ?? '';
  assert.ok(runId, show(created));
  let n = 0;
  const publish = async (ruleId: string, kind: string): Promise<string> => {
    n += 1;
    const message = `#${n} ${kind} on ${ruleId}`;
    const e = Event.fromPartial({
      id: `evt-cli-${process.pid}-${n}`,
      tenantId: tenant,
      runId,
      ruleId,
      kind,
      captureTimeMs: Date.now(),
      message,
    });
    await js.publish(eventSubject(tenant, runId, ruleId), Event.encode(e).finish(), {
      msgID: e.id,
    });
    return message;
  };
  const e1 = await publish('door', 'line_cross');
  await publish('hall', 'zone_enter');
  await publish('door', 'dwell');

  const human = await sie([
    'events',
    'tail',
    '--run',
    runId,
    '--rule',
    'door',
    '--since',
    '10m',
    '--count',
    '2',
  ]);
  assert.equal(human.code, 0, show(human));
  assert.match(
    human.stdout,
    new RegExp(
      `^\\S+Z  ${runId}  door  line_cross  ${e1}\\n\\S+Z  ${runId}  door  dwell  #3 dwell on door\\n$`,
    ),
    show(human),
  );

  const tail = spawnSie([
    'events',
    'tail',
    '--rule',
    'door',
    '--type',
    'line_cross',
    '--since',
    '10m',
    '--count',
    '3',
    '--json',
  ]);
  await tail.waitLines(1, 20_000);
  const e4 = await publish('door', 'line_cross');
  await tail.waitLines(2, 20_000);
  // The API goes away under the open stream; events published meanwhile wait in JetStream.
  await api.stop();
  await publish('hall', 'zone_enter');
  const e6 = await publish('door', 'line_cross');
  api = await startApi();
  const done = await tail.done;
  assert.equal(done.code, 0, show(done));
  const events = done.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; message: string; ruleId: string; kind: string });
  assert.deepEqual(
    events.map((e) => e.message),
    [e1, e4, e6],
    show(done),
  );
  assert.match(done.stderr, new RegExp(`reconnecting after event ${events[1]?.seq}`), show(done));
});

test('an API that is not there: a clear message and exit 1', async () => {
  const url = `http://127.0.0.1:${await findFreePort()}`;
  const r = await sie(['runs', 'list', '--api', url]);
  assert.equal(r.code, 1, show(r));
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`cannot reach the sie API at ${url} \\(ECONNREFUSED\\)`));
  const tail = await sie(['events', 'tail', '--api', url]);
  assert.equal(tail.code, 1, show(tail));
  assert.match(tail.stderr, /cannot reach the sie API/);
});

test('nodes list, drain and resume; an unknown node is a clear 404', async () => {
  const nodeId = `cli-node-${process.pid}`;
  // The presence announcement an ingest service makes every 2 s (the same message on the same
  // subject), sent from here so no inference is needed just to have a node.
  const announce = (): void =>
    bus.publish(nodeStatusSubject(nodeId, 'ingest'), NodeStatus, {
      nodeId,
      stage: 'ingest',
      runIds: [],
      capacity: 8,
      maxRuns: 8,
      atMs: Date.now(),
      announceIntervalMs: 2000,
      capacityFps: 40,
    });
  announce();
  const timer = setInterval(announce, 1000);
  try {
    interface NodeRow {
      nodeId: string;
      state: string;
      capacityFps: number;
      runs: number;
    }
    let listed: NodeRow | undefined;
    const deadline = Date.now() + 20_000;
    while (!listed) {
      assert.ok(Date.now() < deadline, `node ${nodeId} never listed`);
      const r = await sie(['nodes', 'list', '--json']);
      assert.equal(r.code, 0, show(r));
      const doc = JSON.parse(r.stdout) as { items: NodeRow[] };
      listed = doc.items.find((n) => n.nodeId === nodeId);
      if (!listed) await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(listed.state, 'ready');
    assert.equal(listed.capacityFps, 40);
    const human = await sie(['nodes', 'list']);
    assert.match(human.stdout, /NODE\s+STATE\s+RUNS\s+CAPACITY FPS/);
    assert.match(human.stdout, new RegExp(`${nodeId}\\s+ready\\s+0\\s+40`));

    // No runs on it: --wait returns at once; without a scheduler the node stays `draining`.
    const drain = await sie(['node', 'drain', nodeId, '--wait']);
    assert.equal(drain.code, 0, show(drain));
    assert.match(drain.stdout, new RegExp(`node ${nodeId} draining: 0 run\\(s\\) on it`));
    const after = await sie(['nodes', 'list', '--json']);
    const state = (
      JSON.parse(after.stdout) as { items: { nodeId: string; state: string }[] }
    ).items.find((n) => n.nodeId === nodeId)?.state;
    assert.ok(state === 'draining' || state === 'drained', `state after drain: ${state}`);

    const resume = await sie(['node', 'resume', nodeId]);
    assert.equal(resume.code, 0, show(resume));
    assert.match(resume.stdout, new RegExp(`node ${nodeId} resumed: ready`));

    const unknown = await sie(['node', 'drain', 'no-such-node']);
    assert.equal(unknown.code, 1, show(unknown));
    assert.match(unknown.stderr, /not_found/);
    const bad = await sie(['node', 'drain', 'bad id!']);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, /not_found/);
  } finally {
    clearInterval(timer);
  }
});
