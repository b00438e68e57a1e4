/** Reason phrases of the status codes this server sends (RFC 2326 §7.1.1). */
export const RTSP_REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};

export type HeaderList = Array<readonly [string, string]>;

export interface RtspResponseParts {
  status: number;
  headers: HeaderList;
  body?: string | Buffer;
}

/** The wire bytes of a response; Content-Length is added whenever there is a body. */
export function serializeResponse(res: RtspResponseParts): Buffer {
  const reason = RTSP_REASONS[res.status] ?? 'Unknown';
  const body =
    res.body === undefined
      ? undefined
      : typeof res.body === 'string'
        ? Buffer.from(res.body, 'utf8')
        : res.body;
  let head = `RTSP/1.0 ${res.status} ${reason}\r\n`;
  for (const [name, value] of res.headers) {
    // Values are built by the server, but a CR/LF smuggled in would forge headers: drop them.
    head += `${name}: ${value.replace(/[\r\n]/g, ' ')}\r\n`;
  }
  if (body && body.length > 0) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const headBuf = Buffer.from(head, 'utf8');
  return body && body.length > 0 ? Buffer.concat([headBuf, body]) : headBuf;
}
