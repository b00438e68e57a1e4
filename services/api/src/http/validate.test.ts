import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { RequestInvalidError } from '../errors.js';
import { parseInput, unstorablePaths } from './validate.js';

test('NUL and unpaired surrogates are refused by path, in values and keys', () => {
  const schema = z.strictObject({ name: z.string(), tags: z.array(z.string()) });
  assert.throws(
    () => parseInput(schema, { name: 'a\u0000b', tags: ['ok', '\ud800'] }, 'body'),
    (err: unknown) =>
      err instanceof RequestInvalidError &&
      err.issues
        .map((i) => i.path)
        .sort()
        .join(' ') === 'body.name body.tags.1',
  );
  // A well-formed pair (an emoji) is fine.
  assert.deepEqual(parseInput(schema, { name: '\ud83d\ude00', tags: [] }), {
    name: '\ud83d\ude00',
    tags: [],
  });
  assert.deepEqual(unstorablePaths({ ['k\u0000']: 1, ok: { deep: ['x', 'y\u0000'] } }).sort(), [
    'k\u0000',
    'ok.deep.1',
  ]);
});

test('a value nested 200 000 levels deep is walked in linear time', () => {
  let v: unknown = 'leaf\u0000';
  for (let i = 0; i < 200_000; i++) v = [v];
  const started = Date.now();
  const paths = unstorablePaths(v);
  assert.equal(paths.length, 1);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});
