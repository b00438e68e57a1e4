/** One detection in pixels of the original image (x1,y1 top-left; x2,y2 bottom-right). */
export interface RawDetection {
  classId: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface DecodeOptions {
  /** Letterbox ratio: network pixels per image pixel. */
  ratio: number;
  /** Letterbox offset of the image in the network input (0 when it sits top-left). */
  padX: number;
  padY: number;
  imageWidth: number;
  imageHeight: number;
  scoreThreshold: number;
  nmsIou: number;
  /** 0 keeps every detection that survives NMS. */
  maxDetections: number;
  /** 1 for each class id to keep; null keeps all classes. */
  classMask: Uint8Array | null;
}

/** What a decoder needs to know about the network it decodes (checked when a model loads). */
export interface DecoderIo {
  modelId: string;
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** Output dims as the ONNX file declares them; symbolic dims are strings. */
  outputShape: readonly (number | string)[];
}

/** Turns one image's network output into detections in original image pixels. */
export interface Decoder {
  readonly type: string;
  decode(output: Float32Array, options: DecodeOptions): RawDetection[];
}
