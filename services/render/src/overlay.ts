import type { Color, Shape } from '@sie/contracts';
import {
  drawLabel,
  drawPolyline,
  drawText,
  fillRect,
  strokeRect,
  textHeight,
  textWidth,
  type Raster,
  type Rgb,
} from './draw.js';

/** How shapes are drawn (config defaults, overridable per run by the pipeline's `style`). */
export interface DrawStyle {
  /** Box outline thickness in pixels; a highlighted box gets two more. */
  boxThickness: number;
  /** Polygon and line thickness in pixels. */
  lineThickness: number;
  /** Integer glyph scale of labels (1 = 16 px high). */
  fontScale: number;
}

export const DEFAULT_STYLE: DrawStyle = { boxThickness: 2, lineThickness: 2, fontScale: 1 };

// A distinct colour per class when the overlay names none (a fixed, readable palette).
const PALETTE: readonly Rgb[] = [
  { r: 255, g: 56, b: 56 },
  { r: 255, g: 157, b: 151 },
  { r: 255, g: 112, b: 31 },
  { r: 255, g: 178, b: 29 },
  { r: 207, g: 210, b: 49 },
  { r: 72, g: 249, b: 10 },
  { r: 146, g: 204, b: 23 },
  { r: 61, g: 219, b: 134 },
  { r: 26, g: 147, b: 52 },
  { r: 0, g: 212, b: 187 },
  { r: 44, g: 153, b: 168 },
  { r: 0, g: 194, b: 255 },
  { r: 52, g: 69, b: 147 },
  { r: 100, g: 115, b: 255 },
  { r: 0, g: 24, b: 236 },
  { r: 132, g: 56, b: 255 },
  { r: 82, g: 0, b: 133 },
  { r: 203, g: 56, b: 255 },
  { r: 255, g: 149, b: 200 },
  { r: 255, g: 55, b: 199 },
];

/** The palette colour of a label's class (its first word), stable across frames and runs. */
export function classColor(label: string): Rgb {
  const cls = label.split(/[\s:#]/, 1)[0] ?? '';
  let h = 2166136261;
  for (let i = 0; i < cls.length; i++) h = Math.imul(h ^ cls.charCodeAt(i), 16777619);
  return PALETTE[(h >>> 0) % PALETTE.length]!;
}

function colorOf(c: Color | undefined, label: string): Rgb {
  if (!c) return classColor(label);
  return { r: clamp8(c.r), g: clamp8(c.g), b: clamp8(c.b) };
}

const clamp8 = (n: number): number => Math.min(255, Math.max(0, Math.round(n)));

/**
 * Draws an overlay's shapes into `img`. Boxes are in pixels of the frame the overlay was made for
 * (`frameWidth × frameHeight`) and are scaled to the image; polygon points are normalized 0-1.
 * Zones and lines go first so boxes and their labels stay on top, highlighted boxes last of all.
 */
export function drawShapes(
  img: Raster,
  shapes: readonly Shape[],
  style: DrawStyle,
  frameWidth = img.width,
  frameHeight = img.height,
): void {
  const sx = frameWidth > 0 ? img.width / frameWidth : 1;
  const sy = frameHeight > 0 ? img.height / frameHeight : 1;
  for (const s of shapes) {
    if (s.shape?.$case !== 'polygon') continue;
    const p = s.shape.polygon;
    const color = colorOf(p.color, p.label);
    const pts = p.points.map((q) => ({ x: q.x * img.width, y: q.y * img.height }));
    drawPolyline(img, pts, p.closed, style.lineThickness, color);
    const first = pts[0];
    if (first && p.label) drawLabel(img, first.x, first.y, p.label, color, style.fontScale);
  }
  // Highlighted boxes (an event's objects) last: a neighbour's label never covers them.
  for (const highlighted of [false, true]) {
    for (const s of shapes) {
      if (s.shape?.$case !== 'box') continue;
      const b = s.shape.box;
      if (!b.box || b.highlight !== highlighted) continue;
      const color = colorOf(b.color, b.label);
      const t = style.boxThickness + (b.highlight ? 2 : 0);
      const x1 = b.box.x1 * sx;
      const y1 = b.box.y1 * sy;
      strokeRect(img, x1, y1, b.box.x2 * sx, b.box.y2 * sy, t, color);
      if (b.label) drawLabel(img, x1, y1, b.label, color, style.fontScale);
    }
  }
}

const SLATE_BG: Rgb = { r: 24, g: 24, b: 28 };
const SLATE_FG: Rgb = { r: 230, g: 230, b: 230 };

/** The "source reconnecting" slate: a dark frame with centred text (drawn once per run). */
export function makeSlate(width: number, height: number, lines: readonly string[]): Raster {
  const img: Raster = { data: Buffer.alloc(width * height * 3), width, height };
  fillRect(img, 0, 0, width, height, SLATE_BG);
  const scale = Math.max(1, Math.min(3, Math.floor(width / 400)));
  const lineH = textHeight(scale) + 8 * scale;
  let y = Math.round(height / 2 - (lines.length * lineH) / 2);
  lines.forEach((line, i) => {
    const s = i === 0 ? scale : Math.max(1, scale - 1);
    drawText(img, Math.round((width - textWidth(line, s)) / 2), y, line, SLATE_FG, s);
    y += lineH;
  });
  return img;
}

/** The slate's background colour (tests recognise slate frames by it). */
export const SLATE_BACKGROUND: Readonly<Rgb> = SLATE_BG;
