import { createHash, randomBytes } from 'node:crypto';
import { escapeXml } from './xml.js';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  digest:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest',
  b64: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
} as const;

export interface Credentials {
  username: string;
  password: string;
}

/** WS-Security PasswordDigest: base64(sha1(nonce + created + password)). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/** The UsernameToken header; `created` is the device's clock (ours corrected by its skew). */
export function usernameToken(
  creds: Credentials,
  created: Date,
  nonce: Buffer = randomBytes(16),
): string {
  const createdText = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const digest = passwordDigest(nonce, createdText, creds.password);
  return (
    `<wsse:Security s:mustUnderstand="1" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">` +
    `<wsse:UsernameToken><wsse:Username>${escapeXml(creds.username)}</wsse:Username>` +
    `<wsse:Password Type="${NS.digest}">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${NS.b64}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${createdText}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

/** A SOAP 1.2 envelope around `body` (which declares its own namespaces). */
export function envelope(body: string, header = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:tt="${NS.tt}">` +
    (header ? `<s:Header>${header}</s:Header>` : '') +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}
