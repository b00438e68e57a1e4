import { SpanStatusCode, TraceFlags, type Context } from '@opentelemetry/api';
import {
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { trace } from '@opentelemetry/api';

/** The span attribute that asks for the whole frame's trace to be kept (an event was raised). */
export const KEEP_ATTRIBUTE = 'sie.keep';

/**
 * Head sampling by ratio, but frames outside the ratio are still *recorded* (not sampled): their
 * spans are held for a moment so that a frame which later raises an event or an error can be
 * exported whole. Children follow their parent's sampled flag like ParentBasedSampler.
 */
export class FrameSampler implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;

  constructor(private readonly sampleRatio: number) {
    this.ratio = new TraceIdRatioBasedSampler(sampleRatio);
  }

  shouldSample(ctx: Context, traceId: string): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent && (parent.traceFlags & TraceFlags.SAMPLED) !== 0) {
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    if (!parent) {
      const head = this.ratio.shouldSample(ctx, traceId);
      if (head.decision === SamplingDecision.RECORD_AND_SAMPLED) return head;
    }
    return { decision: SamplingDecision.RECORD };
  }

  toString(): string {
    return `FrameSampler{ratio=${this.sampleRatio}, keep events and errors}`;
  }
}

export interface TailKeepOptions {
  /** Most unsampled spans held in memory while their frame might still raise an event. */
  maxHeldSpans?: number;
  /** How long an unsampled span is held before it is dropped. */
  holdMs?: number;
  /** Called when a span of this process asks for its trace to be kept (to tell other processes). */
  onKeep?: (traceId: string) => void;
}

/**
 * Tail decision per trace: sampled spans go straight to `next`; unsampled ones are held briefly and
 * exported when their trace is kept — because a span of it ended with an error status or the
 * `sie.keep` attribute here, or because another service asked (`keep(traceId)`, over NATS).
 */
export class TailKeepProcessor implements SpanProcessor {
  private readonly held = new Map<string, { spans: ReadableSpan[]; heldAt: number }>();
  private heldCount = 0;
  /** Traces already kept: their later spans are exported as they end. */
  private readonly kept = new Map<string, number>();
  private readonly maxHeld: number;
  private readonly holdMs: number;

  constructor(
    private readonly next: SpanProcessor,
    private readonly options: TailKeepOptions = {},
  ) {
    this.maxHeld = options.maxHeldSpans ?? 4096;
    this.holdMs = options.holdMs ?? 10_000;
  }

  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const sc = span.spanContext();
    if ((sc.traceFlags & TraceFlags.SAMPLED) !== 0) {
      this.next.onEnd(span);
      return;
    }
    const traceId = sc.traceId;
    if (this.kept.has(traceId)) {
      this.next.onEnd(asSampled(span));
      return;
    }
    if (span.status.code === SpanStatusCode.ERROR || span.attributes[KEEP_ATTRIBUTE] === true) {
      this.hold(traceId, span);
      this.keep(traceId);
      this.options.onKeep?.(traceId);
      return;
    }
    this.hold(traceId, span);
  }

  /** Exports what is held of `traceId` and every span of it that ends from now on (for a while). */
  keep(traceId: string): void {
    const now = Date.now();
    this.kept.set(traceId, now);
    this.expireKept(now);
    const entry = this.held.get(traceId);
    if (!entry) return;
    this.held.delete(traceId);
    this.heldCount -= entry.spans.length;
    for (const span of entry.spans) this.next.onEnd(asSampled(span));
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    this.held.clear();
    return this.next.shutdown();
  }

  private hold(traceId: string, span: ReadableSpan): void {
    const now = Date.now();
    const entry = this.held.get(traceId);
    if (entry) entry.spans.push(span);
    else this.held.set(traceId, { spans: [span], heldAt: now });
    this.heldCount++;
    // Oldest traces first (Map keeps insertion order): bounded memory, bounded age.
    for (const [id, e] of this.held) {
      if (this.heldCount <= this.maxHeld && now - e.heldAt <= this.holdMs) break;
      this.held.delete(id);
      this.heldCount -= e.spans.length;
    }
  }

  private expireKept(now: number): void {
    for (const [id, at] of this.kept) {
      if (this.kept.size <= 1024 && now - at <= this.holdMs) break;
      this.kept.delete(id);
    }
  }
}

/** The span as exporters see it, flagged sampled (the SDK's batch processor skips unsampled spans). */
function asSampled(span: ReadableSpan): ReadableSpan {
  const sc = span.spanContext();
  const sampled = { ...sc, traceFlags: sc.traceFlags | TraceFlags.SAMPLED };
  return new Proxy(span, {
    get(target, prop) {
      if (prop === 'spanContext') return () => sampled;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
