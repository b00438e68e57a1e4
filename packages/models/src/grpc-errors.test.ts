import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo, PixelFormat, type FrameRef } from '@sie/contracts';
import { FrameOverwrittenError, ModelError, TimeoutError } from '@sie/errors';
import { ERROR_CODE_KEY, ERROR_INFO_KEY, sieErrorFromGrpc, type GrpcCallInfo } from './index.js';

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
  generation: 0,
};

const detect: GrpcCallInfo = { operation: 'Detect', timeoutMs: 500, modelId: 'm', frame };

const grpcError = (code: status, details: string, metadata = new Metadata()): ServiceError =>
  Object.assign(new Error(details), { code, details, metadata });

test('the error the inference service put in the trailers is rebuilt, class and fields', () => {
  const md = new Metadata();
  const payload = new FrameOverwrittenError('run-r1', 9, 17).toPayload();
  md.set(ERROR_INFO_KEY, Buffer.from(ErrorInfo.encode(payload).finish()));
  const err = sieErrorFromGrpc(grpcError(status.ABORTED, payload.message, md), detect);
  assert.ok(err instanceof FrameOverwrittenError);
  assert.equal(err.foundSeq, 17);

  const load = new Metadata();
  const why = new ModelError('cannot load model x: /m/x.onnx: not an ONNX model', 'x');
  load.set(ERROR_INFO_KEY, Buffer.from(ErrorInfo.encode(why.toPayload()).finish()));
  const e = sieErrorFromGrpc(grpcError(status.FAILED_PRECONDITION, why.message, load), {
    operation: 'LoadModel',
    timeoutMs: 1000,
    modelId: 'x',
  });
  assert.ok(e instanceof ModelError);
  assert.equal(e.message, why.message);
  assert.equal(e.modelId, 'x');
});

test('with the code only (or a corrupt payload), the code decides', () => {
  const codeOnly = new Metadata();
  codeOnly.set(ERROR_CODE_KEY, 'model_not_found');
  codeOnly.set(ERROR_INFO_KEY, Buffer.from([0xff, 0xff, 0xff]));
  const e = sieErrorFromGrpc(grpcError(status.NOT_FOUND, 'gone', codeOnly), detect);
  assert.equal(e.code, 'model_not_found');
  assert.deepEqual(e.details(), { modelId: 'm' });
});

test('without trailers, the gRPC status decides', () => {
  const code = (s: status, call: GrpcCallInfo = detect) =>
    sieErrorFromGrpc(grpcError(s, 'x'), call).code;
  assert.equal(code(status.NOT_FOUND), 'model_not_found');
  assert.equal(code(status.INVALID_ARGUMENT), 'invalid_argument');
  assert.equal(code(status.UNAVAILABLE), 'unavailable');
  assert.equal(code(status.RESOURCE_EXHAUSTED), 'unavailable');
  assert.equal(code(status.DEADLINE_EXCEEDED), 'timeout');
  assert.equal(code(status.ABORTED), 'frame_overwritten');
  assert.equal(code(status.ABORTED, { operation: 'LoadModel', timeoutMs: 1 }), 'internal_error');
  assert.equal(code(status.INTERNAL), 'internal_error');
  assert.equal(code(status.UNKNOWN), 'internal_error');
  const timeout = sieErrorFromGrpc(grpcError(status.DEADLINE_EXCEEDED, 'late'), detect);
  assert.ok(timeout instanceof TimeoutError);
  assert.equal(timeout.message, 'Detect timed out after 500 ms');
});
