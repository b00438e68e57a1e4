export { Bus, traceHeaders } from './bus.js';
export type { BusErrorKind, BusOptions, BusState, Delivery } from './bus.js';
export type { Subscription } from 'nats';
export { encodeMessage } from './codec.js';
export type { ProtoCodec } from './codec.js';
export {
  STAGE_NAMES,
  allDetectionsSubject,
  allEventsSubject,
  allHeartbeatsSubject,
  allNodeStatusSubject,
  allRunStatusSubject,
  allStageReportsSubject,
  controlSubject,
  detectionsSubject,
  eventStreamSubjects,
  eventSubject,
  heartbeatSubject,
  nodeStatusSubject,
  overlaysSubject,
  runEventsSubject,
  runIdFromSubject,
  runStageReportsSubject,
  runStatusStreamSubjects,
  runStatusSubject,
  stageControlSubject,
  stageReportSubject,
  tenantEventsFilterSubject,
  tenantEventsSubject,
  token,
  traceKeepSubject,
} from './subjects.js';
export type { ControlVerb, StageName } from './subjects.js';
