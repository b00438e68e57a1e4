/** An inclusive pair of numbers (`a-b` on the wire); `b` defaults to `a + 1`. */
export interface NumberPair {
  first: number;
  second: number;
}

/** One transport specification of a `Transport` header (RFC 2326 §12.39). */
export interface TransportSpec {
  /** `RTP/AVP`, `RTP/AVPF`, `RTP/SAVP`, … as sent. */
  profile: string;
  lowerTransport: 'UDP' | 'TCP';
  multicast: boolean;
  interleaved?: NumberPair;
  clientPort?: NumberPair;
  serverPort?: NumberPair;
  /** Lower-cased, quotes removed: `play`, `record`. */
  mode?: string;
  ssrc?: string;
  destination?: string;
  source?: string;
  ttl?: number;
}

/** Splits on `sep` except inside double quotes (mode="PLAY,RECORD" is legal). */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let cur = '';
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

function parsePair(value: string, min: number, max: number): NumberPair | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  const first = Number(m[1]);
  const second = m[2] === undefined ? first + 1 : Number(m[2]);
  if (first < min || first > max || second < min || second > max) return undefined;
  return { first, second };
}

/** Parses one specification; undefined when it is not understood. */
export function parseTransportSpec(text: string): TransportSpec | undefined {
  const params = splitOutsideQuotes(text.trim(), ';').map((p) => p.trim());
  const proto = params.shift() ?? '';
  const m = /^(RTP\/[A-Z]+)(?:\/(UDP|TCP))?$/i.exec(proto);
  if (!m) return undefined;
  const spec: TransportSpec = {
    profile: (m[1] ?? '').toUpperCase(),
    lowerTransport: (m[2] ?? 'UDP').toUpperCase() === 'TCP' ? 'TCP' : 'UDP',
    multicast: false,
  };
  for (const param of params) {
    if (param === '') continue;
    const eq = param.indexOf('=');
    const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : param.slice(eq + 1).trim();
    switch (key) {
      case 'unicast':
        spec.multicast = false;
        break;
      case 'multicast':
        spec.multicast = true;
        break;
      case 'interleaved': {
        const pair = parsePair(value, 0, 255);
        if (!pair) return undefined;
        spec.interleaved = pair;
        break;
      }
      case 'client_port': {
        const pair = parsePair(value, 1, 65535);
        if (!pair) return undefined;
        spec.clientPort = pair;
        break;
      }
      case 'server_port': {
        const pair = parsePair(value, 1, 65535);
        if (!pair) return undefined;
        spec.serverPort = pair;
        break;
      }
      case 'mode':
        spec.mode = value.replace(/"/g, '').trim().toLowerCase();
        break;
      case 'ssrc':
        spec.ssrc = value;
        break;
      case 'destination':
        spec.destination = value;
        break;
      case 'source':
        spec.source = value;
        break;
      case 'ttl':
        if (/^\d{1,3}$/.test(value)) spec.ttl = Number(value);
        break;
      default:
        // Unknown parameters (append, layers, port, …) are ignored as RFC 2326 allows.
        break;
    }
  }
  return spec;
}

/** All understood specifications of a Transport header, in the client's order of preference. */
export function parseTransportHeader(value: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const part of splitOutsideQuotes(value, ',')) {
    const spec = parseTransportSpec(part);
    if (spec) out.push(spec);
  }
  return out;
}

/** The header value the server answers with. */
export function formatTransport(spec: TransportSpec): string {
  const parts = [
    spec.lowerTransport === 'TCP' ? `${spec.profile}/TCP` : spec.profile,
    spec.multicast ? 'multicast' : 'unicast',
  ];
  if (spec.destination !== undefined) parts.push(`destination=${spec.destination}`);
  if (spec.source !== undefined) parts.push(`source=${spec.source}`);
  const pair = (p: NumberPair): string => `${p.first}-${p.second}`;
  if (spec.interleaved) parts.push(`interleaved=${pair(spec.interleaved)}`);
  if (spec.clientPort) parts.push(`client_port=${pair(spec.clientPort)}`);
  if (spec.serverPort) parts.push(`server_port=${pair(spec.serverPort)}`);
  if (spec.ssrc !== undefined) parts.push(`ssrc=${spec.ssrc}`);
  if (spec.mode !== undefined) parts.push(`mode=${spec.mode}`);
  return parts.join(';');
}
