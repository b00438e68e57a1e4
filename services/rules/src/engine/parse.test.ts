import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@sie/errors';
import { parseRulesJson } from './parse.js';

function pathsOf(json: string): string[] {
  try {
    parseRulesJson(json);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues.map((i) => i.path).sort();
  }
  return [];
}

const zone = {
  id: 'z',
  polygon: [
    [0, 0],
    [1, 0],
    [1, 1],
  ],
};

test('parseRulesJson returns zones, lines and rules with defaults', () => {
  const c = parseRulesJson(
    JSON.stringify({
      zones: [zone],
      lines: [],
      rules: [{ id: 'r', kind: 'dwell', zone: 'z', params: { seconds: 2 } }],
      style: {},
    }),
  );
  assert.deepEqual(Object.keys(c).sort(), ['lines', 'rules', 'zones']);
  assert.deepEqual(c.rules[0]!.classes, []);
  assert.equal(c.rules[0]!.cooldownMs, 0);
});

test('an empty rulesJson is an empty config', () => {
  assert.deepEqual(parseRulesJson(''), { zones: [], lines: [], rules: [] });
});

test('parseRulesJson names every bad path', () => {
  assert.deepEqual(
    pathsOf(
      JSON.stringify({
        zones: [
          zone,
          {
            id: 'bow',
            polygon: [
              [0, 0],
              [1, 1],
              [1, 0],
              [0, 1],
            ],
          },
        ],
        rules: [
          { id: 'a', kind: 'teleport', zone: 'z' },
          { id: 'b', kind: 'zone_enter', zone: 'nowhere' },
          { id: 'c', kind: 'occupancy', zone: 'z', params: { op: 'gte', count: 1 } },
        ],
        extra: 1,
      }),
    ),
    ['extra', 'rules.0.kind', 'rules.1.zone', 'rules.2.params.seconds', 'zones.1.polygon'],
  );
});

test('invalid JSON is a ConfigError at the root', () => {
  assert.deepEqual(pathsOf('{nope'), ['']);
});
