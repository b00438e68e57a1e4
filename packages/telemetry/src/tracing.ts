import {
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { FrameSampler, KEEP_ATTRIBUTE, TailKeepProcessor } from './tail-keep.js';

export interface TracingOptions {
  service: string;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. No export when empty. */
  otlpEndpoint?: string;
  /** Fraction of root spans (frames) sampled, 0–1. */
  sampleRatio?: number;
  /**
   * Also export every frame that raises an event or an error, whatever the ratio (default true):
   * unsampled spans are recorded and held briefly until their trace is kept or forgotten.
   */
  keepEventsAndErrors?: boolean;
}

export interface Tracing {
  tracer: Tracer;
  /** Exports this process's held spans of `traceId` (another service kept the trace). */
  keepTrace(traceId: string): void;
  /** Called with the trace id when a span here ends with an error or `sie.keep` set. */
  onKeep(listener: (traceId: string) => void): void;
  shutdown(): Promise<void>;
}

/** Marks the span so its whole trace is exported (the frame raised an event). */
export function keepSpanTrace(span: Span): void {
  span.setAttribute(KEEP_ATTRIBUTE, true);
}

/**
 * Registers W3C trace-context propagation (always, so context crosses NATS and gRPC even when
 * this process exports nothing) and, when an endpoint is configured, an OTLP exporter.
 */
export function initTracing(options: TracingOptions): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spanProcessors: SpanProcessor[] = [];
  const ratio = options.sampleRatio ?? 0.01;
  const listeners: ((traceId: string) => void)[] = [];
  let tail: TailKeepProcessor | undefined;
  // Recording unsampled spans costs CPU, so only when there is somewhere to export them.
  const keep = Boolean(options.otlpEndpoint) && (options.keepEventsAndErrors ?? true);
  if (options.otlpEndpoint) {
    const batch = new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }));
    if (keep) {
      tail = new TailKeepProcessor(batch, {
        onKeep: (traceId) => listeners.forEach((l) => l(traceId)),
      });
      spanProcessors.push(tail);
    } else {
      spanProcessors.push(batch);
    }
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `sie-${options.service}` }),
    sampler: keep
      ? new FrameSampler(ratio)
      : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer(`sie-${options.service}`),
    keepTrace: (traceId) => tail?.keep(traceId),
    onKeep: (listener) => void listeners.push(listener),
    shutdown: () => provider.shutdown(),
  };
}

/** Writes the active (or given) context into a string carrier such as NATS or gRPC headers. */
export function injectTraceContext(
  carrier: Record<string, string>,
  ctx: Context = context.active(),
): void {
  propagation.inject(ctx, carrier);
}

/** Reads a trace context from a string carrier; returns the active context when there is none. */
export function extractTraceContext(carrier: Record<string, string | undefined>): Context {
  return propagation.extract(context.active(), carrier, {
    get: (c, key) => c[key],
    keys: (c) => Object.keys(c),
  });
}

export { SpanStatusCode, context, trace };
export type { Context, Span, Tracer };
