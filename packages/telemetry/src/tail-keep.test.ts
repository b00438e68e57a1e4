import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { FrameSampler, KEEP_ATTRIBUTE, TailKeepProcessor } from './tail-keep.js';

function setup(): {
  exporter: InMemorySpanExporter;
  tail: TailKeepProcessor;
  kept: string[];
  provider: BasicTracerProvider;
} {
  const exporter = new InMemorySpanExporter();
  const kept: string[] = [];
  const tail = new TailKeepProcessor(new SimpleSpanProcessor(exporter), {
    onKeep: (id) => kept.push(id),
  });
  const provider = new BasicTracerProvider({
    sampler: new FrameSampler(0),
    spanProcessors: [tail],
  });
  return { exporter, tail, kept, provider };
}

test('frames outside the ratio are not exported unless they raise an event or an error', () => {
  const { exporter, kept, provider } = setup();
  const tracer = provider.getTracer('t');
  const plain = tracer.startSpan('ingest.frame');
  plain.end();
  assert.equal(exporter.getFinishedSpans().length, 0, 'a plain frame at ratio 0 is dropped');

  const root = tracer.startSpan('ingest.frame');
  const ctx = trace.setSpan(context.active(), root);
  const child = tracer.startSpan('inference.detect', {}, ctx);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'model failed' });
  child.end();
  root.end();
  const names = exporter.getFinishedSpans().map((s) => s.name);
  assert.deepEqual(names, ['inference.detect', 'ingest.frame'], 'the erroring frame is kept whole');
  assert.deepEqual(kept, [root.spanContext().traceId], 'other services are told to keep it');
  for (const s of exporter.getFinishedSpans()) {
    assert.equal(s.spanContext().traceFlags & 1, 1, 'exported spans carry the sampled flag');
  }
});

test('a keep request from another service exports the held spans of that trace only', () => {
  const { exporter, tail, provider } = setup();
  const tracer = provider.getTracer('t');
  const a = tracer.startSpan('ingest.frame');
  a.end();
  const b = tracer.startSpan('ingest.frame');
  b.end();
  tail.keep(b.spanContext().traceId);
  assert.deepEqual(
    exporter.getFinishedSpans().map((s) => s.spanContext().traceId),
    [b.spanContext().traceId],
  );
  // A span of the kept trace that ends later (render after rules) is exported too.
  const late = tracer.startSpan('render.frame', {}, trace.setSpan(context.active(), b));
  late.end();
  assert.equal(exporter.getFinishedSpans().length, 2);
});

test('the keep attribute marks an event frame; sampled frames pass through untouched', () => {
  const exporter = new InMemorySpanExporter();
  const tail = new TailKeepProcessor(new SimpleSpanProcessor(exporter));
  const provider = new BasicTracerProvider({
    sampler: new FrameSampler(1),
    spanProcessors: [tail],
  });
  const s = provider.getTracer('t').startSpan('rules.frame');
  s.end();
  assert.equal(exporter.getFinishedSpans().length, 1);

  const { exporter: e2, provider: p2 } = setup();
  const ev = p2.getTracer('t').startSpan('rules.frame');
  ev.setAttribute(KEEP_ATTRIBUTE, true);
  ev.end();
  assert.equal(e2.getFinishedSpans().length, 1);
});

test('held spans are bounded in number', () => {
  const exporter = new InMemorySpanExporter();
  const tail = new TailKeepProcessor(new SimpleSpanProcessor(exporter), { maxHeldSpans: 10 });
  const provider = new BasicTracerProvider({
    sampler: new FrameSampler(0),
    spanProcessors: [tail],
  });
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const s = provider.getTracer('t').startSpan('f');
    ids.push(s.spanContext().traceId);
    s.end();
  }
  tail.keep(ids[0] ?? '');
  assert.equal(exporter.getFinishedSpans().length, 0, 'the oldest frame was already forgotten');
  tail.keep(ids[49] ?? '');
  assert.equal(exporter.getFinishedSpans().length, 1, 'the newest is still held');
});
