/**
 * The engine's own preprocessing and box decoding (@sie/inference's `letterbox` and
 * `createDecoder`), so the floor's "letterbox + run + decode" costs what the service's workers do.
 *
 * The module is loaded by name at run time instead of being compiled against: the bench then
 * measures the very build the inference service runs from (services/inference/dist), and the
 * bench compiles on its own while that service's sources are being changed. Only the few members
 * used here are typed, and checked when the module loads.
 */
export interface EngineImage {
  data: Uint8Array;
  width: number;
  height: number;
  order: 'bgr' | 'rgb';
}

export interface EngineTarget {
  width: number;
  height: number;
  order: 'bgr' | 'rgb';
  pixelScale: number;
  padValue: number;
}

/** A letterbox plan; `padX`/`padY` exist on builds that can centre the image. */
export interface EnginePlan {
  ratio: number;
  padX?: number;
  padY?: number;
}

export interface EngineDecoder {
  decode(output: Float32Array, options: Record<string, unknown>): unknown[];
}

export interface DecoderIo {
  modelId: string;
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  outputShape: readonly (number | string)[];
}

export interface Engine {
  letterbox(
    image: EngineImage,
    target: EngineTarget,
    out: Float32Array,
    plan?: EnginePlan,
  ): EnginePlan;
  createDecoder(config: { type: 'yolox'; decodedInGraph: boolean }, io: DecoderIo): EngineDecoder;
}

const MODULE = '@sie/inference';

export async function loadEngine(): Promise<Engine> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(MODULE)) as Record<string, unknown>;
  } catch (cause) {
    throw new Error(`cannot load ${MODULE} (build it: pnpm build)`, { cause });
  }
  for (const name of ['letterbox', 'createDecoder']) {
    if (typeof mod[name] !== 'function') throw new Error(`${MODULE} has no function ${name}`);
  }
  return mod as unknown as Engine;
}

/** YOLOX's input as the service feeds it (the model config defaults). */
export const YOLOX_TARGET: EngineTarget = {
  width: 416,
  height: 416,
  order: 'bgr',
  pixelScale: 1,
  padValue: 114,
};

/** The options ingest's Detect calls end up with: threshold 0.3, NMS IoU 0.45, no limit. */
export function decodeOptions(
  plan: EnginePlan,
  imageWidth: number,
  imageHeight: number,
): Record<string, unknown> {
  return {
    ratio: plan.ratio,
    padX: plan.padX ?? 0,
    padY: plan.padY ?? 0,
    imageWidth,
    imageHeight,
    scoreThreshold: 0.3,
    nmsIou: 0.45,
    maxDetections: 0,
    classMask: null,
  };
}
