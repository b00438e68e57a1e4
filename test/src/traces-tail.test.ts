/**
 * Tail sampling: with the head ratio at 0 no ordinary frame is traced, yet every frame that raised
 * an event is exported whole — the rules service keeps its span and asks ingest, inference and
 * render (over `sie.trace.keep`) for the spans they still hold of that frame.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { asset } from './support/env.js';
import type { NodeStack } from './support/node-stack.js';
import type { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver.js';
import { startRun, startStageRun, type TestRun } from './support/runs.js';
import type { ServiceProcess } from './support/service-process.js';
import { startTracedStack, type TracedStack } from './support/traced-stack.js';

const RULES = JSON.stringify({
  zones: [
    {
      id: 'hall',
      polygon: [
        [0.2, 0.3],
        [0.8, 0.3],
        [0.8, 0.95],
        [0.2, 0.95],
      ],
    },
  ],
  rules: [{ id: 'enter', kind: 'zone_enter', zone: 'hall', classes: ['person'] }],
});

let stack: TracedStack;
let receiver: OtlpReceiver;
let node: NodeStack;
let rules: ServiceProcess;
let render: ServiceProcess;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  stack = await startTracedStack('traces-tail', 0);
  ({ receiver, node, rules, render } = stack);
});

after(async () => {
  await stack?.stop();
});

test(
  'at sampling ratio 0, frames that raise an event are traced whole and no other frame is',
  { timeout: 120_000 },
  async () => {
    const runId = `tail-${process.pid}`;
    const run: TestRun = {
      runId,
      modelId: 'yolox',
      source: { url: asset('media/vtest.avi'), realtime: true, loop: true },
      rulesJson: RULES,
    };
    for (const stage of ['rules', 'render'] as const) {
      const answer = await startStageRun(node.bus, node.nodeId, stage, run);
      assert.equal(answer.accepted, true, `${stage}: ${answer.error?.message}`);
    }
    const answer = await startRun(node.bus, node.nodeId, run);
    assert.equal(answer.accepted, true, answer.error?.message);

    const eventSpans = (): ReceivedSpan[] =>
      receiver.spans.filter((s) => s.service === 'sie-rules' && s.attributes['sie.run'] === runId);
    const deadline = Date.now() + 60_000;
    while (eventSpans().length < 3) {
      assert.ok(Date.now() < deadline, `only ${eventSpans().length} event frames traced in 60 s`);
      await sleep(500);
    }
    await sleep(1500);
    // Stopping flushes every process's batch span processor.
    await Promise.all([node.stop(), rules.stop(), render.stop()]);

    // Inference spans carry the model, not the run: group every span by trace, keep the run's.
    const ofRun = new Set(
      receiver.spans.filter((s) => s.attributes['sie.run'] === runId).map((s) => s.traceId),
    );
    const byTrace = new Map<string, ReceivedSpan[]>();
    for (const s of receiver.spans) {
      if (!ofRun.has(s.traceId)) continue;
      byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
    }
    assert.ok(byTrace.size >= 3);
    let withRender = 0;
    let eventTraces = 0;
    for (const [traceId, spans] of byTrace) {
      // A frame that hit an error (inference still loading the model at the start, say) is kept
      // whole too, by design; every other exported frame must have raised an event.
      if (spans.some((s) => s.error)) continue;
      const ruleSpan = spans.find((s) => s.service === 'sie-rules');
      assert.ok(ruleSpan, `trace ${traceId} was exported without an event or an error`);
      eventTraces++;
      assert.ok(
        Number(ruleSpan.attributes['sie.events']) > 0,
        `trace ${traceId}: rules.frame raised no event, yet the frame was exported at ratio 0`,
      );
      const services = new Set(spans.map((s) => s.service));
      for (const svc of ['sie-ingest', 'sie-inference']) {
        assert.ok(services.has(svc), `event trace ${traceId} lacks ${svc}: ${[...services]}`);
      }
      const root = spans.find((s) => s.service === 'sie-ingest');
      assert.equal(root?.attributes['sie.frame.seq'], ruleSpan.attributes['sie.frame.seq']);
      if (services.has('sie-render')) withRender++;
    }
    assert.ok(eventTraces >= 3, `${eventTraces} event traces`);
    // Render draws the latest frame only, so not every event frame is drawn; most are.
    assert.ok(withRender >= 1, 'no event trace reached render');
  },
);
