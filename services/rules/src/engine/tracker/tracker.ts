import type { Detection } from '@sie/contracts';
import { iou } from './iou.js';
import type { Rect } from './iou.js';
import { greedyMatch } from './match.js';
import type { Pair } from './match.js';
import { defaultTrackerOptions } from './options.js';
import type { TrackerOptions } from './options.js';

/** One track; plain data so it serializes into a snapshot as is. */
export interface Track {
  id: number;
  classId: number;
  /** Last observed box (pixels). */
  box: Rect;
  /** Velocity of the box (pixels per millisecond), for the constant-velocity prediction. */
  vx: number;
  vy: number;
  lastTimeMs: number;
  /** Processed frames since the track was last matched; 0 while tracked. */
  missed: number;
  hits: number;
  last: Detection;
}

export interface TrackerSnapshot {
  nextId: number;
  tracks: Track[];
}

export interface TrackerResult {
  /** Input detections in input order with `trackId` set (0 when no track took them). */
  tracked: Detection[];
  /** Tracks matched or born in this frame, ascending by id. */
  visible: { trackId: number; det: Detection }[];
  /** Tracks dropped in this frame (lost longer than the buffer), with their last detection. */
  removed: { trackId: number; last: Detection }[];
}

function rectOf(d: Detection): Rect | null {
  const b = d.box;
  if (!b || !(b.x2 > b.x1) || !(b.y2 > b.y1)) return null;
  return [b.x1, b.y1, b.x2, b.y2];
}

/**
 * ByteTrack-style tracker: high-score detections are matched by IoU against every live track
 * (tracked or lost) first, then low-score detections against the tracks still unmatched that
 * were tracked in the previous frame, which keeps ids through partial occlusions where the
 * detector's confidence drops. Only unmatched high-score detections start tracks; a lost track is
 * kept for `trackBufferFrames` so it can be found again. No Kalman filter: a smoothed
 * constant-velocity prediction is enough to keep two crossing objects apart.
 */
export class Tracker {
  private readonly opts: TrackerOptions;
  private nextId = 1;
  private tracks: Track[] = [];

  constructor(options: Partial<TrackerOptions> = {}, snapshot?: TrackerSnapshot) {
    this.opts = { ...defaultTrackerOptions, ...options };
    if (snapshot) {
      this.nextId = snapshot.nextId;
      this.tracks = snapshot.tracks.map((t) => ({ ...t, box: [...t.box] as Rect }));
    }
  }

  snapshot(): TrackerSnapshot {
    return { nextId: this.nextId, tracks: this.tracks.map((t) => ({ ...t, box: [...t.box] })) };
  }

  private predict(t: Track, timeMs: number): Rect {
    const dt = Math.min(Math.max(0, timeMs - t.lastTimeMs), this.opts.maxPredictMs);
    const dx = t.vx * dt;
    const dy = t.vy * dt;
    return [t.box[0] + dx, t.box[1] + dy, t.box[2] + dx, t.box[3] + dy];
  }

  private candidates(
    trackIdx: number[],
    predicted: Rect[],
    detIdx: number[],
    rects: (Rect | null)[],
    dets: Detection[],
    minIou: number,
  ): Pair[] {
    const out: Pair[] = [];
    for (const ti of trackIdx) {
      const track = this.tracks[ti]!;
      for (const di of detIdx) {
        if (this.opts.classAware && dets[di]!.classId !== track.classId) continue;
        const score = iou(predicted[ti]!, rects[di]!);
        if (score >= minIou) out.push({ track: ti, det: di, score });
      }
    }
    return out;
  }

  update(detections: Detection[], timeMs: number): TrackerResult {
    const o = this.opts;
    const rects = detections.map(rectOf);
    const high: number[] = [];
    const low: number[] = [];
    detections.forEach((d, i) => {
      if (!rects[i]) return;
      if (d.score >= o.highScore) high.push(i);
      else if (d.score >= o.lowScore) low.push(i);
    });
    const predicted = this.tracks.map((t) => this.predict(t, timeMs));
    const all = this.tracks.map((_, i) => i);
    const first = greedyMatch(this.candidates(all, predicted, high, rects, detections, o.matchIou));
    const matchedTracks = new Set(first.map((p) => p.track));
    // Second pass: only tracks that were tracked last frame, as in ByteTrack.
    const remaining = all.filter((i) => !matchedTracks.has(i) && this.tracks[i]!.missed === 0);
    const second = greedyMatch(
      this.candidates(remaining, predicted, low, rects, detections, o.lowMatchIou),
    );
    const assigned = new Map<number, number>(); // detection index → track id
    for (const p of [...first, ...second]) {
      matchedTracks.add(p.track);
      const track = this.tracks[p.track]!;
      this.observe(track, rects[p.det]!, detections[p.det]!, timeMs);
      assigned.set(p.det, track.id);
    }
    for (const di of high) {
      if (assigned.has(di) || detections[di]!.score < o.newTrackScore) continue;
      const d = detections[di]!;
      const track: Track = {
        id: this.nextId++,
        classId: d.classId,
        box: rects[di]!,
        vx: 0,
        vy: 0,
        lastTimeMs: timeMs,
        missed: 0,
        hits: 1,
        last: { ...d, trackId: 0 },
      };
      track.last.trackId = track.id;
      this.tracks.push(track);
      assigned.set(di, track.id);
    }
    const removed: TrackerResult['removed'] = [];
    this.tracks = this.tracks.filter((t, i) => {
      if (i < predicted.length && !matchedTracks.has(i)) t.missed += 1;
      const expired =
        t.missed > o.trackBufferFrames ||
        (o.trackBufferMs > 0 && t.missed > 0 && timeMs - t.lastTimeMs > o.trackBufferMs);
      if (expired) removed.push({ trackId: t.id, last: t.last });
      return !expired;
    });
    const tracked = detections.map((d, i) => ({ ...d, trackId: assigned.get(i) ?? 0 }));
    const visible = tracked
      .filter((d) => d.trackId > 0)
      .map((det) => ({ trackId: det.trackId, det }))
      .sort((a, b) => a.trackId - b.trackId);
    removed.sort((a, b) => a.trackId - b.trackId);
    return { tracked, visible, removed };
  }

  private observe(t: Track, box: Rect, d: Detection, timeMs: number): void {
    const dt = timeMs - t.lastTimeMs;
    if (dt > 0) {
      const ox = ((box[0] + box[2]) / 2 - (t.box[0] + t.box[2]) / 2) / dt;
      const oy = ((box[1] + box[3]) / 2 - (t.box[1] + t.box[3]) / 2) / dt;
      const g = t.hits > 1 ? this.opts.velocityGain : 1;
      t.vx = g * ox + (1 - g) * t.vx;
      t.vy = g * oy + (1 - g) * t.vy;
    }
    t.box = box;
    t.lastTimeMs = timeMs;
    t.missed = 0;
    t.hits += 1;
    t.last = { ...d, trackId: t.id };
  }
}
