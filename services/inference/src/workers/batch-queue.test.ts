import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchQueue, NO_BATCHING, type BatchPolicy, type Queued } from './batch-queue.js';

const POLICY: BatchPolicy = { maxBatch: 3, maxQueueDelayMs: 10 };
const policyOf = (model: string): BatchPolicy => (model === 'static' ? NO_BATCHING : POLICY);

const q = (
  item: string,
  enqueuedAt: number,
  over: Partial<Queued<string>> = {},
): Queued<string> => ({
  item,
  model: 'dyn',
  stream: null,
  seq: 0,
  enqueuedAt,
  ...over,
});

const items = (t: ReturnType<BatchQueue<string>['take']>): string[] =>
  t && 'batch' in t ? t.batch.map((x) => x.item) : [];

test('a full batch goes at once; a partial one waits until its oldest request is due', () => {
  const queue = new BatchQueue<string>();
  queue.push(q('a', 0));
  queue.push(q('b', 2));
  assert.deepEqual(queue.take(3, policyOf), { waitMs: 7 });
  queue.push(q('c', 4));
  queue.push(q('d', 5));
  assert.deepEqual(items(queue.take(5, policyOf)), ['a', 'b', 'c']);
  assert.deepEqual(queue.take(6, policyOf), { waitMs: 9 });
  assert.deepEqual(items(queue.take(15, policyOf)), ['d']);
  assert.equal(queue.take(15, policyOf), null);
  assert.equal(queue.size, 0);
});

test('a model without batching runs each request alone, at once; the oldest due model goes first', () => {
  const queue = new BatchQueue<string>();
  queue.push(q('d1', 0));
  queue.push(q('s1', 1, { model: 'static' }));
  queue.push(q('s2', 2, { model: 'static' }));
  assert.deepEqual(items(queue.take(3, policyOf)), ['s1']);
  // dyn's request is due at 10 and is older than s2: it goes first then.
  assert.deepEqual(items(queue.take(11, policyOf)), ['d1']);
  assert.deepEqual(items(queue.take(11, policyOf)), ['s2']);
});

test('a newer frame of a stream replaces the queued older one (latest frame wins)', () => {
  const queue = new BatchQueue<string>();
  assert.deepEqual(queue.push(q('cam1-5', 0, { stream: 'cam1', seq: 5 })), []);
  queue.push(q('cam2-9', 1, { stream: 'cam2', seq: 9 }));
  const dropped = queue.push(q('cam1-6', 2, { stream: 'cam1', seq: 6 }));
  assert.deepEqual(
    dropped.map((d) => d.item),
    ['cam1-5'],
  );
  // An older frame arriving late is itself the one dropped.
  assert.deepEqual(
    queue.push(q('cam1-4', 3, { stream: 'cam1', seq: 4 })).map((d) => d.item),
    ['cam1-4'],
  );
  assert.equal(queue.size, 2);
  assert.deepEqual(items(queue.take(100, policyOf)), ['cam2-9', 'cam1-6']);
  assert.deepEqual(queue.drain(), []);
});

test('a due queue is shared between the idle workers, so no core idles while another has it all', () => {
  const queue = new BatchQueue<string>();
  const wide: BatchPolicy = { maxBatch: 8, maxQueueDelayMs: 0 };
  for (const [i, item] of ['a', 'b', 'c', 'd', 'e'].entries()) queue.push(q(item, i));
  assert.deepEqual(items(queue.take(10, () => wide, 2)), ['a', 'b', 'c']);
  assert.deepEqual(items(queue.take(10, () => wide, 1)), ['d', 'e']);
  assert.equal(queue.size, 0);
});
