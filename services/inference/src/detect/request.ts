import { PixelFormat, type DetectRequest, type FrameRef } from '@sie/contracts';
import { InvalidArgumentError } from '@sie/errors';
import type { ModelConfig } from '../models/spec.js';

export interface RequestOptions {
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
  classIds: number[] | null;
}

/** Largest frame side accepted by reference (8K and then some). */
const MAX_FRAME_SIDE = 16384;

/** A request's filters resolved against its model: threshold, class names → ids, limit. */
export function requestOptions(req: DetectRequest, model: ModelConfig): RequestOptions {
  const t = req.scoreThreshold;
  if (!Number.isFinite(t) || t < 0 || t > 1) {
    throw new InvalidArgumentError(
      `score_threshold must be within 0..1, got ${t}`,
      'score_threshold',
    );
  }
  let classIds: number[] | null = null;
  if (req.classes.length > 0) {
    classIds = [];
    for (const name of req.classes) {
      const id = model.classNames.indexOf(name);
      if (id < 0) {
        throw new InvalidArgumentError(
          `model ${model.id} has no class ${JSON.stringify(name)}`,
          'classes',
        );
      }
      classIds.push(id);
    }
  }
  return {
    scoreThreshold: t > 0 ? t : model.scoreThreshold,
    nmsIou: model.nmsIou,
    maxDetections: req.maxDetections,
    classIds,
  };
}

/** Checks what the worker will rely on: a 3-byte pixel format and a consistent size. */
export function checkFrameRef(ref: FrameRef): void {
  if (
    ref.pixelFormat !== PixelFormat.PIXEL_FORMAT_BGR24 &&
    ref.pixelFormat !== PixelFormat.PIXEL_FORMAT_RGB24
  ) {
    throw new InvalidArgumentError(
      `frame pixel format ${ref.pixelFormat} is not supported (BGR24 or RGB24)`,
      'frame.pixel_format',
    );
  }
  if (
    !Number.isInteger(ref.width) ||
    !Number.isInteger(ref.height) ||
    ref.width < 1 ||
    ref.height < 1 ||
    ref.width > MAX_FRAME_SIDE ||
    ref.height > MAX_FRAME_SIDE
  ) {
    throw new InvalidArgumentError(`frame size ${ref.width}x${ref.height} is not valid`, 'frame');
  }
  if (ref.byteLength !== ref.width * ref.height * 3) {
    throw new InvalidArgumentError(
      `frame of ${ref.width}x${ref.height} needs ${ref.width * ref.height * 3} bytes, reference says ${ref.byteLength}`,
      'frame.byte_length',
    );
  }
  if (!ref.store) throw new InvalidArgumentError('frame.store is required', 'frame.store');
}
