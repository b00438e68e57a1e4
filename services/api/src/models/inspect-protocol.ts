import type { ValueInfo } from './shape-check.js';

/** What the inspect worker is started with. */
export interface InspectRequest {
  path: string;
}

/** Its one message back. */
export type InspectReply =
  { ok: true; inputs: ValueInfo[]; outputs: ValueInfo[] } | { ok: false; message: string };
