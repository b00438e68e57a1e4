import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FrameDetections,
  PixelFormat,
  RunState,
  RunStatusChange,
  StartRunRequest,
  type FrameRef,
} from '@sie/contracts';
import { encodeMessage } from './index.js';

const frame: FrameRef = {
  runId: 'r1',
  seq: 123456789,
  slot: 5,
  captureTimeMs: 1763720000123.25,
  ptsMs: 4000,
  width: 768,
  height: 576,
  pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
  store: 'run-r1',
  byteLength: 768 * 576 * 3,
  generation: 0,
  modelFrame: {
    store: 'run-r1-model',
    width: 416,
    height: 416,
    byteLength: 416 * 416 * 3,
    pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
    placement: 'top-left',
    padValue: 114,
  },
};

test('protobuf round trips keep every field of the frame path messages', () => {
  const det: FrameDetections = {
    frame,
    tenantId: 't1',
    modelId: 'yolox',
    latencyMs: 31.5,
    detections: [
      { classId: 16, label: 'dog', score: 0.5, trackId: 0, box: { x1: 1, y1: 2, x2: 3, y2: 4 } },
    ],
    timings: {
      queueMs: 1,
      preprocessMs: 2,
      inferenceMs: 20,
      postprocessMs: 0.5,
      readMs: 0.25,
      batchSize: 1,
    },
  };
  const back = FrameDetections.decode(encodeMessage(FrameDetections, det));
  assert.deepEqual(back, det);

  const change: RunStatusChange = {
    id: 'c1',
    runId: 'r1',
    tenantId: 't1',
    from: RunState.RUN_STATE_IN_STARTUP_PROCESSING,
    to: RunState.RUN_STATE_FAILED,
    reason: 'source_unreachable',
    message: 'refused',
    atMs: 1,
    attempt: 3,
    generation: 2,
  };
  assert.deepEqual(RunStatusChange.decode(encodeMessage(RunStatusChange, change)), change);

  const start = StartRunRequest.fromPartial({
    run: {
      runId: 'r1',
      tenantId: 't1',
      generation: 1,
      source: { url: 'rtsp://cam/1', loop: false, realtime: true, rtspTransport: 'tcp' },
    },
  });
  assert.deepEqual(StartRunRequest.decode(encodeMessage(StartRunRequest, start)), start);
});
