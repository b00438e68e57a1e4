import { parseRtpHeader } from '../rtp.js';
import { RawRtspClient } from './raw-client.js';
import { SyntheticStream, h264Sdp, interleaved } from './synthetic.js';

export interface SyntheticPublisher {
  client: RawRtspClient;
  session: string;
  stream: SyntheticStream;
  /** Sends `n` pictures; returns the sequence numbers sent. */
  sendPictures(n: number): number[];
}

export function sessionId(header: string | undefined): string {
  return (header ?? '').split(';')[0] ?? '';
}

/** ANNOUNCE + SETUP (TCP interleaved 0-1) + RECORD of a synthetic H.264 stream. */
export async function publishSynthetic(
  port: number,
  path: string,
  gop = 10,
): Promise<SyntheticPublisher> {
  const url = `rtsp://127.0.0.1:${port}/${path}`;
  const client = await RawRtspClient.connect(port);
  const ann = await client.request(
    'ANNOUNCE',
    url,
    { 'Content-Type': 'application/sdp' },
    h264Sdp(),
  );
  if (ann.status !== 200) throw new Error(`ANNOUNCE ${ann.status}`);
  const setup = await client.request('SETUP', `${url}/streamid=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
  });
  if (setup.status !== 200) throw new Error(`SETUP ${setup.status}`);
  const session = sessionId(setup.headers.get('session'));
  const rec = await client.request('RECORD', url, { Session: session, Range: 'npt=0.000-' });
  if (rec.status !== 200) throw new Error(`RECORD ${rec.status}`);
  const stream = new SyntheticStream(gop);
  return {
    client,
    session,
    stream,
    sendPictures(n) {
      const seqs: number[] = [];
      const out: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        for (const p of stream.nextPicture().packets) {
          seqs.push(parseRtpHeader(p)?.sequenceNumber ?? -1);
          out.push(interleaved(0, p));
        }
      }
      client.write(Buffer.concat(out));
      return seqs;
    },
  };
}

export interface TcpReader {
  client: RawRtspClient;
  session: string;
  sdp: string;
  contentBase: string;
  rtpInfo: string;
  /** Sequence numbers of RTP packets received on channel 0, in order. */
  seqs(): number[];
}

/** DESCRIBE + SETUP (TCP interleaved) + PLAY, exactly as a client following the SDP would. */
export async function readTcp(port: number, path: string): Promise<TcpReader> {
  const client = await RawRtspClient.connect(port);
  const url = `rtsp://127.0.0.1:${port}/${path}`;
  const desc = await client.request('DESCRIBE', url, { Accept: 'application/sdp' });
  if (desc.status !== 200) throw new Error(`DESCRIBE ${desc.status}`);
  const contentBase = desc.headers.get('content-base') ?? '';
  const setup = await client.request('SETUP', `${contentBase}trackID=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  if (setup.status !== 200) throw new Error(`SETUP ${setup.status}`);
  const session = sessionId(setup.headers.get('session'));
  const play = await client.request('PLAY', contentBase, { Session: session, Range: 'npt=0.000-' });
  if (play.status !== 200) throw new Error(`PLAY ${play.status}`);
  return {
    client,
    session,
    sdp: desc.body.toString(),
    contentBase,
    rtpInfo: play.headers.get('rtp-info') ?? '',
    seqs: () =>
      client.frames
        .filter((f) => f.channel === 0)
        .map((f) => parseRtpHeader(f.payload)?.sequenceNumber ?? -1),
  };
}
