import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket, SocketType } from 'node:dgram';
import { UnavailableError } from '@sie/errors';

/** An RTP socket on an even port and its RTCP socket on the next one (RFC 3550 §11). */
export interface UdpPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
  rtcpPort: number;
}

export interface UdpPairOptions {
  type: SocketType;
  address: string;
  /** SO_RCVBUF wanted; the kernel caps it at net.core.rmem_max. */
  receiveBufferBytes: number;
  sendBufferBytes: number;
  /** Inclusive port range to pick from; undefined lets the kernel choose ephemeral ports. */
  portRange?: readonly [number, number];
  onMessage: (which: 'rtp' | 'rtcp', msg: Buffer, from: RemoteInfo) => void;
  onError: (err: Error) => void;
}

const ATTEMPTS = 32;

function bind(type: SocketType, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type, reuseAddr: false });
    const onError = (err: Error): void => {
      closeQuietly(sock);
      reject(err);
    };
    sock.once('error', onError);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function closeQuietly(sock: Socket | undefined): void {
  try {
    sock?.close();
  } catch {
    // Already closed.
  }
}

function setBuffers(sock: Socket, opts: UdpPairOptions): void {
  try {
    sock.setRecvBufferSize(opts.receiveBufferBytes);
    sock.setSendBufferSize(opts.sendBufferBytes);
  } catch {
    // Best effort: a smaller buffer only means more loss under bursts.
  }
}

/** Binds a fresh RTP/RTCP pair; throws UnavailableError when no pair is free. */
export async function bindUdpPair(opts: UdpPairOptions): Promise<UdpPair> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let wanted = 0;
    if (opts.portRange) {
      const [min, max] = opts.portRange;
      const evens = Math.floor((max - 1 - min) / 2) + 1;
      if (evens < 1) break;
      wanted = min + (min % 2) + 2 * Math.floor(Math.random() * evens);
      if (wanted + 1 > max) continue;
    }
    let rtp: Socket | undefined;
    let rtcp: Socket | undefined;
    try {
      rtp = await bind(opts.type, opts.address, wanted);
      const port = rtp.address().port;
      // The kernel's ephemeral pick may be odd or at the top of the range: retry for a pair.
      if (port % 2 !== 0 || port >= 65535) {
        closeQuietly(rtp);
        continue;
      }
      rtcp = await bind(opts.type, opts.address, port + 1);
    } catch {
      closeQuietly(rtp);
      closeQuietly(rtcp);
      continue;
    }
    const pair: UdpPair = { rtp, rtcp, rtpPort: rtp.address().port, rtcpPort: rtcp.address().port };
    for (const [which, sock] of [
      ['rtp', rtp],
      ['rtcp', rtcp],
    ] as const) {
      setBuffers(sock, opts);
      sock.on('message', (msg, from) => opts.onMessage(which, msg, from));
      sock.on('error', opts.onError);
    }
    return pair;
  }
  throw new UnavailableError('no free UDP port pair for RTP/RTCP');
}

export function closeUdpPair(pair: UdpPair): void {
  closeQuietly(pair.rtp);
  closeQuietly(pair.rtcp);
}
