import type { Color, Detection, FrameRef, Overlay, Shape } from '@sie/contracts';
import type { EngineOutput } from './engine/index.js';

/** How boxes are labelled (the pipeline's `style`; the render service owns the rest of it). */
export interface OverlayStyle {
  showLabels: boolean;
  showScores: boolean;
  showTrackIds: boolean;
}

export const DEFAULT_STYLE: OverlayStyle = {
  showLabels: true,
  showScores: true,
  showTrackIds: true,
};

const BOX: Color = { r: 0, g: 200, b: 0, a: 255 };
const HIGHLIGHT: Color = { r: 255, g: 40, b: 40, a: 255 };
const ZONE: Color = { r: 40, g: 120, b: 255, a: 160 };
const LINE: Color = { r: 255, g: 210, b: 0, a: 255 };

/** The style's label switches out of a rules JSON document; anything missing keeps its default. */
export function overlayStyleOf(rulesJson: string): OverlayStyle {
  try {
    const doc = JSON.parse(rulesJson) as { style?: Partial<Record<keyof OverlayStyle, unknown>> };
    const s = doc.style ?? {};
    const flag = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
    return {
      showLabels: flag(s.showLabels, DEFAULT_STYLE.showLabels),
      showScores: flag(s.showScores, DEFAULT_STYLE.showScores),
      showTrackIds: flag(s.showTrackIds, DEFAULT_STYLE.showTrackIds),
    };
  } catch {
    return DEFAULT_STYLE;
  }
}

export function boxLabel(d: Detection, style: OverlayStyle): string {
  const parts: string[] = [];
  if (style.showTrackIds && d.trackId > 0) parts.push(`#${d.trackId}`);
  if (style.showLabels) parts.push(d.label);
  if (style.showScores) parts.push(d.score.toFixed(2));
  return parts.join(' ');
}

/**
 * What to draw on one frame: every tracked box (pixels, as the detections carry them) with its
 * track id, label and score, highlighted when its track triggered an event on this frame; every
 * zone (closed polygon) and line (open polygon of two points) in normalized coordinates, labelled
 * with its live counts.
 */
export function buildOverlay(
  frame: FrameRef | undefined,
  out: EngineOutput,
  style: OverlayStyle,
): Overlay {
  const highlighted = new Set(out.highlightTrackIds);
  const shapes: Shape[] = [];
  for (const z of out.zones) {
    shapes.push({
      shape: {
        $case: 'polygon',
        polygon: {
          points: z.polygon.map(([x, y]) => ({ x, y })),
          label: `${z.id}: ${z.count}`,
          color: ZONE,
          closed: true,
        },
      },
    });
  }
  for (const l of out.lines) {
    shapes.push({
      shape: {
        $case: 'polygon',
        polygon: {
          points: [
            { x: l.a[0], y: l.a[1] },
            { x: l.b[0], y: l.b[1] },
          ],
          label: `${l.id}: ${l.countAB} A→B, ${l.countBA} B→A`,
          color: LINE,
          closed: false,
        },
      },
    });
  }
  for (const d of out.tracked) {
    const highlight = d.trackId > 0 && highlighted.has(d.trackId);
    shapes.push({
      shape: {
        $case: 'box',
        box: {
          box: d.box,
          label: boxLabel(d, style),
          color: highlight ? HIGHLIGHT : BOX,
          highlight,
        },
      },
    });
  }
  return { frame, shapes };
}
