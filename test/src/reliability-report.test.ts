import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatDuration,
  latestPerCase,
  parseRecords,
  renderReliabilityReport,
} from './support/reliability-report-md.js';

const line = (o: object): string => JSON.stringify(o);

test('the report keeps the newest record per case and shows every column', () => {
  const text = [
    line({
      suite: 'fault',
      name: 'kill -9 ingest',
      outcome: 'recovered',
      recoverMs: 9000,
      dataLost: 'lost 3',
      at: '2026-01-01T00:00:00Z',
    }),
    line({
      suite: 'input',
      name: 'API | fuzz',
      outcome: 'rejected',
      dataLost: 'none',
      at: '2026-01-01T00:00:01Z',
    }),
    line({
      suite: 'fault',
      name: 'kill -9 ingest',
      outcome: 'recovered',
      recoverMs: 8400,
      dataLost: 'none',
      detail: '4 runs',
      at: '2026-01-01T00:00:02Z',
    }),
    '',
  ].join('\n');
  const { records, problems } = parseRecords(text);
  assert.deepEqual(problems, []);
  const latest = latestPerCase(records);
  assert.equal(latest.length, 2);
  const md = renderReliabilityReport(latest, { files: ['a.jsonl'], generatedAt: 'now' });
  assert.match(md, /\| fault \| kill -9 ingest \| recovered \| 8\.4 s \| none \| 4 runs \|/);
  assert.match(md, /\| input \| API \\\| fuzz \| rejected \| — \| none \|/);
  assert.match(md, /data lost: \*\*none\*\*/);
  assert.ok(md.indexOf('kill -9 ingest') < md.indexOf('API'), 'faults come first');
});

test('a damaged log is reported, not silently shortened', () => {
  const { records, problems } = parseRecords('{"suite":"fault"}\nnot json\n');
  assert.equal(records.length, 0);
  assert.equal(problems.length, 2);
  assert.equal(formatDuration(250), '250 ms');
  assert.equal(formatDuration(undefined), '—');
});
