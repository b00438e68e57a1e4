import { traceKeepSubject, type Bus, type ProtoCodec, type Subscription } from '@sie/bus';
import type { Tracing } from '@sie/telemetry';

const TRACE_ID = /^[0-9a-f]{32}$/;

/** A trace id travels as its 32 hex characters. */
const traceIdCodec: ProtoCodec<string> = {
  encode: (id) => ({ finish: () => new TextEncoder().encode(id) }),
  decode: (bytes) => new TextDecoder().decode(bytes),
};

/**
 * Tail sampling across services: when a span here raises an event or ends in error, every other
 * service is asked to export what it still holds of that frame's trace, and this service answers
 * the same request from the others.
 */
export function shareTraceKeeps(bus: Bus, tracing: Tracing): Subscription {
  tracing.onKeep((traceId) => bus.publish(traceKeepSubject(), traceIdCodec, traceId));
  return bus.subscribe(traceKeepSubject(), traceIdCodec, (traceId) => {
    if (TRACE_ID.test(traceId)) tracing.keepTrace(traceId);
  });
}
