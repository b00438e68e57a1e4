import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipelineConfigSchema, pipelineRulesSchema, polygonDefect } from './index.js';

function pathsOf(value: unknown): string[] {
  const r = pipelineConfigSchema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => [...i.path, ...('keys' in i ? i.keys : [])].join('.'));
}

const square = [
  [0.1, 0.1],
  [0.9, 0.1],
  [0.9, 0.9],
  [0.1, 0.9],
];

test('a valid rules config passes and params get their defaults', () => {
  const c = pipelineConfigSchema.parse({
    zones: [{ id: 'door', polygon: square }],
    lines: [{ id: 'l', a: [0, 0.5], b: [1, 0.5] }],
    rules: [
      { id: 'r1', kind: 'dwell', zone: 'door', params: { seconds: 3 } },
      { id: 'r2', kind: 'line_cross', line: 'l' },
      { id: 'r3', kind: 'occupancy', zone: 'door', params: { op: 'gte', count: 2, seconds: 1 } },
      { id: 'r4', kind: 'absence', zone: 'door', params: { seconds: 5 } },
      { id: 'r5', kind: 'zone_enter', zone: 'door' },
    ],
  });
  assert.equal(c.rules.length, 5);
});

test('self-intersecting, degenerate and repeated-point polygons are refused', () => {
  const bowTie: [number, number][] = [
    [0, 0],
    [1, 1],
    [1, 0],
    [0, 1],
  ];
  assert.match(polygonDefect(bowTie) ?? '', /intersects itself/);
  assert.match(
    polygonDefect([
      [0, 0],
      [0.5, 0.5],
      [1, 1],
    ]) ?? '',
    /no area|overlap/,
  );
  assert.match(
    polygonDefect([
      [0, 0],
      [0, 0],
      [1, 1],
      [1, 0],
    ]) ?? '',
    /same/,
  );
  // A spike folding back along its own edge.
  assert.match(
    polygonDefect([
      [0, 0],
      [1, 0],
      [0.5, 0],
      [0.5, 1],
    ]) ?? '',
    /overlap|intersects/,
  );
  assert.equal(polygonDefect(square as [number, number][]), null);
  // A concave (L-shaped) polygon is simple.
  assert.equal(
    polygonDefect([
      [0, 0],
      [1, 0],
      [1, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [0, 1],
    ]),
    null,
  );
  assert.deepEqual(pathsOf({ zones: [{ id: 'z', polygon: bowTie }] }), ['zones.0.polygon']);
});

test('rules naming unknown or missing zones and lines are refused with the field path', () => {
  const paths = pathsOf({
    zones: [{ id: 'door', polygon: square }],
    lines: [{ id: 'l', a: [0, 0.5], b: [1, 0.5] }],
    rules: [
      { id: 'a', kind: 'zone_enter', zone: 'nope' },
      { id: 'b', kind: 'zone_exit' },
      { id: 'c', kind: 'line_cross', line: 'missing' },
      { id: 'd', kind: 'line_cross' },
      { id: 'e', kind: 'dwell', zone: 'door', line: 'l', params: { seconds: 1 } },
    ],
  });
  assert.deepEqual(paths.sort(), [
    'rules.0.zone',
    'rules.1.zone',
    'rules.2.line',
    'rules.3.line',
    'rules.4.line',
  ]);
});

test('an unknown rule kind is refused with its path', () => {
  assert.deepEqual(pathsOf({ rules: [{ id: 'a', kind: 'teleport' }] }), ['rules.0.kind']);
});

test('kind-specific params are checked with their path', () => {
  const paths = pathsOf({
    zones: [{ id: 'z', polygon: square }],
    lines: [{ id: 'l', a: [0, 0.5], b: [1, 0.5] }],
    rules: [
      { id: 'a', kind: 'dwell', zone: 'z', params: { seconds: 0 } },
      { id: 'b', kind: 'dwell', zone: 'z' },
      { id: 'c', kind: 'occupancy', zone: 'z', params: { op: 'gt', seconds: 1 } },
      { id: 'd', kind: 'line_cross', line: 'l', params: { direction: 'up', speed: 3 } },
      { id: 'e', kind: 'absence', zone: 'z', params: { seconds: -1 } },
    ],
  });
  assert.deepEqual(paths.sort(), [
    'rules.0.params.seconds',
    'rules.1.params.seconds',
    'rules.2.params.count',
    'rules.2.params.op',
    'rules.3.params.direction',
    'rules.3.params.speed',
    'rules.4.params.seconds',
  ]);
});

test('duplicate ids and zero-length lines are refused', () => {
  const paths = pathsOf({
    zones: [
      { id: 'z', polygon: square },
      { id: 'z', polygon: square },
    ],
    lines: [{ id: 'l', a: [0.5, 0.5], b: [0.5, 0.5] }],
    rules: [
      { id: 'r', kind: 'zone_enter', zone: 'z' },
      { id: 'r', kind: 'zone_exit', zone: 'z' },
    ],
  });
  assert.deepEqual(paths.sort(), ['lines.0.b', 'rules.1.id', 'zones.1.id']);
});

test('the rules part of a pipeline has the same checks', () => {
  const r = pipelineRulesSchema.safeParse({ rules: [{ id: 'a', kind: 'absence', zone: 'x' }] });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues.map((i) => i.path.join('.')).sort(), [
    'rules.0.params.seconds',
    'rules.0.zone',
  ]);
});

test('field errors and cross-field errors are reported together', () => {
  const paths = pathsOf({
    scoreThreshold: 2,
    zones: [
      {
        id: 'z',
        polygon: [
          [0, 0],
          [1, 1],
          [1, 0],
          [0, 1],
        ],
      },
    ],
    rules: [
      { id: 'a', kind: 'teleport' },
      { id: 'b', kind: 'zone_enter', zone: 'nowhere' },
      { id: 'c', kind: 'dwell', zone: 'z', params: { seconds: { x: 1 } } },
    ],
  });
  assert.deepEqual(paths.sort(), [
    'rules.0.kind',
    'rules.1.zone',
    'rules.2.params.seconds',
    'scoreThreshold',
    'zones.0.polygon',
  ]);
});
