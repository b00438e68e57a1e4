import { validate } from '@sie/config';
import { ConfigError } from '@sie/errors';
import { pipelineRulesSchema } from '@sie/pipeline';
import type { RulesConfig } from './types.js';

/**
 * Reads `PipelineSpec.rulesJson` ({zones, lines, rules, style}) with the same checks as pipeline
 * creation, so a spec that bypassed the API still cannot start a run with a bad rule. Throws
 * ConfigError naming every bad path (`rules.0.params.seconds`).
 */
export function parseRulesJson(json: string): RulesConfig {
  let value: unknown;
  try {
    value = json.trim() === '' ? {} : JSON.parse(json);
  } catch (err) {
    throw new ConfigError(
      [{ path: '', message: `not JSON: ${(err as Error).message}` }],
      'rulesJson',
      {
        cause: err,
      },
    );
  }
  const { zones, lines, rules } = validate(pipelineRulesSchema, value, 'rulesJson');
  return { zones, lines, rules };
}
