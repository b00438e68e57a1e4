import { z } from 'zod';

/** Smallest box a rule looks at, as a fraction of the frame area (0 keeps every box). */
const minBoxArea = z.number().min(0).max(1).default(0);
const DAY_S = 86_400;

/**
 * Each rule kind's own parameters (a rule's `params`). Strict, so a misspelt key is refused at
 * pipeline creation instead of silently falling back to a default.
 */
export const ruleParamSchemas = {
  zone_enter: z.strictObject({ minBoxArea }),
  zone_exit: z.strictObject({ minBoxArea }),
  dwell: z.strictObject({
    /** Time inside the zone, in one visit, before the rule fires. */
    seconds: z.number().gt(0).max(DAY_S),
    minBoxArea,
  }),
  line_cross: z.strictObject({
    /** a_to_b: from the left of a→b to its right as seen on screen (see the engine's geometry). */
    direction: z.enum(['a_to_b', 'b_to_a', 'both']).default('both'),
    /** Distance (normalized) past the line a point must reach before a side counts: jitter guard. */
    minDistance: z.number().min(0).max(1).default(0.01),
    minBoxArea,
  }),
  occupancy: z.strictObject({
    op: z.enum(['gte', 'lte']),
    count: z.number().int().min(0).max(100_000),
    /** How long the condition must hold before the rule fires. */
    seconds: z.number().min(0).max(DAY_S),
    /** How long the condition must be false before the rule can fire again; default `seconds`. */
    rearmSeconds: z.number().min(0).max(DAY_S).optional(),
    minBoxArea,
  }),
  absence: z.strictObject({
    /** How long the zone must hold none of the rule's classes before the rule fires. */
    seconds: z.number().min(0).max(DAY_S),
    minBoxArea,
  }),
} as const;

export type RuleParamSchemas = typeof ruleParamSchemas;
export type RuleParams<K extends keyof RuleParamSchemas> = z.output<RuleParamSchemas[K]>;

/** Kinds evaluated against a zone (their rule needs `zone`); line_cross needs `line`. */
export const ZONE_RULE_KINDS = [
  'zone_enter',
  'zone_exit',
  'dwell',
  'occupancy',
  'absence',
] as const;
