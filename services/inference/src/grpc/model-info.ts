import { ModelState, type ModelInfo } from '@sie/contracts';
import type { ModelEntry } from '../models/registry.js';
import { modelConfigToProto } from '../models/spec.js';

const STATE: Record<ModelEntry['state'], ModelState> = {
  loading: ModelState.MODEL_STATE_LOADING,
  ready: ModelState.MODEL_STATE_READY,
  failed: ModelState.MODEL_STATE_FAILED,
};

export function toModelInfo(e: ModelEntry): ModelInfo {
  return {
    spec: modelConfigToProto(e.config),
    state: STATE[e.state],
    executionProvider: e.io?.executionProvider ?? '',
    inputName: e.io?.inputName ?? '',
    inputShape: e.io?.inputShape ?? [],
    outputName: e.io?.outputName ?? '',
    outputShape: e.io?.outputShape ?? [],
    error: e.error?.toPayload(),
  };
}
