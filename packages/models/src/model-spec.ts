import { PixelOrder, type ModelSpec } from '@sie/contracts';
import type { Model } from '@sie/db';
import { readDecoderColumn } from './decoder-column.js';

/** The columns of a models row that say how to load and read the network. */
export type ModelRow = Pick<
  Model,
  | 'id'
  | 'name'
  | 'filePath'
  | 'task'
  | 'decoder'
  | 'inputWidth'
  | 'inputHeight'
  | 'classNames'
  | 'pixelOrder'
  | 'pixelScale'
  | 'padValue'
>;

/**
 * The LoadModel spec of a registered model (its id and its stored file). proto3 has no "unset"
 * for scalars: 0 and '' mean "the service default", options of other decoders stay empty.
 */
export function modelSpecOf(m: ModelRow): ModelSpec {
  const { decoder: d, letterbox } = readDecoderColumn(m.decoder);
  return {
    id: m.id,
    name: m.name,
    path: m.filePath,
    task: m.task,
    decoder: {
      type: d.type,
      decodedInGraph: d.type === 'yolox' && d.decodedInGraph,
      nmsIou: d.type === 'classify' ? 0 : (d.nmsIou ?? 0),
      scoreThreshold: d.scoreThreshold ?? 0,
      layout: d.type === 'yolo' ? d.layout : '',
      softmax: d.type === 'classify' ? d.softmax : undefined,
      topK: d.type === 'classify' ? d.topK : 0,
    },
    inputWidth: m.inputWidth,
    inputHeight: m.inputHeight,
    classNames: m.classNames,
    pixelOrder: m.pixelOrder === 'rgb' ? PixelOrder.PIXEL_ORDER_RGB : PixelOrder.PIXEL_ORDER_BGR,
    pixelScale: m.pixelScale,
    padValue: m.padValue,
    letterbox,
  };
}
