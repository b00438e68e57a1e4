import { randomBytes } from 'node:crypto';
import type { RtspLogger } from './logger.js';
import type { Session } from './session.js';
import type { StreamPath } from './stream-path.js';
import type { ResolvedOptions, RtspServerCounters } from './types.js';

/** Hooks into the connection layer, which the registry must not import. */
export interface SessionEndHooks {
  /**
   * A session ended. `evicted` means the server ended it (publisher gone, timeout, stall), not
   * the client's TEARDOWN or disconnect: the connection then closes if nothing else uses it.
   */
  sessionEnded(session: Session, evicted: boolean): void;
}

export function emptyCounters(): RtspServerCounters {
  return {
    connectionsAccepted: 0,
    connectionsRejected: 0,
    requests: 0,
    badRequests: 0,
    bytesReceived: 0,
    bytesSent: 0,
    rtpPacketsReceived: 0,
    rtcpPacketsReceived: 0,
    invalidPackets: 0,
    packetsSent: 0,
    packetsDropped: 0,
    sessionTimeouts: 0,
    stalledReaders: 0,
    requestTimeouts: 0,
  };
}

/** Paths and sessions of one server, and the rules that tie their lifetimes together. */
export class Registry {
  readonly paths = new Map<string, StreamPath>();
  readonly sessions = new Map<string, Session>();
  readonly counters = emptyCounters();

  constructor(
    readonly options: ResolvedOptions,
    readonly logger: RtspLogger,
    private readonly hooks: SessionEndHooks,
  ) {}

  /** 16 hex digits: unguessable, so one client cannot act on another's session. */
  newSessionId(): string {
    for (;;) {
      const id = randomBytes(8).toString('hex');
      if (!this.sessions.has(id)) return id;
    }
  }

  /** Ends a session and everything that depends on it; idempotent. */
  endSession(session: Session, reason: string, evicted: boolean): void {
    if (session.state === 'closed') return;
    const wasRecording = session.state === 'recording';
    session.state = 'closed';
    this.sessions.delete(session.id);
    const path = session.path;
    if (session.role === 'play') {
      if (evicted && session.output) session.output.sendBye(path.ssrcs());
      path.removeReader(session.id);
      this.logger.debug({ session: session.id, path: path.name, reason }, 'reader session ended');
    }
    session.closeTransports();
    this.hooks.sessionEnded(session, evicted);
    if (session.role === 'record' && path.publisherSessionId === session.id) {
      this.logger.info(
        { session: session.id, path: path.name, reason, wasRecording },
        'publisher session ended',
      );
      this.closePath(path, reason);
    }
  }

  /** Frees a path: its readers are told (RTCP BYE) and disconnected; a new publisher may come. */
  closePath(path: StreamPath, reason: string): void {
    if (path.closed) return;
    path.closed = true;
    if (this.paths.get(path.name) === path) this.paths.delete(path.name);
    for (const id of path.readerSessionIds()) {
      const s = this.sessions.get(id);
      if (s) this.endSession(s, `publisher gone: ${reason}`, true);
    }
    const pub = path.publisherSessionId ? this.sessions.get(path.publisherSessionId) : undefined;
    if (pub) this.endSession(pub, reason, true);
    this.logger.info({ path: path.name, reason }, 'path closed');
  }

  /** Ends sessions idle for longer than the timeout. */
  expireIdle(now: number): void {
    const limit = this.options.sessionTimeoutMs;
    for (const s of [...this.sessions.values()]) {
      if (s.expires && now - s.lastActivity > limit) {
        this.counters.sessionTimeouts++;
        this.logger.info({ session: s.id, path: s.path.name, role: s.role }, 'session timed out');
        this.endSession(s, 'session timeout', true);
      }
    }
  }
}
