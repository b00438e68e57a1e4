import { ruleParamSchemas } from '@sie/pipeline';
import type { Point } from '../geometry.js';
import type { RuleConfig, RulesConfig } from '../types.js';
import { AbsenceRule } from './absence.js';
import { DwellRule } from './dwell.js';
import { LineCrossRule } from './line-cross.js';
import { OccupancyRule } from './occupancy.js';
import type { RuleEvaluator } from './types.js';
import { ZoneTransitionRule } from './zone-transition.js';

/**
 * Builds the evaluator for one rule of a validated config (zone/line references and params were
 * checked by the pipeline schema; parsing params again here applies their defaults).
 */
export function createRule(rule: RuleConfig, config: RulesConfig): RuleEvaluator {
  const zone = config.zones.find((z) => z.id === rule.zone);
  const line = config.lines.find((l) => l.id === rule.line);
  const polygon = (zone?.polygon ?? []) as Point[];
  const zoneId = zone?.id ?? '';
  switch (rule.kind) {
    case 'zone_enter':
    case 'zone_exit': {
      const p = ruleParamSchemas[rule.kind].parse(rule.params);
      return new ZoneTransitionRule({ ...rule, kind: rule.kind }, zoneId, polygon, p.minBoxArea);
    }
    case 'dwell':
      return new DwellRule(rule, zoneId, polygon, ruleParamSchemas.dwell.parse(rule.params));
    case 'occupancy':
      return new OccupancyRule(
        rule,
        zoneId,
        polygon,
        ruleParamSchemas.occupancy.parse(rule.params),
      );
    case 'absence':
      return new AbsenceRule(rule, zoneId, polygon, ruleParamSchemas.absence.parse(rule.params));
    case 'line_cross': {
      const p = ruleParamSchemas.line_cross.parse(rule.params);
      return new LineCrossRule(rule, line?.id ?? '', line?.a ?? [0, 0], line?.b ?? [1, 0], p);
    }
  }
}
