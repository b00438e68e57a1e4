import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, extractTraceContext, initTracing, injectTraceContext, trace } from './index.js';

test('trace context round-trips through a header carrier', async () => {
  const tracing = initTracing({ service: 'unit', sampleRatio: 1 });
  const span = tracing.tracer.startSpan('frame');
  const headers: Record<string, string> = {};
  injectTraceContext(headers, trace.setSpan(context.active(), span));
  assert.match(headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const remote = trace.getSpanContext(extractTraceContext(headers));
  assert.equal(remote?.traceId, span.spanContext().traceId);
  span.end();
  await tracing.shutdown();
});
