import { SourceUnreachableError } from '@sie/errors';
import { envelope, NS, usernameToken, type Credentials } from './soap.js';
import { escapeXml, find, findAll, parseXml, textAt, type XmlNode } from './xml.js';

export interface OnvifTarget {
  host: string;
  port: number;
  /** https for the device service; plain http otherwise (the common case on a LAN). */
  secure?: boolean;
  /** Path of the device service; `/onvif/device_service` by ONVIF's convention. */
  devicePath?: string;
  credentials?: Credentials;
}

export interface OnvifProfile {
  token: string;
  name: string;
  encoding?: string;
  width?: number;
  height?: number;
}

export interface ResolvedStream {
  profile: OnvifProfile;
  /** The RTSP URI, with the ONVIF credentials added when the camera's URI carries none. */
  uri: string;
  profiles: OnvifProfile[];
}

export interface ResolveOptions {
  /** Profile token or name; absent picks the camera's first profile. */
  profile?: string;
  /** Bounds each SOAP request. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * A minimal ONVIF client: the Device and Media services over SOAP 1.2 with WS-Security
 * UsernameToken digests, the device's clock skew applied to every token it signs.
 */
export class OnvifClient {
  private skewMs = 0;
  private mediaUrl: string | undefined;
  readonly deviceUrl: string;

  constructor(
    private readonly target: OnvifTarget,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.deviceUrl = `${target.secure ? 'https' : 'http'}://${host}:${target.port}${target.devicePath ?? '/onvif/device_service'}`;
  }

  /** Where errors say the camera is (no credentials). */
  get label(): string {
    return `onvif://${this.target.host}:${this.target.port}`;
  }

  /** Reads the device clock (no authentication needed) so digests are not rejected as stale. */
  async syncClock(): Promise<void> {
    const body = await this.call(
      this.deviceUrl,
      'GetSystemDateAndTime',
      `<tds:GetSystemDateAndTime xmlns:tds="${NS.tds}"/>`,
      false,
    );
    const utc = find(body, 'UTCDateTime');
    const n = (path: string[]): number => Number(textAt(utc, ...path));
    const device = Date.UTC(
      n(['Date', 'Year']),
      n(['Date', 'Month']) - 1,
      n(['Date', 'Day']),
      n(['Time', 'Hour']),
      n(['Time', 'Minute']),
      n(['Time', 'Second']),
    );
    if (Number.isFinite(device)) this.skewMs = device - Date.now();
  }

  get clockSkewMs(): number {
    return this.skewMs;
  }

  async mediaServiceUrl(): Promise<string> {
    if (this.mediaUrl) return this.mediaUrl;
    const body = await this.call(
      this.deviceUrl,
      'GetCapabilities',
      `<tds:GetCapabilities xmlns:tds="${NS.tds}"><tds:Category>Media</tds:Category></tds:GetCapabilities>`,
    );
    const xaddr = textAt(find(body, 'Media'), 'XAddr');
    if (!xaddr) throw this.unreachable('GetCapabilities named no Media service');
    this.mediaUrl = xaddr;
    return xaddr;
  }

  async getProfiles(): Promise<OnvifProfile[]> {
    const body = await this.call(
      await this.mediaServiceUrl(),
      'GetProfiles',
      `<trt:GetProfiles xmlns:trt="${NS.trt}"/>`,
    );
    return findAll(body, 'Profiles').map(profileOf);
  }

  async getStreamUri(profileToken: string): Promise<string> {
    const body = await this.call(
      await this.mediaServiceUrl(),
      'GetStreamUri',
      `<trt:GetStreamUri xmlns:trt="${NS.trt}"><trt:StreamSetup>` +
        `<tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport>` +
        `</trt:StreamSetup><trt:ProfileToken>${escapeXml(profileToken)}</trt:ProfileToken></trt:GetStreamUri>`,
    );
    const uri = textAt(find(body, 'MediaUri'), 'Uri');
    if (!uri) throw this.unreachable(`GetStreamUri gave no URI for profile ${profileToken}`);
    return uri;
  }

