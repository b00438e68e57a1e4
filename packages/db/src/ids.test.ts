import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '@sie/errors';
import { RUN_STATUSES, isRunStatus, newId } from './index.js';

test('newId gives prefixed, unique ids and refuses odd prefixes', () => {
  const a = newId('run');
  assert.match(a, /^run_[0-9a-f]{32}$/);
  assert.notEqual(a, newId('run'));
  assert.throws(() => newId('Run-'), InvalidArgumentError);
});

test('the run-state vocabulary is the seven states', () => {
  assert.equal(RUN_STATUSES.length, 7);
  assert.ok(isRunStatus('in_startup_processing'));
  assert.ok(!isRunStatus('running'));
});
