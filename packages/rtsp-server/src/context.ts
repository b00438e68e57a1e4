import type { RtspRequest } from './parser.js';
import type { Registry } from './registry.js';
import type { HeaderList } from './response.js';
import type { Session } from './session.js';
import type { StreamPath } from './stream-path.js';
import type { ControlChannel } from './types.js';
import type { RtspTarget } from './url.js';

/** Where an interleaved channel's packets belong. */
export interface ChannelBinding {
  session: Session;
  track: number;
  rtcp: boolean;
}

/** The control connection as request handlers see it. */
export interface ConnectionState extends ControlChannel {
  /** Local address the client reached (UDP pairs are bound there). */
  readonly localAddress: string;
  readonly localPort: number;
  readonly sessions: Set<Session>;
  readonly channels: Map<number, ChannelBinding>;
  /** The path this connection ANNOUNCEd, until it closes. */
  announced: StreamPath | undefined;
  readonly closed: boolean;
}

export interface RequestContext {
  registry: Registry;
  conn: ConnectionState;
  req: RtspRequest;
  target: RtspTarget;
  /** The session named by the Session header, already checked to belong to this connection. */
  session: Session | undefined;
  now: number;
}

export interface Reply {
  status: number;
  headers?: HeaderList;
  body?: string | Buffer;
  /** Adds the Session header for this session. */
  session?: Session;
  /** Closes the connection once the reply is written. */
  close?: boolean;
  /** Runs right after the reply is written: PLAY starts packets only once its reply is out. */
  after?: () => void;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

/** `rtsp://authority/path/`: the base readers resolve track controls against. */
export function contentBase(ctx: RequestContext, path: string): string {
  let authority = ctx.target.authority;
  if (authority === undefined) {
    const host = ctx.req.headers.get('host');
    const local = ctx.conn.localAddress.includes(':')
      ? `[${ctx.conn.localAddress}]`
      : ctx.conn.localAddress;
    authority = host && /^[\w.:[\]-]+$/.test(host) ? host : `${local}:${ctx.conn.localPort}`;
  }
  return `rtsp://${authority}/${path.split('/').map(encodeURIComponent).join('/')}/`;
}
