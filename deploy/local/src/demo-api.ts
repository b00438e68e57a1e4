import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { COCO_CLASS_NAMES } from '@sie/models';

type Body = Record<string, unknown>;

/** A small client of the sie REST API for the demo (what a user would do with curl). */
export class DemoApi {
  constructor(readonly base: string) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Body }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, body: (await res.json()) as Body };
  }

  /** Registers the ONNX file (or finds it registered: the store is content-addressed). */
  async registerModel(path: string, decodedInGraph: boolean): Promise<string> {
    const form = new FormData();
    form.append(
      'metadata',
      JSON.stringify({
        name: 'YOLOX-Nano (COCO)',
        decoder: { type: 'yolox', decodedInGraph, nmsIou: 0.45, scoreThreshold: 0.3 },
        inputWidth: 416,
        inputHeight: 416,
        classNames: COCO_CLASS_NAMES,
        pixelOrder: 'bgr',
        pixelScale: 1,
        padValue: 114,
      }),
    );
    form.append('file', new Blob([readFileSync(path)]), basename(path));
    const res = await fetch(`${this.base}/v1/models`, { method: 'POST', body: form });
    const body = (await res.json()) as Body & { details?: Record<string, string> };
    if (res.status === 201) return String(body.id);
    if (res.status === 409 && body.details?.modelId) return body.details.modelId;
    throw new Error(`model upload answered ${res.status}: ${JSON.stringify(body)}`);
  }

  /** The pipeline named `name`, created when missing. */
  async pipeline(name: string, modelId: string, config: Body): Promise<string> {
    const list = await this.call('GET', '/v1/pipelines');
    const items = (list.body.items ?? []) as Array<{ id: string; name: string; modelId: string }>;
    const found = items.find((p) => p.name === name && p.modelId === modelId);
    if (found) return found.id;
    const created = await this.call('POST', '/v1/pipelines', { name, modelId, config });
    if (created.status !== 201) {
      throw new Error(`pipeline answered ${created.status}: ${JSON.stringify(created.body)}`);
    }
    return String(created.body.id);
  }
}
