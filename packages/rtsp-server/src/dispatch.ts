import type { Handler } from './context.js';
import {
  handleGetParameter,
  handleOptions,
  handleSetParameter,
  handleTeardown,
} from './handle-basic.js';
import { handleDescribe, handlePause, handlePlay } from './handle-play.js';
import { handleAnnounce, handleRecord } from './handle-publish.js';
import { handleSetup } from './handle-setup.js';

/** Method → handler; a method not listed is answered 501 Not Implemented. */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['OPTIONS', handleOptions],
  ['DESCRIBE', handleDescribe],
  ['ANNOUNCE', handleAnnounce],
  ['SETUP', handleSetup],
  ['PLAY', handlePlay],
  ['PAUSE', handlePause],
  ['RECORD', handleRecord],
  ['TEARDOWN', handleTeardown],
  ['GET_PARAMETER', handleGetParameter],
  ['SET_PARAMETER', handleSetParameter],
]);
