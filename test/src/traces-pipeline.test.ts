/**
 * One frame, four stages: with sampling at 100 %, a frame's trace holds `ingest.frame` (the
 * root), `inference.detect` (gRPC metadata), `rules.frame` (NATS headers of the detections) and
 * `render.frame` (NATS headers of the overlay, or of the detections), all under one trace id and
 * exported over OTLP to a receiver this test runs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { overlaysSubject } from '@sie/bus';
import { Overlay } from '@sie/contracts';
import { asset } from './support/env.js';
import type { NodeStack } from './support/node-stack.js';
import type { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver.js';
import { startRun, startStageRun, type TestRun } from './support/runs.js';
import type { ServiceProcess } from './support/service-process.js';
import { startTracedStack, type TracedStack } from './support/traced-stack.js';

let stack: TracedStack;
let receiver: OtlpReceiver;
let node: NodeStack;
let rules: ServiceProcess;
let render: ServiceProcess;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  stack = await startTracedStack('traces-pipeline', 1);
  ({ receiver, node, rules, render } = stack);
});

after(async () => {
  await stack?.stop();
});

test(
  'one sampled frame yields spans from ingest, inference, rules and render under one trace id',
  { timeout: 90_000 },
  async () => {
    const runId = `traced-all-${process.pid}`;
    const run: TestRun = {
      runId,
      modelId: 'yolox',
      source: { url: asset('media/vtest.avi'), realtime: true, loop: true },
    };
    let overlays = 0;
    const sub = node.bus.subscribe(overlaysSubject(runId), Overlay, () => {
      overlays++;
    });
    await node.bus.flush();
    // Downstream stages first, as the scheduler does, so they see the run's first frames.
    for (const stage of ['rules', 'render'] as const) {
      const answer = await startStageRun(node.bus, node.nodeId, stage, run);
      assert.equal(answer.accepted, true, `${stage}: ${answer.error?.message}`);
    }
    const answer = await startRun(node.bus, node.nodeId, run);
    assert.equal(answer.accepted, true, answer.error?.message);
    const deadline = Date.now() + 30_000;
    while (overlays < 20) {
      assert.ok(Date.now() < deadline, `only ${overlays} overlays in 30 s`);
      await sleep(100);
    }
    // Let render draw and encode the latest frames, then stop every process: stopping flushes
    // their batch span processors.
    await sleep(1500);
    sub.unsubscribe();
    await Promise.all([node.stop(), rules.stop(), render.stop()]);

    const ofRun = receiver.spans.filter((s) => s.attributes['sie.run'] === runId);
    const byTrace = new Map<string, ReceivedSpan[]>();
    for (const s of receiver.spans) {
      const list = byTrace.get(s.traceId) ?? [];
      list.push(s);
      byTrace.set(s.traceId, list);
    }
    const services = ['sie-ingest', 'sie-inference', 'sie-rules', 'sie-render'];
    const complete = [...new Set(ofRun.map((s) => s.traceId))].filter((traceId) => {
      const spans = byTrace.get(traceId) ?? [];
      return services.every((svc) => spans.some((s) => s.service === svc));
    });
    const seen = [...new Set(ofRun.map((s) => `${s.service}/${s.name}`))].join(', ');
    assert.ok(complete.length >= 1, `no trace holds all four stages (spans seen: ${seen})`);

    // The parent chain of one complete trace: render → rules or ingest, rules → ingest (root).
    const spans = byTrace.get(complete[0]!)!;
    const bySpanId = new Map(spans.map((s) => [s.spanId, s]));
    const root = spans.find((s) => s.service === 'sie-ingest')!;
    assert.equal(root.name, 'ingest.frame');
    assert.equal(root.parentSpanId, '');
    const ruleSpan = spans.find((s) => s.service === 'sie-rules')!;
    assert.equal(ruleSpan.name, 'rules.frame');
    assert.equal(ruleSpan.parentSpanId, root.spanId);
    assert.equal(ruleSpan.attributes['sie.frame.seq'], root.attributes['sie.frame.seq']);
    assert.notEqual(ruleSpan.attributes['sie.events'], undefined, 'rules.frame counts events');
    for (const r of spans.filter((s) => s.service === 'sie-render')) {
      assert.equal(r.name, 'render.frame');
      assert.ok(
        ['sie-rules', 'sie-ingest'].includes(bySpanId.get(r.parentSpanId)?.service ?? ''),
        'a render span is a child of the rules or the ingest span',
      );
    }
  },
);
