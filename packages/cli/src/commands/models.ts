import { statSync } from 'node:fs';
import { positionals, stringOpt } from '../args.js';
import type { CommandGroup } from '../command.js';
import { InputFileError, UsageError } from '../errors.js';
import { modelMetadata, DECODER_SHORTHANDS } from '../model-metadata.js';
import { multipartFileUpload } from '../multipart.js';
import { onnxInputSize } from '../onnx-input.js';
import { formatBytes, formatTime } from '../output.js';
import { ProgressBar } from '../progress.js';

interface ModelJson {
  id: string;
  name: string;
  task: string;
  decoder: { type: string; decodedInGraph?: boolean; layout?: string };
  inputWidth: number;
  inputHeight: number;
  classNames: string[];
  sha256: string;
  sizeBytes: number;
  createdAt: string;
  loaded?: boolean;
  loadError?: { code: string; message: string };
}

const decoderText = (d: ModelJson['decoder']): string =>
  d.type === 'yolox'
    ? d.decodedInGraph === false
      ? 'yolox-raw'
      : 'yolox'
    : d.layout && d.layout !== 'auto'
      ? `${d.type}-${d.layout}`
      : d.type;

export const modelsGroup: CommandGroup = {
  name: 'models',
  summary: 'ONNX models: upload and list',
  commands: [
    {
      name: 'list',
      summary: "The tenant's models, newest first",
      args: '',
      options: {},
      async run({ client, out, json, usage }, args) {
        positionals(args, [], usage);
        const list = await client.get<{ items: ModelJson[] }>('/v1/models');
        if (json) return out.document(list);
        out.table(
          ['ID', 'NAME', 'TASK', 'DECODER', 'INPUT', 'CLASSES', 'SIZE', 'CREATED'],
          list.items.map((m) => [
            m.id,
            m.name,
            m.task,
            decoderText(m.decoder),
            `${m.inputWidth}x${m.inputHeight}`,
            String(m.classNames.length),
            formatBytes(m.sizeBytes),
            formatTime(m.createdAt),
          ]),
          'no models',
        );
      },
    },
    {
      name: 'upload',
      summary: 'Register an ONNX model (validated by the API before it is stored)',
      args: '<file.onnx> --id <name> [--decoder <d>] [--input WxH] [--classes <c>]',
      options: {
        id: {
          type: 'string',
          value: '<name>',
          description: 'Name of the model (the API assigns its mdl_… id); --name works too',
        },
        name: { type: 'string', value: '<name>', description: 'Same as --id' },
        decoder: {
          type: 'string',
          value: '<d>',
          description: `${Object.keys(DECODER_SHORTHANDS).join(' | ')} | JSON (default yolox)`,
        },
        input: {
          type: 'string',
          value: 'WxH',
          description: 'Network input size (default: the size the model declares)',
        },
        classes: {
          type: 'string',
          value: '<c>',
          description: 'coco (default) | a,b,c | @file with one name a line',
        },
        metadata: {
          type: 'string',
          value: '<file>',
          description: 'Full metadata as JSON or YAML (flags override it)',
        },
      },
      async run({ client, out, json, io, usage }, args) {
        const [file = ''] = positionals(args, ['<file.onnx>'], usage);
        const name = stringOpt(args, 'id') ?? stringOpt(args, 'name');
        if (!name) throw new UsageError('--id <name> is required', usage);
        let size: number;
        try {
          const st = statSync(file);
          if (!st.isFile()) throw new Error('not a file');
          size = st.size;
        } catch (cause) {
          throw new InputFileError(
            file,
            `cannot read the model: ${(cause as Error).message}`,
            undefined,
            undefined,
            { cause },
          );
        }
        const metadata = modelMetadata(
          {
            name,
            decoder: stringOpt(args, 'decoder'),
            input: stringOpt(args, 'input'),
            classes: stringOpt(args, 'classes'),
            metadataFile: stringOpt(args, 'metadata'),
            declaredInput: onnxInputSize(file),
          },
          usage,
        );
        // The bar is for a person watching: never with --json, never into a pipe or a file.
        const bar =
          !json && io.stderr.isTTY ? new ProgressBar(io.stderr, size, 'uploading') : undefined;
        const upload = multipartFileUpload(
          { metadata: JSON.stringify(metadata) },
          { field: 'file', path: file, size },
          (sent) => bar?.update(sent),
        );
        let model: ModelJson;
        try {
          model = await client.request<ModelJson>('POST', '/v1/models', {
            body: upload.body,
            headers: {
              'content-type': upload.contentType,
              'content-length': String(upload.length),
            },
          });
        } finally {
          bar?.done();
        }
        if (json) return out.document(model);
        out.line(
          `model ${model.id} registered: ${model.name}, ${decoderText(model.decoder)} ` +
            `${model.inputWidth}x${model.inputHeight}, ${model.classNames.length} classes, ` +
            `${formatBytes(model.sizeBytes)}`,
        );
        out.line(
          model.loaded
            ? 'loaded on the inference service'
            : `not loaded yet (${model.loadError?.message ?? 'inference unreachable'}); ` +
                'the scheduler loads it before a run starts',
        );
      },
    },
  ],
};
