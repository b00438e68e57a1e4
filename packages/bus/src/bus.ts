import {
  connect,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { TimeoutError, UnavailableError, asSieError, type SieError } from '@sie/errors';
import { extractTraceContext, injectTraceContext, type Context, type Logger } from '@sie/telemetry';
import { encodeMessage, type ProtoCodec } from './codec.js';

export interface BusOptions {
  servers: string | string[];
  /** Connection name shown by the NATS server (service and node). */
  name: string;
  logger: Logger;
  /** -1 (default) reconnects forever: a service never gives up on its broker. */
  maxReconnectAttempts?: number;
  reconnectTimeWaitMs?: number;
  /** Called for every NATS error (for `sie_nats_errors_total`): `handler`, `request`, `serve`, `disconnect`. */
  onError?: (kind: BusErrorKind) => void;
}

export type BusErrorKind = 'handler' | 'request' | 'serve' | 'disconnect';

export interface Delivery {
  subject: string;
  /** Trace context the publisher sent (W3C traceparent header). */
  traceContext: Context;
  headers: Record<string, string>;
}

export type BusState = 'connected' | 'reconnecting' | 'closed';

/** A NATS connection that speaks protobuf and carries W3C trace context in headers. */
export class Bus {
  private state: BusState = 'connected';

  private constructor(
    readonly nc: NatsConnection,
    private readonly logger: Logger,
    private readonly onError: (kind: BusErrorKind) => void = () => undefined,
  ) {
    void this.watchStatus();
  }

  static async connect(options: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: options.servers,
      name: options.name,
      maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 500,
      waitOnFirstConnect: true,
    });
    options.logger.info({ server: nc.getServer() }, 'connected to NATS');
    return new Bus(nc, options.logger, options.onError);
  }

  get status(): BusState {
    return this.state;
  }

  publish<T>(subject: string, codec: ProtoCodec<T>, message: T, ctx?: Context): void {
    this.nc.publish(subject, encodeMessage(codec, message), { headers: traceHeaders(ctx) });
  }

  /**
   * Calls `handler` for each message; a handler error is logged and the subscription goes on.
   * Handlers run one at a time per subscription, in arrival order.
   */
  subscribe<T>(
    subject: string,
    codec: ProtoCodec<T>,
    handler: (message: T, delivery: Delivery) => void | Promise<void>,
    options: { queue?: string } = {},
  ): Subscription {
    const sub = this.nc.subscribe(subject, { queue: options.queue });
    void (async () => {
      for await (const msg of sub) {
        try {
          await handler(codec.decode(msg.data), delivery(msg));
        } catch (err) {
          this.onError('handler');
          this.logger.error({ err, subject: msg.subject }, 'message handler failed');
        }
      }
    })();
    return sub;
  }

  /** Request/reply with a deadline; no answer in time is a TimeoutError, no responder UnavailableError. */
  async request<Req, Res>(
    subject: string,
    reqCodec: ProtoCodec<Req>,
    request: Req,
    resCodec: ProtoCodec<Res>,
    timeoutMs: number,
    ctx?: Context,
  ): Promise<Res> {
    try {
      const msg = await this.nc.request(subject, encodeMessage(reqCodec, request), {
        timeout: timeoutMs,
        headers: traceHeaders(ctx),
      });
      return resCodec.decode(msg.data);
    } catch (cause) {
      this.onError('request');
      const code = (cause as { code?: string }).code;
      if (code === '503') throw new UnavailableError(`no responder on ${subject}`, { cause });
      if (code === 'TIMEOUT') throw new TimeoutError(`request ${subject}`, timeoutMs, { cause });
      throw cause;
    }
  }

  /**
   * Answers requests on `subject`. A handler that throws answers with `onError(err)`, so callers
   * get the error code instead of a timeout.
   */
  serve<Req, Res>(
    subject: string,
    reqCodec: ProtoCodec<Req>,
    resCodec: ProtoCodec<Res>,
    handler: (request: Req, delivery: Delivery) => Promise<Res>,
    onError: (err: SieError) => Res,
    options: { queue?: string } = {},
  ): Subscription {
    const sub = this.nc.subscribe(subject, { queue: options.queue });
    void (async () => {
      for await (const msg of sub) {
        let response: Res;
        try {
          response = await handler(reqCodec.decode(msg.data), delivery(msg));
        } catch (err) {
          this.onError('serve');
          this.logger.warn({ err, subject: msg.subject }, 'request handler failed');
          response = onError(asSieError(err));
        }
        msg.respond(encodeMessage(resCodec, response));
      }
    })();
    return sub;
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  /** Drains subscriptions and closes; pending publishes are flushed first. */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    this.state = 'closed';
    await this.nc.drain();
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') {
        if (this.state !== 'reconnecting') {
          this.onError('disconnect');
          this.logger.warn({ status: s.type }, 'NATS connection lost');
        }
        this.state = 'reconnecting';
      } else if (s.type === 'reconnect') {
        this.state = 'connected';
        this.logger.info({ server: s.data }, 'NATS reconnected');
      }
    }
    this.state = 'closed';
  }
}

/** NATS headers carrying a context's W3C trace context (`traceparent`); undefined when none. */
export function traceHeaders(ctx?: Context): MsgHdrs | undefined {
  const carrier: Record<string, string> = {};
  injectTraceContext(carrier, ctx);
  const keys = Object.keys(carrier);
  if (keys.length === 0) return undefined;
  const h = natsHeaders();
  for (const k of keys) h.set(k, carrier[k] ?? '');
  return h;
}

function delivery(msg: Msg): Delivery {
  const hdrs: Record<string, string> = {};
  if (msg.headers) for (const [k, v] of msg.headers) hdrs[k.toLowerCase()] = v[0] ?? '';
  return { subject: msg.subject, headers: hdrs, traceContext: extractTraceContext(hdrs) };
}
