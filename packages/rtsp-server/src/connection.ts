import type { Socket } from 'node:net';
import { SieError, UnavailableError } from '@sie/errors';
import type { ChannelBinding, ConnectionState, Reply, RequestContext } from './context.js';
import { HANDLERS } from './dispatch.js';
import { ingestFromClient } from './ingest.js';
import { RtspMessageParser } from './parser.js';
import type { RtspMessage, RtspRequest } from './parser.js';
import type { Registry } from './registry.js';
import { serializeResponse } from './response.js';
import type { HeaderList } from './response.js';
import type { Session } from './session.js';
import type { StreamPath } from './stream-path.js';
import { parseRequestUri, unmapped } from './url.js';

const SERVER_NAME = 'sie-rtsp-server';
/** How long a closing connection may take to flush its last reply before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * One RTSP control connection. Requests are answered strictly in order (a SETUP that binds UDP
 * ports holds back what follows it); interleaved packets are routed to their session's path.
 * Anything the peer sends wrong ends, at worst, this connection — never another.
 */
export class RtspConnection implements ConnectionState {
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly sessions = new Set<Session>();
  readonly channels = new Map<number, ChannelBinding>();
  announced: StreamPath | undefined;
  lastActivity: number;
  private readonly parser: RtspMessageParser;
  private pending: RtspMessage[] = [];
  private busy = false;
  /** Reading is paused because the peer is not taking our replies (see maxReplyBacklogBytes). */
  private backlogged = false;
  /** When the request now arriving started (undefined when none is partial). */
  private partialSince: number | undefined;
  private ending = false;
  private isClosed = false;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly registry: Registry,
    private readonly onClosed: (conn: RtspConnection) => void,
  ) {
    this.remoteAddress = unmapped(socket.remoteAddress ?? '');
    this.localAddress = unmapped(socket.localAddress ?? '127.0.0.1');
    this.localPort = socket.localPort ?? 0;
    this.lastActivity = Date.now();
    const o = registry.options;
    this.parser = new RtspMessageParser({
      maxHeaderBytes: o.maxHeaderBytes,
      maxHeaderCount: o.maxHeaderCount,
      maxBodyBytes: o.maxBodyBytes,
    });
    // Interleaved RTP is latency-sensitive; Nagle would hold small packets back.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      registry.logger.debug({ conn: id, err: err.message }, 'connection error'),
    );
    socket.on('close', () => this.cleanup());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  writeInterleaved(channel: number, packet: Buffer): void {
    if (this.isClosed || this.ending || packet.length > 0xffff) return;
    const frame = Buffer.allocUnsafe(4 + packet.length);
    frame[0] = 0x24;
    frame[1] = channel;
    frame.writeUInt16BE(packet.length, 2);
    packet.copy(frame, 4);
    this.write(frame);
  }

  /** Closes after flushing what was written; destroys if the peer does not let go. */
  end(): void {
    if (this.ending || this.isClosed) return;
    this.ending = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Called by the server when one of this connection's sessions ended. */
  sessionEnded(session: Session, evicted: boolean): void {
    this.sessions.delete(session);
    for (const [ch, b] of this.channels) if (b.session === session) this.channels.delete(ch);
    if (this.announced === session.path && session.role === 'record') this.announced = undefined;
    if (evicted && this.sessions.size === 0) this.end();
  }

  /** A connection without sessions that stays silent is dropped (sessions expire on their own). */
  closeIfIdle(now: number, timeoutMs: number): void {
    if (this.sessions.size === 0 && now - this.lastActivity > timeoutMs) {
      this.registry.logger.debug({ conn: this.id }, 'idle connection closed');
      this.end();
    }
  }

  /**
   * A request that began arriving `timeoutMs` ago and is still not complete is answered 408 and
   * the connection closed: trickling bytes must not hold a connection (and its slot) forever.
   */
  closeIfRequestStalled(now: number, timeoutMs: number): void {
    if (this.partialSince === undefined || now - this.partialSince <= timeoutMs) return;
    if (this.ending || this.isClosed) return;
    this.registry.counters.requestTimeouts++;
    this.registry.logger.warn(
      { conn: this.id, remote: this.remoteAddress, timeoutMs },
      'request not completed in time, closing connection',
    );
    this.partialSince = undefined;
    this.reply(undefined, { status: 408, close: true });
  }

  private write(buf: Buffer): void {
    this.registry.counters.bytesSent += buf.length;
    this.socket.write(buf);
  }

  private onData(chunk: Buffer): void {
    const now = Date.now();
    this.registry.counters.bytesReceived += chunk.length;
    this.lastActivity = now;
    for (const s of this.sessions) s.lastActivity = now;
    const msgs = this.parser.push(chunk);
    // The clock of a partial request starts with its first byte and stops once it is complete.
    // Without a session an interleaved frame is noise, so a partial one is held to the same limit.
    const partial =
      this.parser.partialMessage || (this.sessions.size === 0 && this.parser.bufferedBytes > 0);
    if (!partial) this.partialSince = undefined;
    else if (msgs.length > 0 || this.partialSince === undefined) this.partialSince = now;
    if (this.busy) {
      for (const m of msgs) this.pending.push(m);
    } else {
      this.process(msgs, now);
    }
    this.checkBacklog();
  }

  /** Stops reading while the peer leaves more than maxReplyBacklogBytes of our output unread. */
  private checkBacklog(): void {
    if (this.backlogged || this.isClosed || this.ending) return;
    if (this.socket.writableLength <= this.registry.options.maxReplyBacklogBytes) return;
    this.backlogged = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.backlogged = false;
      if (!this.busy && !this.isClosed) this.socket.resume();
    });
  }

  /** Handles messages in order until one needs to wait (async SETUP). */
  private process(msgs: RtspMessage[], now: number): void {
    for (let i = 0; i < msgs.length; i++) {
      if (this.isClosed || this.ending) return;
      const msg = msgs[i] as RtspMessage;
      if (msg.kind === 'interleaved') {
        const b = this.channels.get(msg.channel);
        // Frames on channels nobody set up are skipped: framing is intact, the data is noise.
        if (b) ingestFromClient(this.registry, b.session, b.track, b.rtcp, msg.payload, now);
      } else if (msg.kind === 'error') {
        this.registry.counters.badRequests++;
        this.registry.logger.warn(
          { conn: this.id, remote: this.remoteAddress, status: msg.status, detail: msg.detail },
          'unparseable request, closing connection',
        );
        this.reply(msg.cseq, { status: msg.status, close: true });
        return;
      } else if (msg.kind === 'request') {
        const result = this.handle(msg, now);
        if (result instanceof Promise) {
          this.busy = true;
          // Reading stops while a request waits, so queued input stays bounded.
          this.socket.pause();
          this.pending = msgs.slice(i + 1);
          void result.then((reply) => {
            this.reply(msg.headers.get('cseq'), reply, msg);
            this.busy = false;
            if (!this.backlogged) this.socket.resume();
            const rest = this.pending;
            this.pending = [];
            this.process(rest, Date.now());
          });
          return;
        }
        this.reply(msg.headers.get('cseq'), result, msg);
      }
      // Responses from the peer need no action: this server sends no requests of its own.
    }
  }

  /** Validates what every method needs, then runs the method's handler. */
  private handle(req: RtspRequest, now: number): Reply | Promise<Reply> {
    this.registry.counters.requests++;
    if (req.version !== 'RTSP/1.0') return { status: 505 };
    const cseqs = req.headers.getAll('cseq');
    if (cseqs.length !== 1 || !/^\d{1,10}$/.test(cseqs[0] ?? '')) return { status: 400 };
    const handler = HANDLERS.get(req.method);
    if (!handler) return { status: 501 };
    const target = parseRequestUri(req.uri);
    if (!target) return { status: 400 };
    let session: Session | undefined;
    const sessionHeader = req.headers.get('session');
    if (sessionHeader !== undefined) {
      const id = sessionHeader.split(';')[0]?.trim() ?? '';
      session = this.registry.sessions.get(id);
      // Another connection's session is as good as unknown: ids are not for sharing.
      if (!session || session.control !== this) return { status: 454 };
      session.lastActivity = now;
    }
    const ctx: RequestContext = { registry: this.registry, conn: this, req, target, session, now };
    try {
      const r = handler(ctx);
      return r instanceof Promise ? r.catch((err: unknown) => this.failure(req, err)) : r;
    } catch (err) {
      return this.failure(req, err);
    }
  }

  private failure(req: RtspRequest, err: unknown): Reply {
    if (err instanceof UnavailableError) {
      this.registry.logger.warn({ conn: this.id, method: req.method, err: err.message }, 'refused');
      return { status: 503 };
    }
    this.registry.logger.error(
      {
        conn: this.id,
        method: req.method,
        uri: req.uri,
        err: err instanceof Error ? err.message : String(err),
        code: err instanceof SieError ? err.code : undefined,
      },
      'request handler failed',
    );
    return { status: 500 };
  }

  private reply(cseq: string | undefined, reply: Reply, req?: RtspRequest): void {
    if (this.isClosed || this.ending) return;
    const headers: HeaderList = [];
    if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) headers.push(['CSeq', cseq]);
    headers.push(['Server', SERVER_NAME]);
    headers.push(['Date', new Date().toUTCString()]);
    if (reply.session) {
      const timeout = Math.max(1, Math.round(this.registry.options.sessionTimeoutMs / 1000));
      headers.push(['Session', `${reply.session.id};timeout=${timeout}`]);
    }
    if (reply.headers) headers.push(...reply.headers);
    if (reply.close) headers.push(['Connection', 'close']);
    if (reply.status >= 400) this.registry.counters.badRequests++;
    this.registry.logger.debug(
      { conn: this.id, method: req?.method, uri: req?.uri, status: reply.status },
      'rtsp request',
    );
    const parts = { status: reply.status, headers };
    this.write(
      serializeResponse(reply.body === undefined ? parts : { ...parts, body: reply.body }),
    );
    if (reply.close) this.end();
    else reply.after?.();
  }

  private cleanup(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const s of [...this.sessions]) {
      this.registry.endSession(s, 'connection closed', false);
    }
    const a = this.announced;
    if (a && !a.closed && a.ownerConnectionId === this.id) {
      this.registry.closePath(a, 'publisher disconnected');
    }
    this.announced = undefined;
    this.onClosed(this);
  }
}
