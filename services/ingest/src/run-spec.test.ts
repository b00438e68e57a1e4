import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunSpec } from '@sie/contracts';
import { InvalidArgumentError, SourceInvalidError } from '@sie/errors';
import { validateRunSpec, validateStartRequest } from './run-spec.js';

const retryDefaults = {
  startupAttempts: 3,
  reconnectAttempts: 5,
  intervalMs: 2000,
  backoff: 'fixed' as const,
  maxIntervalMs: 30_000,
};

const base = (patch: Partial<{ url: string; realtime: boolean; loop: boolean }> = {}) =>
  RunSpec.fromPartial({
    runId: 'r1',
    tenantId: 't1',
    generation: 2,
    pipeline: { modelId: 'yolox-nano', scoreThreshold: 0.3, classes: ['person'] },
    source: { url: '/media/a.mp4', realtime: false, loop: false, ...patch },
  });

const invalidField = (spec: RunSpec, field: string): void => {
  assert.throws(
    () => validateRunSpec(spec, { retryDefaults }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === field,
    field,
  );
};

test('a valid spec becomes the run settings', () => {
  const v = validateRunSpec(base(), { retryDefaults });
  assert.equal(v.runId, 'r1');
  assert.equal(v.source.kind, 'file');
  assert.equal(v.realtime, false);
  assert.equal(v.rtspTransport, 'tcp');
  assert.deepEqual(v.retry, retryDefaults);
  assert.deepEqual(v.classes, ['person']);
});

test('cameras are always realtime and never loop', () => {
  const v = validateRunSpec(base({ url: 'rtsp://cam/1', realtime: false, loop: true }), {
    retryDefaults,
  });
  assert.equal(v.realtime, true);
  assert.equal(v.loop, false);
});

test('bad ids, model, thresholds, sizes and transports are refused naming the field', () => {
  invalidField({ ...base(), runId: 'a.b' }, 'run.runId');
  invalidField({ ...base(), tenantId: '' }, 'run.tenantId');
  const p = base().pipeline;
  assert.ok(p);
  invalidField({ ...base(), pipeline: { ...p, modelId: '' } }, 'run.pipeline.modelId');
  invalidField(
    { ...base(), pipeline: { ...p, scoreThreshold: 1.5 } },
    'run.pipeline.scoreThreshold',
  );
  invalidField({ ...base(), pipeline: { ...p, sampleFps: -1 } }, 'run.pipeline.sampleFps');
  invalidField({ ...base(), pipeline: { ...p, outputWidth: 640 } }, 'run.pipeline.outputWidth');
  invalidField({ ...base(), pipeline: undefined }, 'run.pipeline');
  invalidField({ ...base(), source: undefined }, 'run.source');
  const s = base().source;
  assert.ok(s);
  invalidField({ ...base(), source: { ...s, rtspTransport: 'http' } }, 'run.source.rtspTransport');
  assert.throws(
    () => validateStartRequest({ run: undefined }, { retryDefaults }),
    InvalidArgumentError,
  );
});

test('source URLs go through parseSourceUrl (scheme, traversal, media root)', () => {
  for (const url of ['concat:/etc/passwd', '../a.mp4', '/media/../etc/passwd', 'ftp://x/a']) {
    assert.throws(() => validateRunSpec(base({ url }), { retryDefaults }), SourceInvalidError, url);
  }
  assert.throws(
    () =>
      validateRunSpec(base({ url: '/elsewhere/a.mp4' }), { retryDefaults, mediaRoot: '/media' }),
    /media root/,
  );
});

test('webcams are refused unless the node allows devices', () => {
  for (const url of ['v4l2:///dev/video0', '0']) {
    assert.throws(
      () => validateRunSpec(base({ url }), { retryDefaults }),
      /capture devices are disabled/,
    );
    const spec = validateRunSpec(base({ url }), { retryDefaults, allowDevices: true });
    assert.equal(spec.source.kind, 'v4l2');
    assert.equal(spec.realtime, true, 'a webcam is live');
  }
  assert.equal(
    validateRunSpec(base({ url: 'http://x/a.m3u8' }), { retryDefaults }).source.kind,
    'hls',
  );
});
