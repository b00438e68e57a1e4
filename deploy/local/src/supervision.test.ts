import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FrameDetections } from '@sie/contracts';
import { findFreePort } from '@sie/infra';
import { createLogger } from '@sie/telemetry';
import { RestartBackoff } from './backoff.js';
import { formatFrame } from './demo-spec.js';
import { StackStartError } from './errors.js';
import type { ServiceProcess } from './services.js';
import { createPidFile, readPidFile, readState, removePidFile, writeState } from './state-file.js';
import { SupervisedProcess } from './supervised-process.js';

test('restart backoff doubles to 30 s and resets after a minute healthy', () => {
  const b = new RestartBackoff();
  const delays = [0, 0, 0, 0, 0, 0, 0].map(() => b.delayAfter(5_000));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(b.delayAfter(60_000), 1000);
  assert.equal(b.delayAfter(0), 2000);
});

test('state and pid files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sie-stack-files-'));
  try {
    const stateFile = join(dir, 'stack.json');
    assert.equal(readState(stateFile), undefined);
    writeState(stateFile, {
      state: 'ready',
      pid: 42,
      startedAt: 'a',
      updatedAt: 'b',
      services: [{ name: 'api', state: 'healthy', restarts: 0, log: '/l' }],
    });
    assert.equal(readState(stateFile)?.pid, 42);
    writeFileSync(stateFile, '{"state":"nonsense"');
    assert.equal(readState(stateFile), undefined);

    const pidFile = join(dir, 'stack.pid');
    assert.equal(readPidFile(pidFile), undefined);
    assert.equal(createPidFile(pidFile, 123), true);
    assert.equal(createPidFile(pidFile, 456), false, 'a second owner is refused');
    assert.equal(readPidFile(pidFile), 123);
    removePidFile(pidFile);
    assert.equal(readPidFile(pidFile), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('demo summary line', () => {
  const msg = FrameDetections.fromPartial({
    frame: { seq: 12 },
    detections: [
      { label: 'car', score: 0.5, box: { x1: 1.4, y1: 2.6, x2: 30, y2: 40 } },
      { label: 'person', score: 0.871, box: { x1: 10, y1: 20, x2: 110, y2: 220 } },
      { label: 'dog', score: 0.4, box: { x1: 0, y1: 0, x2: 1, y2: 1 } },
    ],
  });
  assert.equal(
    formatFrame(msg, 2),
    'frame 12: person 0.87 [10,20,110,220], car 0.50 [1,3,30,40], … (+1 more)',
  );
  assert.equal(formatFrame(FrameDetections.fromPartial({})), 'frame 0: nothing detected');
});

// A stand-in service: /healthz answers 200 on the port it is given; exits with EXIT_CODE if set.
const FAKE_SERVICE = `
const code = process.env.EXIT_CODE;
if (code) process.exit(Number(code));
require('node:http')
  .createServer((req, res) => res.end('ok'))
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

async function fakeService(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'sie-stack-proc-'));
  const script = join(dir, 'fake.cjs');
  writeFileSync(script, FAKE_SERVICE);
  const port = await findFreePort();
  const spec: ServiceProcess = {
    name: 'rules',
    command: process.execPath,
    args: [script],
    entry: script,
    env: { PORT: String(port), ...env },
    unsetEnv: [],
    health: { kind: 'http', url: `http://127.0.0.1:${port}/healthz` },
    dependsOn: [],
  };
  const logFile = join(dir, 'rules.log');
  const proc = new SupervisedProcess({
    spec,
    logFile,
    cwd: dir,
    baseEnv: process.env,
    logger: createLogger({ service: 'test', level: 'silent' }),
    onChange: () => undefined,
    probeIntervalMs: 50,
    backoff: new RestartBackoff({ initialMs: 50, maxMs: 200, resetAfterMs: 60_000 }),
  });
  return { proc, logFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a supervised child is restarted after it dies, and stopped on request', async () => {
  const { proc, logFile, cleanup } = await fakeService({});
  const signal = AbortSignal.timeout(20_000);
  try {
    proc.start();
    await proc.waitHealthy(signal);
    const firstPid = proc.status.pid;
    assert.ok(firstPid);
    process.kill(firstPid, 'SIGKILL');
    while (proc.status.state === 'healthy') await new Promise((r) => setTimeout(r, 20));
    assert.equal(proc.status.lastExit, 'signal SIGKILL');
    await proc.waitHealthy(signal);
    assert.equal(proc.status.restarts, 1);
    assert.notEqual(proc.status.pid, firstPid);
    assert.match(readFileSync(logFile, 'utf8'), /starting rules \(start 2\)/);
    await proc.stop(5000);
    assert.equal(proc.status.state, 'stopped');
    assert.equal(proc.status.restarts, 1, 'no restart after stop');
  } finally {
    await proc.stop(1000);
    cleanup();
  }
});

test('a child exiting 2 before it is ever healthy fails instead of looping', async () => {
  const { proc, cleanup } = await fakeService({ EXIT_CODE: '2' });
  try {
    proc.start();
    await assert.rejects(proc.waitHealthy(AbortSignal.timeout(10_000)), StackStartError);
    assert.equal(proc.status.state, 'failed');
  } finally {
    cleanup();
  }
});
