import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartSvg } from './chart.js';
import { histogramDistribution } from './histogram.js';
import { parsePrometheus } from './prometheus.js';
import { summarizeSoak, type SoakSample } from './soak.js';

const page = (counts: [string, number][], sum: number): string =>
  counts.map(([le, c]) => `lat_bucket{run="a",le="${le}"} ${c}`).join('\n') +
  `\nlat_sum{run="a"} ${sum}\nlat_count{run="a"} ${counts.at(-1)?.[1] ?? 0}\n` +
  // Another run's series must not count.
  'lat_bucket{run="b",le="+Inf"} 999\nlat_count{run="b"} 999\n';

test('percentiles come from what a histogram observed between two scrapes', () => {
  const a = parsePrometheus(
    page(
      [
        ['10', 5],
        ['100', 5],
        ['1000', 5],
        ['+Inf', 5],
      ],
      25,
    ),
  );
  // 100 new observations: 50 in (0,10], 40 in (10,100], 10 in (100,1000].
  const b = parsePrometheus(
    page(
      [
        ['10', 55],
        ['100', 95],
        ['1000', 105],
        ['+Inf', 105],
      ],
      3025,
    ),
  );
  const d = histogramDistribution(a, b, 'lat', (l) => l['run'] === 'a');
  assert.equal(d.samples, 100);
  assert.equal(d.mean, 30);
  assert.equal(d.p50, 10);
  assert.ok(Math.abs(d.p90 - 100) < 1e-9);
  assert.ok(Math.abs(d.p99 - 910) < 1e-9, `p99 ${d.p99}`);
  assert.equal(d.max, 1000);
  assert.ok(Number.isNaN(histogramDistribution(a, a, 'lat', (l) => l['run'] === 'a').p50));
});

test('the soak summary compares the first and last thirds and the first and last minutes', () => {
  const samples: SoakSample[] = Array.from({ length: 18 }, (_, i) => ({
    tS: (i + 1) * 10,
    fps: 10,
    e2eP50Ms: i < 6 ? 100 : 150,
    e2eP99Ms: 300,
    detP50Ms: 50,
    detP99Ms: 90,
    rssMB: i < 6 ? 500 : 520,
    rssByProcessMB: {},
    crashes: i === 17 ? 1 : 0,
  }));
  const s = summarizeSoak(samples);
  assert.equal(s.firstThirdP50Ms, 100);
  assert.equal(s.lastThirdP50Ms, 150);
  assert.ok(Math.abs(s.rssGrowth - 0.04) < 1e-9);
  assert.equal(s.crashes, 1);
});

test('the chart is an SVG document with a path per series and the values on its axes', () => {
  const svg = chartSvg('bench <smoke>', [
    {
      title: 'fps',
      xLabel: 'N',
      yLabel: 'fps',
      logX: true,
      series: [
        {
          name: 'aggregate',
          points: [
            [1, 10],
            [2, 19],
            [4, 35],
          ],
        },
        {
          name: 'per stream',
          points: [
            [1, 10],
            [2, 9.5],
            [4, Number.NaN],
          ],
        },
      ],
    },
  ]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.match(svg, /bench &lt;smoke&gt;/);
  assert.match(svg, />aggregate</);
  assert.doesNotMatch(svg, /NaN/);
});
