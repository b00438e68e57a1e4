import type { FrameDetections } from '@sie/contracts';

/** The RTSP output path of the demo run (a second demo finds the first by it). */
export const DEMO_OUTPUT_PATH = 'demo';

/** The demo's pipeline: every COCO class at 0.3, the source's own rate and size. */
export const DEMO_PIPELINE = {
  name: 'demo',
  config: {
    scoreThreshold: 0.3,
    retry: { startupAttempts: 3, reconnectAttempts: 10, intervalMs: 2000 },
  },
};

/** `frame 12: person 0.87 [10,20,110,220], car 0.55 [...], … (+3 more)` */
export function formatFrame(message: FrameDetections, maxShown = 5): string {
  const seq = message.frame?.seq ?? 0;
  const shown = [...message.detections]
    .sort((a, b) => b.score - a.score)
    .slice(0, maxShown)
    .map((d) => {
      const b = d.box;
      const box = b ? ` [${[b.x1, b.y1, b.x2, b.y2].map((v) => Math.round(v)).join(',')}]` : '';
      return `${d.label || `class ${d.classId}`} ${d.score.toFixed(2)}${box}`;
    });
  const more = message.detections.length - shown.length;
  const list = shown.length > 0 ? shown.join(', ') : 'nothing detected';
  return `frame ${seq}: ${list}${more > 0 ? `, … (+${more} more)` : ''}`;
}
