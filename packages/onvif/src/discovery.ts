import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { find, findAll, parseXml, textAt } from './xml.js';

/** WS-Discovery's multicast group and port (IPv4). */
export const WS_DISCOVERY_MULTICAST = { host: '239.255.255.250', port: 3702 } as const;

export interface DiscoveredDevice {
  /** The device's endpoint reference, usually `urn:uuid:…`. */
  address: string;
  /** Device service URLs (`http://10.0.0.5/onvif/device_service`). */
  xaddrs: string[];
  scopes: string[];
  types: string[];
  /** From the `onvif://www.onvif.org/name/…` and `/hardware/…` scopes, when present. */
  name?: string;
  hardware?: string;
}

export interface DiscoverOptions {
  /** How long to collect answers. */
  timeoutMs: number;
  /** Where the Probe goes: the multicast group by default; a unicast host:port for tests. */
  host?: string;
  port?: number;
}

/** A WS-Discovery Probe for ONVIF video transmitters (pure; exported for tests). */
export function probeMessage(messageId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
    `xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
    `xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ` +
    `xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>` +
    `<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>` +
    `<a:MessageID>urn:uuid:${messageId}</a:MessageID>` +
    `<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    `</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>`
  );
}

/** The devices one ProbeMatches message describes (pure; malformed answers give none). */
export function parseProbeMatches(xml: string): DiscoveredDevice[] {
  let doc;
  try {
    doc = parseXml(xml);
  } catch {
    return [];
  }
  return findAll(doc, 'ProbeMatch').flatMap((match) => {
    const address = textAt(find(match, 'EndpointReference'), 'Address');
    if (!address) return [];
    const words = (name: string): string[] =>
      (textAt(match, name) ?? '').split(/\s+/).filter(Boolean);
    const scopes = words('Scopes');
    const device: DiscoveredDevice = {
      address,
      xaddrs: words('XAddrs'),
      scopes,
      types: words('Types'),
    };
    const scope = (kind: string): string | undefined => {
      const prefix = `onvif://www.onvif.org/${kind}/`;
      const hit = scopes.find((s) => s.startsWith(prefix));
      return hit === undefined ? undefined : decodeURIComponent(hit.slice(prefix.length));
    };
    const name = scope('name');
    const hardware = scope('hardware');
    if (name) device.name = name;
    if (hardware) device.hardware = hardware;
    return [device];
  });
}

/**
 * Sends one WS-Discovery Probe and collects ProbeMatches until the timeout: the ONVIF cameras on
 * the local network (or the one unicast responder `host` names). Devices are listed once each.
 */
export async function discoverOnvifDevices(options: DiscoverOptions): Promise<DiscoveredDevice[]> {
  const host = options.host ?? WS_DISCOVERY_MULTICAST.host;
  const port = options.port ?? WS_DISCOVERY_MULTICAST.port;
  const messageId = randomUUID();
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  const found = new Map<string, DiscoveredDevice>();
  socket.on('message', (msg) => {
    const text = msg.toString('utf8');
    // Only answers to our Probe: other tools on the network may be probing too.
    if (!text.includes(messageId)) return;
    for (const d of parseProbeMatches(text)) if (!found.has(d.address)) found.set(d.address, d);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => undefined);
    const message = Buffer.from(probeMessage(messageId));
    await new Promise<void>((resolve, reject) =>
      socket.send(message, port, host, (err) => (err ? reject(err) : resolve())),
    );
    await new Promise((resolve) => setTimeout(resolve, options.timeoutMs));
  } finally {
    socket.close();
  }
  return [...found.values()];
}
