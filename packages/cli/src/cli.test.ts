import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedPaths } from './pipeline-file.js';
import { progressLine } from './progress.js';
import { table } from './output.js';
import { SseParser } from './sse.js';
import { sinceParam } from './since.js';

const enc = new TextEncoder();

test('SSE: events split across chunks arrive whole; comments and CRLF are handled', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(enc.encode(': connected\n\nid: 7\nevent: ev')), []);
  assert.deepEqual(p.push(enc.encode('ent\ndata: {"a":1}\n\n: keep-alive\n\nid: 8\r\n')), [
    { id: '7', event: 'event', data: '{"a":1}' },
  ]);
  assert.deepEqual(p.push(enc.encode('data: x\r\ndata: y\r\n\r')), []);
  assert.deepEqual(p.push(enc.encode('\n')), [{ id: '8', event: 'message', data: 'x\ny' }]);
});

test('--since: durations back from now, ISO times and sequences; nonsense refused', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(sinceParam('15m', now), '2026-01-01T11:45:00.000Z');
  assert.equal(sinceParam('2h', now), '2026-01-01T10:00:00.000Z');
  assert.equal(sinceParam('1d', now), '2025-12-31T12:00:00.000Z');
  assert.equal(sinceParam('2026-01-01T08:00:00+01:00', now), '2026-01-01T07:00:00.000Z');
  assert.equal(sinceParam('42', now), '42');
  assert.equal(sinceParam('yesterday', now), undefined);
});

test('tables: columns padded to the widest cell, no trailing spaces', () => {
  assert.equal(
    table(
      ['ID', 'NAME'],
      [
        ['a', 'door'],
        ['longer', 'x'],
      ],
    ),
    'ID      NAME\na       door\nlonger  x\n',
  );
});

test('apply diff: changed leaf paths, arrays compared whole', () => {
  assert.deepEqual(
    changedPaths(
      { name: 'a', config: { s: 0.4, classes: ['p'], retry: { n: 1 } } },
      { name: 'a', config: { s: 0.5, classes: ['p', 'd'], retry: { n: 1 }, fps: 5 } },
    ),
    ['config.classes', 'config.fps', 'config.s'],
  );
});

test('progress line: percentage, bytes and rate', () => {
  assert.equal(
    progressLine('up', 500_000, 2_000_000, 1000),
    'up [######------------------]  25%  500.0 KB / 2.0 MB  500.0 KB/s',
  );
});
