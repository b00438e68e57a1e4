/**
 * A frame can be followed across processes: with sampling at 100 %, each processed frame's
 * trace holds the ingest span and, as its child, the inference span (W3C traceparent in gRPC
 * metadata), both exported over OTLP to a receiver this test runs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StageEventKind } from '@sie/contracts';
import { asset } from './support/env.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { OtlpReceiver } from './support/otlp-receiver.js';
import { RunWatch } from './support/run-watch.js';
import { startRun, stopRun } from './support/runs.js';

const receiver = new OtlpReceiver();
let node: NodeStack;

before(async () => {
  const endpoint = await receiver.start();
  node = await startNodeStack('traces', {
    env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint, SIE_TRACING__SAMPLE_RATIO: '1' },
  });
});

after(async () => {
  await node?.stop();
  await receiver.stop();
});

test(
  'one frame, one trace: ingest and inference spans share the trace id',
  { timeout: 60_000 },
  async () => {
    const runId = `traced-${process.pid}`;
    const watch = new RunWatch(node.bus, runId);
    const answer = await startRun(node.bus, node.nodeId, {
      runId,
      modelId: 'yolox',
      source: { url: asset('media/vtest.avi'), realtime: true, loop: true },
    });
    assert.equal(answer.accepted, true, answer.error?.message);
    await watch.until(
      () => (watch.detections.length >= 10 ? true : undefined),
      30_000,
      '10 frames',
    );
    await stopRun(node.bus, node.nodeId, runId);
    await watch.report(StageEventKind.STAGE_EVENT_KIND_STOPPED, 10_000);
    // Stopping the services flushes their batch span processors.
    await node.stop();

    const ingestSpans = receiver.spans.filter(
      (s) => s.service === 'sie-ingest' && s.attributes['sie.run'] === runId,
    );
    assert.ok(ingestSpans.length >= 10, `${ingestSpans.length} ingest spans for the run`);
    const bySpanId = new Map(receiver.spans.map((s) => [s.spanId, s]));
    let followed = 0;
    for (const root of ingestSpans) {
      const children = receiver.spans.filter(
        (s) => s.service === 'sie-inference' && s.traceId === root.traceId,
      );
      if (children.length === 0) continue;
      followed++;
      assert.ok(
        children.some(
          (c) =>
            bySpanId.get(c.parentSpanId)?.service === 'sie-ingest' ||
            c.parentSpanId === root.spanId,
        ),
      );
    }
    assert.ok(
      followed >= 0.9 * ingestSpans.length,
      `only ${followed} of ${ingestSpans.length} frames were followed into inference`,
    );
  },
);
