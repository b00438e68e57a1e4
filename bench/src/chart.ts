/**
 * Line charts as a plain SVG document (no dependency): the pipeline's fps and latency against N,
 * and the soak's latency and memory over time. Each panel has its own axes and legend.
 */

export interface Series {
  name: string;
  points: [number, number][];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A logarithmic x axis (stream counts 1, 2, 4, 8, 16). */
  logX?: boolean;
}

const W = 460;
const H = 300;
const M = { left: 56, right: 16, top: 34, bottom: 76 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

const esc = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

const label = (v: number): string =>
  Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : Number(v.toPrecision(3)).toString();

function panelSvg(p: Panel, ox: number, oy: number): string {
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => isFinite(x) && isFinite(y));
  const fx = (x: number): number => (p.logX ? Math.log2(Math.max(x, 1e-9)) : x);
  const xs = pts.map(([x]) => fx(x));
  const ys = pts.map(([, y]) => y);
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 === x0) x1 = x0 + 1;
  const y0 = 0;
  let y1 = ys.length ? Math.max(...ys) * 1.1 : 1;
  if (!(y1 > y0)) y1 = 1;
  if (p.logX) {
    x0 = Math.floor(x0);
    x1 = Math.ceil(x1);
  }
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const sx = (x: number): number => ox + M.left + ((fx(x) - x0) / (x1 - x0)) * iw;
  const sy = (y: number): number => oy + M.top + ih - ((y - y0) / (y1 - y0)) * ih;
  const parts: string[] = [];
  parts.push(
    `<text x="${ox + W / 2}" y="${oy + 20}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`,
  );
  const yt = ticks(y0, y1);
  for (const t of yt) {
    parts.push(
      `<line x1="${ox + M.left}" x2="${ox + W - M.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`,
      `<text x="${ox + M.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${label(t)}</text>`,
    );
  }
  const xt = p.logX ? Array.from({ length: x1 - x0 + 1 }, (_, i) => 2 ** (x0 + i)) : ticks(x0, x1);
  for (const t of xt) {
    parts.push(
      `<text x="${sx(t)}" y="${oy + M.top + ih + 16}" text-anchor="middle" font-size="11">${label(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${ox + M.left}" y="${oy + M.top}" width="${iw}" height="${ih}" fill="none" stroke="#888"/>`,
    `<text x="${ox + M.left + iw / 2}" y="${oy + M.top + ih + 32}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`,
    `<text transform="translate(${ox + 14},${oy + M.top + ih / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const ok = s.points.filter(([x, y]) => isFinite(x) && isFinite(y));
    if (ok.length > 0) {
      const d = ok.map(
        ([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`,
      );
      parts.push(`<path d="${d.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
      if (ok.length <= 20) {
        for (const [x, y] of ok) {
          parts.push(
            `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`,
          );
        }
      }
    }
    const lx = ox + M.left + (i % 3) * 130;
    const ly = oy + M.top + ih + 52 + Math.floor(i / 3) * 14;
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`,
      `<text x="${lx + 14}" y="${ly}" font-size="11">${esc(s.name)}</text>`,
    );
  });
  return parts.join('\n');
}

/** Panels laid out two per row, with a heading above them. */
export function chartSvg(heading: string, panels: Panel[]): string {
  const cols = Math.min(2, Math.max(1, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const width = cols * W;
  const height = rows * H + 30;
  const body = panels.map((p, i) => panelSvg(p, (i % cols) * W, 30 + Math.floor(i / cols) * H));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${esc(heading)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
