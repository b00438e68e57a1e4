import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo, PixelFormat, type FrameRef } from '@sie/contracts';
import { FrameOverwrittenError } from '@sie/errors';
import { detectErrorFromGrpc } from './index.js';

const frame: FrameRef = {
  runId: 'r1',
  seq: 9,
  slot: 0,
  captureTimeMs: 0,
  ptsMs: 0,
  width: 2,
  height: 2,
  pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
  store: 'run-r1',
  byteLength: 12,
};

const grpcError = (code: status, details: string, metadata = new Metadata()): ServiceError =>
  Object.assign(new Error(details), { code, details, metadata });

test('the error the inference service put in the trailers is rebuilt', () => {
  const md = new Metadata();
  const payload = new FrameOverwrittenError('run-r1', 9, 17).toPayload();
  md.set('sie-error-bin', Buffer.from(ErrorInfo.encode(payload).finish()));
  const err = detectErrorFromGrpc(
    grpcError(status.ABORTED, payload.message, md),
    { modelId: 'm', frame },
    1000,
  );
  assert.ok(err instanceof FrameOverwrittenError);
  assert.equal(err.foundSeq, 17);

  const codeOnly = new Metadata();
  codeOnly.set('sie-error-code', 'model_not_found');
  const e2 = detectErrorFromGrpc(
    grpcError(status.NOT_FOUND, 'gone', codeOnly),
    { modelId: 'm', frame },
    1000,
  );
  assert.equal(e2.code, 'model_not_found');
});

test('without trailers, the gRPC status decides', () => {
  const call = { modelId: 'm', frame };
  const code = (s: status, details = 'x') =>
    detectErrorFromGrpc(grpcError(s, details), call, 500).code;
  assert.equal(code(status.UNAVAILABLE), 'unavailable');
  assert.equal(code(status.DEADLINE_EXCEEDED), 'timeout');
  assert.equal(code(status.ABORTED), 'frame_overwritten');
  assert.equal(code(status.NOT_FOUND, 'model m is not loaded'), 'model_not_found');
  assert.equal(code(status.INTERNAL), 'internal_error');
});
