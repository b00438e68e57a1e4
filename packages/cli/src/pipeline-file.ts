import { readFileSync } from 'node:fs';
import { LineCounter, isMap, parseDocument, type Document } from 'yaml';
import { InputFileError } from './errors.js';

/** A pipeline as written in a YAML file: the API's body, plus the id of the pipeline to update. */
export interface PipelineFile {
  file: string;
  id?: string;
  body: { name?: unknown; modelId?: unknown; config?: unknown } & Record<string, unknown>;
  /** `file:line:col` of a dotted body path (an API issue path), where the file has it. */
  locate(path: string): string | undefined;
}

/** Reads and parses a pipeline YAML file; syntax errors carry their line and column. */
export function readPipelineFile(file: string): PipelineFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InputFileError(
      file,
      `cannot read: ${(cause as Error).message}`,
      undefined,
      undefined,
      {
        cause,
      },
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    throw new InputFileError(
      file,
      first.message.split('\n')[0] ?? 'invalid YAML',
      pos?.line,
      pos?.col,
    );
  }
  if (!isMap(doc.contents)) {
    throw new InputFileError(file, 'a pipeline file holds a mapping (name, modelId, config)', 1);
  }
  const value = doc.toJS() as Record<string, unknown>;
  const { id, ...body } = value;
  if (id !== undefined && typeof id !== 'string') {
    throw new InputFileError(file, 'id must be a pipeline id (pl_…)', lineOf(doc, lines, ['id']));
  }
  return {
    file,
    ...(typeof id === 'string' ? { id } : {}),
    body,
    locate(path: string) {
      const parts =
        path === '' ? [] : path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      // The deepest node the file has on that path (a missing key points at its parent).
      for (let n = parts.length; n > 0; n -= 1) {
        const line = lineOf(doc, lines, parts.slice(0, n));
        if (line !== undefined) return `${file}:${line}`;
      }
      return undefined;
    },
  };
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  if (!node || typeof node !== 'object' || !node.range) return undefined;
  return lines.linePos(node.range[0]).line;
}

/** Leaf paths whose values differ between two JSON values (arrays compared whole). */
export function changedPaths(before: unknown, after: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}
