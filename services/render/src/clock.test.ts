import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pullDelayMs } from './clock.js';

test('a frame ready after its tick may run goes now; one a little early waits only that little', () => {
  const period = 120;
  // Three ticks done from t=0 (the third brought forward): the fourth may run from t=360.
  assert.equal(pullDelayMs(400, 0, 3, period), 0);
  assert.equal(pullDelayMs(360, 0, 3, period), 0);
  assert.equal(pullDelayMs(350, 0, 3, period), 10);
  // Never more than one tick ahead: the wait is to the tick's predecessor's time, not to the
  // regular time of the tick itself (480), which is what a frame used to wait for.
  assert.ok(pullDelayMs(350, 0, 3, period) < period);
});

/**
 * The render clock as RenderRun drives it: a timer runs the tick after the last one at its regular
 * time; a frame that becomes ready pulls the next tick forward by `pullDelayMs`. Returns the
 * longest a frame waited between ready and handed to the encoder.
 */
function worstWait(period: number, phaseMs: number, jitterMs: number): number {
  let ticks = 0;
  let timerAt = period;
  let worst = 0;
  for (let i = 1; i <= 300; i++) {
    // Frame i is ready at the clock's phase plus detection latency that varies frame to frame.
    const ready = i * period + phaseMs + ((i * 37) % (jitterMs + 1));
    while (timerAt <= ready) {
      ticks++; // a regular tick, repeating the last frame
      timerAt = (ticks + 1) * period;
    }
    const handed = ready + pullDelayMs(ready, 0, ticks, period);
    ticks++;
    timerAt = (ticks + 1) * period;
    worst = Math.max(worst, handed - ready);
  }
  return worst;
}

test('frames whose arrival straddles the clock ticks wait at most their jitter, never a period', () => {
  const period = 120;
  for (let phase = -60; phase < 60; phase += 7) {
    const worst = worstWait(period, phase, 40);
    assert.ok(worst <= 40, `phase ${phase} ms: a frame waited ${worst} ms for the clock`);
  }
});
