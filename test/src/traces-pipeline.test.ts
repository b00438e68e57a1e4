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
import { RtspServer } from '@sie/rtsp-server';
import { asset, natsUrl } from './support/env.js';
import { startNodeStack, type NodeStack } from './support/node-stack.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { startRun, startStageRun, type TestRun } from './support/runs.js';
import { startServiceProcess, type ServiceProcess } from './support/service-process.js';

const receiver = new OtlpReceiver();
let rtsp: RtspServer;
let node: NodeStack;
let rules: ServiceProcess;
let render: ServiceProcess;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  const endpoint = await receiver.start();
  rtsp = new RtspServer({ host: '127.0.0.1', port: 0 });
  const rtspPort = await rtsp.start();
  const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint, SIE_TRACING__SAMPLE_RATIO: '1' };
  node = await startNodeStack('traces-pipeline', { env });
  const common = { ...env, NATS_URL: natsUrl(), SIE_NODE_ID: node.nodeId };
  [rules, render] = await Promise.all([
    startServiceProcess('rules', common),
    startServiceProcess('render', {
      ...common,
      SIE_FRAME_STORE_DIR: node.frameDir,
      SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${rtspPort}`,
    }),
  ]);
});

after(async () => {
  await Promise.all([rules?.stop(), render?.stop(), node?.stop()]);
  await rtsp?.stop();
  await receiver.stop();
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
