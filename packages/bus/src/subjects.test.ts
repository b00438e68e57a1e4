import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  controlSubject,
  detectionsSubject,
  eventStreamSubjects,
  eventSubject,
  heartbeatSubject,
  runEventsSubject,
  runIdFromSubject,
  runStatusStreamSubjects,
  runStatusSubject,
  stageReportSubject,
  tenantEventsFilterSubject,
  tenantEventsSubject,
  traceKeepSubject,
} from './index.js';

test('subjects follow the documented layout', () => {
  assert.equal(detectionsSubject('r1'), 'sie.det.r1');
  assert.equal(eventSubject('t1', 'r1', 'door'), 'sie.evt.t1.r1.door');
  assert.equal(tenantEventsSubject('t1'), 'sie.evt.t1.>');
  assert.equal(runEventsSubject('t1', 'r1'), 'sie.evt.t1.r1.*');
  assert.equal(eventStreamSubjects(), 'sie.evt.>');
  assert.equal(tenantEventsFilterSubject('t1', {}), 'sie.evt.t1.>');
  assert.equal(tenantEventsFilterSubject('t1', { runId: 'r1' }), 'sie.evt.t1.r1.*');
  assert.equal(tenantEventsFilterSubject('t1', { ruleId: 'door' }), 'sie.evt.t1.*.door');
  assert.equal(
    tenantEventsFilterSubject('t1', { runId: 'r1', ruleId: 'door' }),
    'sie.evt.t1.r1.door',
  );
  assert.throws(() => tenantEventsFilterSubject('t1', { ruleId: '>' }), /rule id/);
  assert.equal(heartbeatSubject('r1', 'ingest'), 'sie.hb.r1.ingest');
  assert.equal(stageReportSubject('r1', 'render'), 'sie.rpt.r1.render');
  assert.equal(runStatusSubject('t1', 'r1'), 'sie.status.t1.r1');
  assert.equal(runStatusStreamSubjects(), 'sie.status.>');
  assert.equal(controlSubject('node-a', 'ingest', 'start'), 'sie.ctl.node-a.ingest.start');
  assert.equal(runIdFromSubject('sie.det.r_9'), 'r_9');
  assert.equal(traceKeepSubject(), 'sie.trace.keep');
});

test('ids that would change a subject are refused', () => {
  for (const bad of ['', 'a.b', 'a*', '>', 'a b', 'x'.repeat(129), 'ü']) {
    assert.throws(() => detectionsSubject(bad), RangeError, bad);
  }
  assert.throws(() => eventSubject('t1', 'r1', 'rule.>'), /rule id/);
});
