import type { Model } from '@sie/db';
import { asSieError } from '@sie/errors';
import { modelSpecOf, type ModelLoader } from '@sie/models';
import type { Logger } from '@sie/telemetry';
import type { SchedulerMetrics } from './metrics.js';

export type ModelStepOutcome = { ok: true } | { ok: false; code: string; message: string };

/**
 * The ensure-model step of a start: the run's registered model is loaded on the inference service
 * (LoadModel of the models row) before any stage is asked to start, so a run of a model
 * registered through the API also starts after inference restarted and forgot it. Inference
 * answers a load of what it already serves without reloading, so this costs one round trip.
 */
export class ModelStep {
  constructor(
    /** Absent: no inference address configured; the node's own config may preload models. */
    private readonly loader: ModelLoader | undefined,
    private readonly log: Logger,
    private readonly metrics: SchedulerMetrics,
  ) {}

  async ensure(runId: string, modelId: string, row: Model | undefined): Promise<ModelStepOutcome> {
    if (!this.loader) {
      this.log.debug(
        { run: runId, model: modelId },
        'no inferenceUrl: the model is not loaded before the start',
      );
      return { ok: true };
    }
    if (!row) {
      this.metrics.modelLoads.inc({ outcome: 'model_not_found' });
      return { ok: false, code: 'model_not_found', message: `model ${modelId} is not registered` };
    }
    const started = Date.now();
    try {
      await this.loader.loadModel(modelSpecOf(row));
      this.metrics.modelLoads.inc({ outcome: 'ok' });
      this.log.debug({ run: runId, model: modelId, ms: Date.now() - started }, 'model loaded');
      return { ok: true };
    } catch (err) {
      const e = asSieError(err);
      this.metrics.modelLoads.inc({ outcome: e.code });
      this.log.warn({ run: runId, model: modelId, code: e.code, err: e }, 'LoadModel failed');
      return { ok: false, code: e.code, message: e.message };
    }
  }
}
