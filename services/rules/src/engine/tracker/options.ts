export interface TrackerOptions {
  /** Detections at or above this score take part in the first association pass. */
  highScore: number;
  /** Detections in [lowScore, highScore) only extend tracks in the second pass (ByteTrack). */
  lowScore: number;
  /** Unmatched detections at or above this score start a new track. */
  newTrackScore: number;
  /** Minimum IoU for a first-pass (high score) match. */
  matchIou: number;
  /** Minimum IoU for a second-pass (low score) match: stricter, low scores are often clutter. */
  lowMatchIou: number;
  /** Processed frames a lost track is kept for, so its id survives a short occlusion. */
  trackBufferFrames: number;
  /** Also drop a lost track after this long (capture time); 0 turns the time limit off. */
  trackBufferMs: number;
  /** Longest stretch a constant-velocity prediction is extrapolated over. */
  maxPredictMs: number;
  /** Weight of the newest observed velocity against the running estimate (0–1). */
  velocityGain: number;
  /** Only match detections of the track's class (ByteTrack per class). */
  classAware: boolean;
}

export const defaultTrackerOptions: TrackerOptions = {
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.5,
  matchIou: 0.2,
  lowMatchIou: 0.5,
  trackBufferFrames: 30,
  trackBufferMs: 0,
  maxPredictMs: 1000,
  velocityGain: 0.5,
  classAware: true,
};
