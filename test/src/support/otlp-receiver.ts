import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
  /** The span ended with an error status. */
  error: boolean;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttr[] };
    scopeSpans?: Array<{
      spans?: Array<{
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes?: OtlpAttr[];
        status?: { code?: number | string };
      }>;
    }>;
  }>;
}
interface OtlpAttr {
  key: string;
  value: Record<string, unknown>;
}

/**
 * An OTLP/HTTP traces endpoint for tests (JSON encoding, what the services' exporter sends):
 * collects every span it is sent, with its service name.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.collect(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private collect(body: OtlpJson): void {
    for (const rs of body.resourceSpans ?? []) {
      const attrs = flatten(rs.resource?.attributes);
      const service = String(attrs['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            name: s.name,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            attributes: flatten(s.attributes),
            // OTLP/JSON writes the enum as a number (2) or, from some SDKs, by name.
            error: s.status?.code === 2 || s.status?.code === 'STATUS_CODE_ERROR',
          });
        }
      }
    }
  }
}

function flatten(attrs: OtlpAttr[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attrs ?? []) out[a.key] = Object.values(a.value)[0];
  return out;
}
