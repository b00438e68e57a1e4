import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { envelope, NS, passwordDigest } from '../soap.js';
import { escapeXml, find, parseXml, textAt, type XmlNode } from '../xml.js';

export interface TestDeviceProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  /** What GetStreamUri answers for this profile. */
  streamUri: string;
}

export interface TestOnvifDeviceOptions {
  username: string;
  password: string;
  profiles: TestDeviceProfile[];
  /** The device's clock runs this far ahead of ours (tests the client's skew correction). */
  clockOffsetMs?: number;
  /** Also answer WS-Discovery Probes on a unicast UDP port. */
  discovery?: boolean;
}

export interface TestOnvifDevice {
  /** host:port of the device service. */
  host: string;
  port: number;
  /** UDP port of the WS-Discovery responder (when asked for). */
  discoveryPort?: number;
  /** Operations called so far, in order (`GetProfiles`, …), and the ones refused. */
  calls: string[];
  refused: string[];
  setProfiles(profiles: TestDeviceProfile[]): void;
  stop(): Promise<void>;
}

// Tokens older or newer than this (by the device's clock) are refused, as real cameras do.
const MAX_TOKEN_AGE_MS = 5 * 60_000;

/**
 * An ONVIF camera for tests (a real SOAP 1.2 peer over HTTP, not a mock of the client): the
 * Device and Media services with WS-Security digest checking against its own user and password,
 * answering GetSystemDateAndTime, GetCapabilities, GetProfiles and GetStreamUri.
 */
export async function startTestOnvifDevice(
  options: TestOnvifDeviceOptions,
): Promise<TestOnvifDevice> {
  let profiles = options.profiles;
  const calls: string[] = [];
  const refused: string[] = [];
  const offset = options.clockOffsetMs ?? 0;
  let port = 0;

  const handle = (body: XmlNode, res: ServerResponse): void => {
    const request = find(body, 'Body')?.children[0];
    const op = request?.name ?? '';
    calls.push(op);
    if (op !== 'GetSystemDateAndTime' && !authorised(body)) {
      refused.push(op);
      return send(res, 400, fault('ter:NotAuthorized', 'Sender not Authorized'));
    }
    switch (op) {
      case 'GetSystemDateAndTime': {
        const d = new Date(Date.now() + offset);
        return send(
          res,
          200,
          `<tds:GetSystemDateAndTimeResponse xmlns:tds="${NS.tds}"><tds:SystemDateAndTime>` +
            `<tt:DateTimeType>NTP</tt:DateTimeType><tt:UTCDateTime>` +
            `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
            `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
            `</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
        );
      }
      case 'GetCapabilities':
        return send(
          res,
          200,
          `<tds:GetCapabilitiesResponse xmlns:tds="${NS.tds}"><tds:Capabilities>` +
            `<tt:Media><tt:XAddr>http://127.0.0.1:${port}/onvif/media_service</tt:XAddr></tt:Media>` +
            `</tds:Capabilities></tds:GetCapabilitiesResponse>`,
        );
      case 'GetProfiles':
        return send(
          res,
          200,
          `<trt:GetProfilesResponse xmlns:trt="${NS.trt}">` +
            profiles
              .map(
                (p) =>
                  `<trt:Profiles token="${escapeXml(p.token)}" fixed="true"><tt:Name>${escapeXml(p.name)}</tt:Name>` +
                  `<tt:VideoEncoderConfiguration token="enc-${escapeXml(p.token)}"><tt:Encoding>H264</tt:Encoding>` +
                  `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
                  `</tt:VideoEncoderConfiguration></trt:Profiles>`,
              )
              .join('') +
            `</trt:GetProfilesResponse>`,
        );
      case 'GetStreamUri': {
        const token = textAt(request, 'ProfileToken');
        const p = profiles.find((x) => x.token === token);
        if (!p) return send(res, 400, fault('ter:InvalidArgVal/ter:NoProfile', 'No such profile'));
        return send(
          res,
          200,
          `<trt:GetStreamUriResponse xmlns:trt="${NS.trt}"><trt:MediaUri>` +
            `<tt:Uri>${escapeXml(p.streamUri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
            `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>` +
            `</trt:MediaUri></trt:GetStreamUriResponse>`,
        );
      }
      default:
        return send(res, 400, fault('ter:ActionNotSupported', `${op} is not supported`));
    }
  };

  const authorised = (doc: XmlNode): boolean => {
    const token = find(doc, 'UsernameToken');
    const user = textAt(token, 'Username');
    const digest = textAt(token, 'Password');
    const nonce = textAt(token, 'Nonce');
    const created = textAt(token, 'Created');
    if (!token || user !== options.username || !digest || !nonce || !created) return false;
    const age = Math.abs(Date.now() + offset - Date.parse(created));
    if (!(age <= MAX_TOKEN_AGE_MS)) return false;
    return passwordDigest(Buffer.from(nonce, 'base64'), created, options.password) === digest;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let doc: XmlNode;
      try {
        doc = parseXml(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, fault('ter:WellFormed', 'not XML'));
      }
      handle(doc, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  let udp: Socket | undefined;
  let discoveryPort: number | undefined;
  if (options.discovery) {
    const sock = createSocket('udp4');
    udp = sock;
    sock.on('message', (msg, from) => {
      const relatesTo = /<[^>]*MessageID>([^<]+)</.exec(msg.toString('utf8'))?.[1] ?? '';
      sock.send(Buffer.from(probeMatch(relatesTo, port)), from.port, from.address);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    discoveryPort = sock.address().port;
  }

  return {
    host: '127.0.0.1',
    port,
    ...(discoveryPort === undefined ? {} : { discoveryPort }),
    calls,
    refused,
    setProfiles: (p) => {
      profiles = p;
    },
    stop: async () => {
      udp?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
  res.end(envelope(body));
}

function fault(subcode: string, reason: string): string {
  const [outer, inner] = subcode.split('/');
  const sub = (value: string, rest = ''): string =>
    `<s:Subcode><s:Value>${value}</s:Value>${rest}</s:Subcode>`;
  return (
    `<s:Fault xmlns:ter="http://www.onvif.org/ver10/error"><s:Code><s:Value>s:Sender</s:Value>` +
    sub(outer ?? '', inner ? sub(inner) : '') +
    `</s:Code><s:Reason><s:Text xml:lang="en">${escapeXml(reason)}</s:Text></s:Reason></s:Fault>`
  );
}

function probeMatch(relatesTo: string, port: number): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">` +
    `<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>` +
    `<a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>` +
    `<a:EndpointReference><a:Address>urn:uuid:5f5a69c2-e0ae-504f-829b-00000000c0de</a:Address></a:EndpointReference>` +
    `<d:Types>dn:NetworkVideoTransmitter</d:Types>` +
    `<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Test%20Camera onvif://www.onvif.org/hardware/SIE-1</d:Scopes>` +
    `<d:XAddrs>http://127.0.0.1:${port}/onvif/device_service</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
    `</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`
  );
}
