import type { Metadata } from '@grpc/grpc-js';
import { extractTraceContext, type Context } from '@sie/telemetry';

/** The caller's W3C trace context (`traceparent`, `tracestate`) from gRPC metadata. */
export function traceContextOf(metadata: Metadata): Context {
  const carrier: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === 'string') carrier[key] = value;
  }
  return extractTraceContext(carrier);
}
