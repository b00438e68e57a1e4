import type { ReaderOutput } from './reader-output.js';
import type { StreamPath } from './stream-path.js';
import type { TrackTransport } from './track-transport.js';
import type { ControlChannel } from './types.js';
import { closeUdpPair } from './udp.js';

export type SessionRole = 'play' | 'record';
export type SessionState = 'setup' | 'playing' | 'paused' | 'recording' | 'closed';

/** An RTSP session (RFC 2326 §3.3): the tracks a client set up on one path, in one role. */
export class Session {
  readonly tracks = new Map<number, TrackTransport>();
  state: SessionState = 'setup';
  lastActivity: number;
  output: ReaderOutput | undefined;

  constructor(
    readonly id: string,
    readonly role: SessionRole,
    readonly path: StreamPath,
    readonly control: ControlChannel,
    now: number,
  ) {
    this.lastActivity = now;
  }

  /** `tcp`, `udp`, or `none` before the first SETUP completes. */
  get transport(): 'tcp' | 'udp' | 'none' {
    const first = this.tracks.values().next();
    return first.done ? 'none' : first.value.kind;
  }

  /**
   * Whether the idle timeout applies. A TCP reader that is playing may stay silent: its session
   * lives as long as its connection (dead peers are found by TCP keepalive and the stalled-reader
   * check). Everything else must show activity: requests, or RTP/RTCP from the client.
   */
  get expires(): boolean {
    return !(this.role === 'play' && this.state === 'playing' && this.transport === 'tcp');
  }

  /** Releases the UDP sockets; idempotent. */
  closeTransports(): void {
    for (const t of this.tracks.values()) if (t.kind === 'udp') closeUdpPair(t.pair);
  }
}
