export { IllegalTransitionError, StaleRunError } from './errors.js';
export { TRANSITIONS, canTransition, isTerminal, runStateOf } from './machine.js';
export { dbNow, recordRunCreated, transitionRun } from './transition.js';
export type { DbTx, TransitionInput, TransitionResult } from './transition.js';
