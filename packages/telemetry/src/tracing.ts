import {
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

export interface TracingOptions {
  service: string;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. No export when empty. */
  otlpEndpoint?: string;
  /** Fraction of root spans (frames) sampled, 0–1. */
  sampleRatio?: number;
}

export interface Tracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

/**
 * Registers W3C trace-context propagation (always, so context crosses NATS and gRPC even when
 * this process exports nothing) and, when an endpoint is configured, an OTLP exporter.
 */
export function initTracing(options: TracingOptions): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spanProcessors: SpanProcessor[] = [];
  if (options.otlpEndpoint) {
    spanProcessors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint })),
    );
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `sie-${options.service}` }),
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 0.01),
    }),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
  return { tracer: trace.getTracer(`sie-${options.service}`), shutdown: () => provider.shutdown() };
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

export { context, trace };
export type { Context, Span, Tracer };
