import type { Run, RunTransition } from '@sie/db';
import { redactUrl } from '@sie/media';
import type { z } from 'zod';
import type { runJsonSchema, transitionJsonSchema } from './schema.js';

export type RunJson = z.output<typeof runJsonSchema>;

/** The RTSP path of a run's annotated output: the one asked for, else the run id. */
export function outputPathOf(run: Pick<Run, 'id' | 'output'>): string {
  return typeof run.output.path === 'string' && run.output.path ? run.output.path : run.id;
}

export function outputUrl(publicBaseUrl: string, path: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/${path}`;
}

/**
 * The browser preview of a run (the render service's MJPEG stream, keyed by run id), or null
 * when no preview base is configured.
 */
export function previewUrl(previewBaseUrl: string, runId: string): string | null {
  if (!previewBaseUrl) return null;
  return `${previewBaseUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}/preview.mjpeg`;
}

/** Where clients reach a run's outputs: RTSP for players, HTTP for the browser preview. */
export interface OutputBases {
  rtsp: string;
  preview: string;
}

/** The `output` object of a run's JSON. */
export function outputJson(
  bases: OutputBases,
  runId: string,
  path: string,
): { path: string; rtspUrl: string; previewUrl: string | null } {
  return {
    path,
    rtspUrl: outputUrl(bases.rtsp, path),
    previewUrl: previewUrl(bases.preview, runId),
  };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function runToJson(run: Run, bases: OutputBases): RunJson {
  const path = outputPathOf(run);
  const s = run.source;
  return {
    id: run.id,
    pipelineId: run.pipelineId,
    pipelineVersion: run.pipelineVersion,
    status: run.status,
    desiredState: run.desiredState,
    reason: run.reasonCode ? { code: run.reasonCode, message: run.reasonMessage ?? '' } : null,
    source: {
      url: redactUrl(s.url),
      loop: s.loop ?? false,
      realtime: s.realtime ?? true,
      rtspTransport: s.rtspTransport ?? 'tcp',
    },
    output: outputJson(bases, run.id, path),
    nodeId: run.nodeId,
    attempts: run.attempts,
    restarts: run.restarts,
    generation: run.leaseGeneration,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
  };
}

export function transitionToJson(t: RunTransition): z.output<typeof transitionJsonSchema> {
  return {
    id: t.id,
    from: t.fromStatus,
    to: t.toStatus,
    reason: t.reasonCode ? { code: t.reasonCode, message: t.message ?? '' } : null,
    at: t.at.toISOString(),
    generation: t.generation,
    actor: t.actor,
  };
}
