import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 (header form), pure: the canonical request, the string to sign, the
 * derived key and the Authorization header, as the AWS documentation defines them. No clock and
 * no I/O: the caller passes the date and the headers it will send.
 */
export interface SignV4Input {
  method: string;
  /** The canonical URI: the path, already URI-encoded (S3: each key segment encoded once). */
  path: string;
  /** Query parameters (raw values; encoded and sorted here). */
  query?: Readonly<Record<string, string>>;
  /** Every header to sign, `host` and `x-amz-date` included (names in any case). */
  headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`). */
  payloadHash: string;
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `YYYYMMDDTHHMMSSZ`, the same as the `x-amz-date` header. */
  amzDate: string;
}

export interface SignV4Result {
  authorization: string;
  signature: string;
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const sha256Hex = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('hex');

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: unreserved kept, everything else %XX (upper case). */
export function uriEncode(value: string, encodeSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (c === '/' && !encodeSlash)) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function canonicalQuery(query: Readonly<Record<string, string>> = {}): string {
  return Object.entries(query)
    .map(([k, v]) => [uriEncode(k, true), uriEncode(v, true)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Lower-case names, sorted; values trimmed with inner runs of spaces collapsed. */
export function canonicalHeaders(headers: Readonly<Record<string, string>>): {
  text: string;
  signed: string;
} {
  const entries = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase().trim(), v.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    text: entries.map(([k, v]) => `${k}:${v}\n`).join(''),
    signed: entries.map(([k]) => k).join(';'),
  };
}

export function signingKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

export function signV4(input: SignV4Input): SignV4Result {
  const headers = canonicalHeaders(input.headers);
  const canonicalRequest = [
    input.method.toUpperCase(),
    input.path || '/',
    canonicalQuery(input.query),
    headers.text,
    headers.signed,
    input.payloadHash,
  ].join('\n');
  const date = input.amzDate.slice(0, 8);
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, input.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(
    signingKey(input.secretAccessKey, date, input.region, input.service),
    stringToSign,
  ).toString('hex');
  return {
    authorization:
      `${ALGORITHM} Credential=${input.accessKeyId}/${scope}, ` +
      `SignedHeaders=${headers.signed}, Signature=${signature}`,
    signature,
    signedHeaders: headers.signed,
    canonicalRequest,
    stringToSign,
  };
}

/** `YYYYMMDDTHHMMSSZ` of a time. */
export function amzDateOf(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
