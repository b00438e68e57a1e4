/**
 * Every NATS subject sie uses is built here, and nowhere else, so the subject space is one
 * readable list and each id is checked before it becomes a subject token.
 *
 *   sie.det.<run>                      detections of every processed frame (ingest → rules, api)
 *   sie.ovl.<run>                      what to draw on a frame (rules → render)
 *   sie.evt.<tenant>.<run>.<rule>      rule events (JetStream)
 *   sie.hb.<run>.<stage>               stage heartbeats
 *   sie.rpt.<run>.<stage>              stage reports: started, reconnecting, ended, failed
 *   sie.status.<tenant>.<run>          run status changes (outbox relay, JetStream)
 *   sie.ctl.<node>.<stage>.<verb>      commands to one stage service of a node (request/reply)
 *   sie.node.<node>.<stage>            stage services announce themselves and their capacity
 */
export const SUBJECT_ROOT = 'sie';

export type StageName = 'ingest' | 'inference' | 'rules' | 'render';
export const STAGE_NAMES: readonly StageName[] = ['ingest', 'inference', 'rules', 'render'];
export type ControlVerb = 'start' | 'stop' | 'ping';

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** A subject token from an id; refuses ids that would change the subject's shape. */
export function token(value: string, what: string): string {
  if (!TOKEN.test(value)) {
    throw new RangeError(
      `${what} ${JSON.stringify(value)} is not a valid id ([A-Za-z0-9_-], 1-128 chars)`,
    );
  }
  return value;
}

export const detectionsSubject = (runId: string): string => `sie.det.${token(runId, 'run id')}`;
export const allDetectionsSubject = (): string => 'sie.det.*';

export const overlaysSubject = (runId: string): string => `sie.ovl.${token(runId, 'run id')}`;

export const eventSubject = (tenantId: string, runId: string, ruleId: string): string =>
  `sie.evt.${token(tenantId, 'tenant id')}.${token(runId, 'run id')}.${token(ruleId, 'rule id')}`;
export const tenantEventsSubject = (tenantId: string): string =>
  `sie.evt.${token(tenantId, 'tenant id')}.>`;
export const runEventsSubject = (tenantId: string, runId: string): string =>
  `sie.evt.${token(tenantId, 'tenant id')}.${token(runId, 'run id')}.*`;
export const allEventsSubject = (): string => 'sie.evt.>';
/** A tenant's events, narrowed to one run and/or one rule (`*` for the one not given). */
export const tenantEventsFilterSubject = (
  tenantId: string,
  filter: { runId?: string; ruleId?: string },
): string => {
  if (filter.runId === undefined && filter.ruleId === undefined)
    return tenantEventsSubject(tenantId);
  const run = filter.runId === undefined ? '*' : token(filter.runId, 'run id');
  const rule = filter.ruleId === undefined ? '*' : token(filter.ruleId, 'rule id');
  return `sie.evt.${token(tenantId, 'tenant id')}.${run}.${rule}`;
};
/** The subject filter of the JetStream events stream (`SIE_EVENTS`, the rules service's). */
export const eventStreamSubjects = (): string => 'sie.evt.>';

export const heartbeatSubject = (runId: string, stage: StageName): string =>
  `sie.hb.${token(runId, 'run id')}.${stage}`;
export const allHeartbeatsSubject = (): string => 'sie.hb.*.*';

export const stageReportSubject = (runId: string, stage: StageName): string =>
  `sie.rpt.${token(runId, 'run id')}.${stage}`;
export const runStageReportsSubject = (runId: string): string =>
  `sie.rpt.${token(runId, 'run id')}.*`;
export const allStageReportsSubject = (): string => 'sie.rpt.*.*';

export const runStatusSubject = (tenantId: string, runId: string): string =>
  `sie.status.${token(tenantId, 'tenant id')}.${token(runId, 'run id')}`;
export const allRunStatusSubject = (): string => 'sie.status.*.*';
/**
 * The subject filter of the JetStream status stream (the outbox relay's): every run status
 * subject. Streams already created carry this exact filter, and a scheduler that asked for
 * another one would find its stream "with other subjects", so it stays `>`.
 */
export const runStatusStreamSubjects = (): string => 'sie.status.>';

export const controlSubject = (nodeId: string, stage: StageName, verb: ControlVerb): string =>
  `sie.ctl.${token(nodeId, 'node id')}.${stage}.${verb}`;
/** Every command for one stage service of a node. */
export const stageControlSubject = (nodeId: string, stage: StageName): string =>
  `sie.ctl.${token(nodeId, 'node id')}.${stage}.*`;

export const nodeStatusSubject = (nodeId: string, stage: StageName): string =>
  `sie.node.${token(nodeId, 'node id')}.${stage}`;
export const allNodeStatusSubject = (): string => 'sie.node.*.*';

/**
 * Trace ids whose frames raised an event or an error: every service exports the spans it still
 * holds of them, so such a frame is traced whole whatever the sampling ratio.
 */
export const traceKeepSubject = (): string => 'sie.trace.keep';

/** Parses the run id out of a detections subject (for wildcard subscribers). */
export function runIdFromSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts[0] === SUBJECT_ROOT && parts.length >= 3 ? parts[2] : undefined;
}
