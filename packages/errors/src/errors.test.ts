import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FrameOverwrittenError,
  ModelError,
  RemoteError,
  SourceUnreachableError,
  asSieError,
  fromErrorPayload,
  toErrorPayload,
} from './index.js';

test('an error survives the wire with its class, code and typed fields', () => {
  const sent = new FrameOverwrittenError('ring-a', 7, 15);
  const received = fromErrorPayload(toErrorPayload(sent));
  assert.ok(received instanceof FrameOverwrittenError);
  assert.equal(received.code, 'frame_overwritten');
  assert.equal(received.wantedSeq, 7);
  assert.equal(received.foundSeq, 15);
  assert.equal(received.message, sent.message);
});

test('the sender message is kept when the class builds its own', () => {
  const p = new ModelError('not an ONNX file: protobuf parsing failed', 'm1').toPayload();
  const r = fromErrorPayload(p);
  assert.ok(r instanceof ModelError);
  assert.equal(r.modelId, 'm1');
  assert.match(r.message, /protobuf parsing failed/);
});

test('an unknown code becomes a RemoteError that keeps code and details', () => {
  const r = fromErrorPayload({ code: 'gpu_on_fire', message: 'hot', details: { t: '99' } });
  assert.ok(r instanceof RemoteError);
  assert.equal(r.code, 'gpu_on_fire');
  assert.deepEqual(r.details(), { t: '99' });
});

test('plain errors become internal_error with the original as cause', () => {
  const cause = new TypeError('boom');
  const e = asSieError(cause);
  assert.equal(e.code, 'internal_error');
  assert.equal(e.cause, cause);
  assert.equal(toErrorPayload('x').code, 'internal_error');
  const s = new SourceUnreachableError('connection refused', 'rtsp://h/x');
  assert.equal(asSieError(s), s);
});
