// Inline SVG sparklines of a run's live figures.

import { s, setAttr, setText } from './dom.js';

/** Samples kept per run and figure (one a second: the last minute). */
export const SAMPLES = 60;

/** Appends `value` to `series`, keeping the last SAMPLES. */
export function pushSample(series, value) {
  series.push(value);
  if (series.length > SAMPLES) series.splice(0, series.length - SAMPLES);
}

/**
 * The `points` of a polyline for `values` in a `width`×`height` box: one slot per sample (the
 * newest at the right edge), y from 0 at the bottom to `max` at the top.
 */
export function sparklinePoints(values, width, height, max) {
  if (values.length === 0) return '';
  const top = max > 0 ? max : 1;
  const step = width / (SAMPLES - 1);
  const x0 = width - step * (values.length - 1);
  return values
    .map((v, i) => {
      const x = x0 + step * i;
      const y = height - (Math.max(0, v) / top) * (height - 2) - 1;
      return `${round(x)},${round(y)}`;
    })
    .join(' ');
}

const round = (x) => Math.round(x * 10) / 10;

const W = 240;
const H = 48;

/**
 * A sparkline of several series sharing one scale: an <svg> with one polyline per series and a
 * legend with the latest values. `update(seriesValues)` redraws it.
 */
export function createSparkline(title, series) {
  const lines = series.map((def) =>
    s('polyline', { class: `spark-line ${def.className}`, fill: 'none', points: '' }),
  );
  const svg = s(
    'svg',
    {
      class: 'spark',
      viewBox: `0 0 ${W} ${H}`,
      width: W,
      height: H,
      role: 'img',
      'aria-label': title,
      preserveAspectRatio: 'none',
    },
    s('line', { class: 'spark-base', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }),
    ...lines,
  );
  const legend = series.map((def) => {
    const value = document.createElement('span');
    value.className = `spark-value ${def.className}`;
    return { def, value };
  });
  return {
    svg,
    legend,
    update(valuesPerSeries) {
      const max = Math.max(0, ...valuesPerSeries.flat()) * 1.1;
      valuesPerSeries.forEach((values, i) => {
        setAttr(lines[i], 'points', sparklinePoints(values, W, H, max));
        const last = values[values.length - 1];
        const def = series[i];
        setText(
          legend[i].value,
          last === undefined ? `${def.label} –` : `${def.label} ${last}${def.unit}`,
        );
      });
      const summary = legend.map((l) => l.value.textContent).join(', ');
      setAttr(svg, 'aria-label', `${title}: ${summary || 'no samples yet'}`);
    },
  };
}
