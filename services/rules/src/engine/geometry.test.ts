import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pointInPolygon, referencePoint, segmentsIntersect, signedDistance } from './geometry.js';
import { square } from './testing.js';

test('the reference point is the bottom-centre of the box, normalized', () => {
  assert.deepEqual(referencePoint({ x1: 100, y1: 50, x2: 300, y2: 450 }, 1000, 500), [0.2, 0.9]);
});

test('point in polygon, including a concave one', () => {
  assert.equal(pointInPolygon([0.5, 0.5], square), true);
  assert.equal(pointInPolygon([0.7, 0.5], square), false);
  const l: [number, number][] = [
    [0, 0],
    [1, 0],
    [1, 0.5],
    [0.5, 0.5],
    [0.5, 1],
    [0, 1],
  ];
  assert.equal(pointInPolygon([0.25, 0.75], l), true);
  assert.equal(pointInPolygon([0.75, 0.75], l), false);
});

test('right of a→b on screen (y down) is positive: moving down across a left-to-right line is A→B', () => {
  const a: [number, number] = [0, 0.5];
  const b: [number, number] = [1, 0.5];
  assert.ok(signedDistance([0.5, 0.6], a, b) > 0);
  assert.ok(signedDistance([0.5, 0.4], a, b) < 0);
  assert.ok(Math.abs(signedDistance([0.5, 0.6], a, b) - 0.1) < 1e-12);
});

test('segments that touch intersect; parallel ones do not', () => {
  assert.equal(segmentsIntersect([0, 0], [1, 1], [0, 1], [1, 0]), true);
  assert.equal(segmentsIntersect([0, 0], [1, 0], [1, 0], [1, 1]), true);
  assert.equal(segmentsIntersect([0, 0], [1, 0], [0, 1], [1, 1]), false);
});
