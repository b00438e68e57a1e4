import {
  models,
  newId,
  pipelines,
  runs,
  tenants,
  type Db,
  type PipelineConfigJson,
  type RunSourceJson,
} from '@sie/db';
import { recordRunCreated } from '@sie/lifecycle';
import { createLogger, type Logger } from '@sie/telemetry';

/** A tenant, a model and a pipeline to hang test runs on. */
export interface Fixture {
  tenantId: string;
  modelId: string;
  pipelineId: string;
}

export function quietLogger(): Logger {
  return createLogger({
    service: 'scheduler-test',
    level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent',
  });
}

export async function createFixture(db: Db, config: PipelineConfigJson = {}): Promise<Fixture> {
  const tenantId = newId('ten');
  const modelId = newId('mdl');
  const pipelineId = newId('pl');
  await db.insert(tenants).values({ id: tenantId, name: 'test tenant' });
  await db.insert(models).values({
    id: modelId,
    tenantId,
    name: 'yolox',
    task: 'detect',
    decoder: { type: 'yolox', decodedInGraph: true },
    inputWidth: 416,
    inputHeight: 416,
    classNames: [],
    pixelOrder: 'bgr',
    pixelScale: 1,
    padValue: 114,
    contentHash: modelId.padEnd(64, '0').slice(0, 64),
    filePath: '/models/test.onnx',
    sizeBytes: 1,
  });
  await db.insert(pipelines).values({ id: pipelineId, tenantId, name: 'test', modelId, config });
  return { tenantId, modelId, pipelineId };
}

/** Enqueues a run the way the API does: the row and its creation record in one transaction. */
export async function enqueueRun(
  db: Db,
  f: Fixture,
  source: RunSourceJson = { url: '/media/test.mp4', loop: true, realtime: true },
): Promise<string> {
  const id = newId('run');
  await db.transaction(async (tx) => {
    await tx.insert(runs).values({
      id,
      tenantId: f.tenantId,
      pipelineId: f.pipelineId,
      pipelineVersion: 1,
      source,
    });
    await recordRunCreated(tx, { runId: id, tenantId: f.tenantId, actor: 'test' });
  });
  return id;
}
