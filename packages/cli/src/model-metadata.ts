import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { COCO_CLASS_NAMES } from './coco.js';
import { InputFileError, UsageError } from './errors.js';

/** Decoder shorthands of `--decoder`; anything else must be the decoder's JSON. */
export const DECODER_SHORTHANDS: Record<string, Record<string, unknown>> = {
  yolox: { type: 'yolox', decodedInGraph: true },
  'yolox-raw': { type: 'yolox', decodedInGraph: false },
  yolo: { type: 'yolo', layout: 'auto' },
  'yolo-v5': { type: 'yolo', layout: 'v5' },
  'yolo-v8': { type: 'yolo', layout: 'v8' },
  classify: { type: 'classify' },
};

export interface MetadataFlags {
  name: string;
  decoder?: string;
  input?: string;
  classes?: string;
  metadataFile?: string;
  /** The input size the ONNX file declares (used when neither --input nor the file says). */
  declaredInput?: { width: number; height: number };
}

/**
 * The `metadata` part of a model upload from the command line: a metadata file (JSON or YAML)
 * when given, overridden by the flags. Defaults: YOLOX decoded in the graph, COCO classes, and
 * the input size the model declares (the API checks the sizes against the model).
 */
export function modelMetadata(flags: MetadataFlags, usage: string): Record<string, unknown> {
  const meta: Record<string, unknown> = flags.metadataFile
    ? readMetadataFile(flags.metadataFile)
    : {};
  meta.name = flags.name;
  if (flags.decoder !== undefined) meta.decoder = decoderOf(flags.decoder, usage);
  meta.decoder ??= DECODER_SHORTHANDS.yolox;
  if (flags.input !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(flags.input);
    if (!m) throw new UsageError(`--input must be WIDTHxHEIGHT, e.g. 416x416`, usage);
    meta.inputWidth = Number(m[1]);
    meta.inputHeight = Number(m[2]);
  }
  if (meta.inputWidth === undefined || meta.inputHeight === undefined) {
    if (!flags.declaredInput) {
      throw new UsageError(
        "the model's input size could not be read from the file: give it with --input WxH",
        usage,
      );
    }
    meta.inputWidth ??= flags.declaredInput.width;
    meta.inputHeight ??= flags.declaredInput.height;
  }
  if (flags.classes !== undefined) meta.classNames = classesOf(flags.classes);
  meta.classNames ??= COCO_CLASS_NAMES;
  return meta;
}

function decoderOf(value: string, usage: string): Record<string, unknown> {
  const short = DECODER_SHORTHANDS[value];
  if (short) return short;
  if (value.trim().startsWith('{')) {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--decoder is not valid JSON: ${String(err)}`, usage);
    }
  }
  throw new UsageError(
    `--decoder must be one of ${Object.keys(DECODER_SHORTHANDS).join(', ')} or a JSON object`,
    usage,
  );
}

/** `coco`, `a,b,c`, or `@file` with one name a line. */
function classesOf(value: string): readonly string[] {
  if (value === 'coco') return COCO_CLASS_NAMES;
  if (value.startsWith('@')) {
    const file = value.slice(1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new InputFileError(
        file,
        `cannot read the class names: ${String(cause)}`,
        undefined,
        undefined,
        {
          cause,
        },
      );
    }
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }
  return value
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

function readMetadataFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (cause) {
    const pos = (cause as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new InputFileError(
      file,
      cause instanceof Error ? (cause.message.split('\n')[0] ?? '') : String(cause),
      pos?.line,
      pos?.col,
      { cause },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputFileError(file, 'the metadata file must hold an object');
  }
  return parsed as Record<string, unknown>;
}
