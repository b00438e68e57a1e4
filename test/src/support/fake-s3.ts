import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake S3 endpoint (path-style PUT only) for the test: it recomputes each request's SigV4
 * signature with its own code, from the bytes it received and the secret it shares with the
 * node, and stores the object only when the signature and the body hash hold.
 */
export class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly rejected: string[] = [];
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly keyId: string,
    private readonly secret: string,
    private readonly region: string,
  ) {}

  /** A fake endpoint that accepts requests signed with this key, secret and region only. */
  static async start(keyId: string, secret: string, region: string): Promise<FakeS3> {
    const box: { self?: FakeS3 } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const why = box.self!.check(req.method ?? '', req.url ?? '', req.headers, body);
        if (why) {
          box.self!.rejected.push(`${req.url}: ${why}`);
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end(`<Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message></Error>`);
          return;
        }
        box.self!.accepted++;
        box.self!.objects.set(decodeURIComponent(req.url ?? ''), body);
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    box.self = new FakeS3(server, `http://127.0.0.1:${port}`, keyId, secret, region);
    return box.self;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private check(
    method: string,
    url: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): string | undefined {
    if (method !== 'PUT') return `method ${method}`;
    const auth = String(headers.authorization ?? '');
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) return `malformed authorization ${auth}`;
    const [, keyId, day, region, signed, signature] = m as unknown as string[];
    if (keyId !== this.keyId) return `unknown key ${keyId}`;
    if (region !== this.region) return `region ${region}`;
    const names = signed!.split(';');
    for (const n of ['host', 'x-amz-content-sha256', 'x-amz-date']) {
      if (!names.includes(n)) return `${n} not signed`;
    }
    const payloadHash = String(headers['x-amz-content-sha256']);
    if (createHash('sha256').update(body).digest('hex') !== payloadHash) return 'body hash';
    const amzDate = String(headers['x-amz-date']);
    if (!amzDate.startsWith(day!)) return 'date';
    const [path, query = ''] = url.split('?');
    const canonical = [
      method,
      path,
      query,
      names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join(''),
      signed,
      payloadHash,
    ].join('\n');
    const scope = `${day}/${region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    let key: Buffer = createHmac('sha256', `AWS4${this.secret}`).update(day!).digest();
    for (const part of [region!, 's3', 'aws4_request']) {
      key = createHmac('sha256', key).update(part).digest();
    }
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    return expected === signature ? undefined : 'signature mismatch';
  }
}