  private async call(url: string, op: string, body: string, auth = true): Promise<XmlNode> {
    const creds = this.target.credentials;
    const header =
      auth && creds ? usernameToken(creds, new Date(Date.now() + this.skewMs)) : undefined;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
        body: envelope(body, header),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const cause = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        cause.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : (cause.cause?.code ?? cause.cause?.message ?? cause.message);
      throw this.unreachable(`cannot reach the ONVIF device service (${op}): ${why}`, err);
    }
    let doc: XmlNode | undefined;
    try {
      doc = parseXml(text);
    } catch {
      doc = undefined;
    }
    const fault = doc && find(doc, 'Fault');
    if (fault || !res.ok) throw this.faultError(op, res.status, fault);
    const bodyNode = doc && find(doc, 'Body');
    if (!bodyNode) throw this.unreachable(`${op}: the answer is not a SOAP envelope`);
    return bodyNode;
  }

  private faultError(
    op: string,
    status: number,
    fault: XmlNode | undefined,
  ): SourceUnreachableError {
    const subcodes = fault
      ? findAll(find(fault, 'Code') ?? fault, 'Value').map((v) => v.text.trim().replace(/^.*:/, ''))
      : [];
    const reason = textAt(fault, 'Reason', 'Text') ?? textAt(fault, 'faultstring') ?? '';
    const code = subcodes[subcodes.length - 1] ?? `HTTP ${status}`;
    if (status === 401 || subcodes.includes('NotAuthorized')) {
      return this.unreachable(
        `ONVIF authentication failed (NotAuthorized)${reason ? `: ${reason}` : ''}`,
      );
    }
    return this.unreachable(`ONVIF ${op} failed (${code})${reason ? `: ${reason}` : ''}`);
  }

  private unreachable(message: string, cause?: unknown): SourceUnreachableError {
    return new SourceUnreachableError(`${this.label}: ${message}`, this.label, { cause });
  }
}

function profileOf(node: XmlNode): OnvifProfile {
  const video = find(node, 'VideoEncoderConfiguration');
  const width = Number(textAt(video, 'Resolution', 'Width'));
  const height = Number(textAt(video, 'Resolution', 'Height'));
  const profile: OnvifProfile = {
    token: node.attrs['token'] ?? '',
    name: textAt(node, 'Name') ?? '',
  };
  const encoding = textAt(video, 'Encoding');
  if (encoding) profile.encoding = encoding;
  if (width > 0 && height > 0) Object.assign(profile, { width, height });
  return profile;
}

/** Picks a profile by token, then by name; the first one when none is asked for. */
export function selectProfile(
  profiles: OnvifProfile[],
  wanted: string | undefined,
): OnvifProfile | undefined {
  if (wanted === undefined || wanted === '') return profiles[0];
  return profiles.find((p) => p.token === wanted) ?? profiles.find((p) => p.name === wanted);
}

/** Adds the ONVIF credentials to an RTSP URI that carries none (cameras rarely embed them). */
export function withCredentials(uri: string, creds: Credentials | undefined): string {
  if (!creds) return uri;
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return uri;
  }
  if (parsed.username || parsed.password) return uri;
  parsed.username = encodeURIComponent(creds.username);
  parsed.password = encodeURIComponent(creds.password);
  return parsed.toString();
}

/**
 * The camera's RTSP stream URI through ONVIF: clock sync, GetCapabilities → Media XAddr,
 * GetProfiles, GetStreamUri (RTP-Unicast over RTSP). Every failure is a SourceUnreachableError
 * saying which step failed; wrong credentials say "ONVIF authentication failed (NotAuthorized)".
 */
export async function resolveOnvifStream(
  target: OnvifTarget,
  options: ResolveOptions = {},
): Promise<ResolvedStream> {
  const client = new OnvifClient(target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    await client.syncClock();
  } catch (err) {
    // Some cameras refuse even this without credentials; an unreachable one fails below too.
    if (/cannot reach/.test((err as Error).message)) throw err;
  }
  const profiles = await client.getProfiles();
  const profile = selectProfile(profiles, options.profile);
  if (!profile) {
    const known = profiles.map((p) => `${p.token} (${p.name})`).join(', ') || 'none';
    throw new SourceUnreachableError(
      `${client.label}: no ONVIF profile ${JSON.stringify(options.profile ?? '')} (profiles: ${known})`,
      client.label,
    );
  }
  const uri = await client.getStreamUri(profile.token);
  return { profile, uri: withCredentials(uri, target.credentials), profiles };
}
