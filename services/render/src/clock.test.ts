import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FramePacer, nextRepeatAtMs } from './clock.js';

/**
 * The clock as RenderRun drives it, fed a frame every `spacing` ms with detection latency that
 * varies by up to `jitterMs`: returns the longest a ready frame waited, the repeats (frames
 * encoded twice), the shortest spacing of two outputs and the new frames that went out.
 */
function simulate(period: number, spacing: number, jitterMs: number) {
  const pacer = new FramePacer(0);
  let last = 0;
  let worst = 0;
  let repeats = 0;
  let minGap = Infinity;
  let sent = 0;
  let pending: number | null = null; // ready time of the frame waiting to go out
  let end = 0;
  for (let i = 1; i <= 300; i++) {
    const ready = i * spacing + ((i * 37) % (jitterMs + 1));
    end = ready;
    // What happened before this frame was ready: the waiting frame went out, or repeats.
    for (;;) {
      const out = pending === null ? Infinity : pending + pacer.delayMs(pending, last, period);
      const repeat = nextRepeatAtMs(last, period, true);
      const next = Math.min(out, repeat);
      if (next > ready) break;
      minGap = Math.min(minGap, next - last);
      if (out <= repeat && pending !== null) {
        worst = Math.max(worst, out - pending);
        pacer.took(out, period);
        sent++;
        pending = null;
      } else {
        repeats++;
      }
      last = next;
    }
    pending = ready; // latest frame wins over one still waiting
  }
  return { worst, repeats, minGap, sent, fps: (sent * 1000) / end };
}

test('frames with jittered latency at the nominal rate go out when ready, none twice', () => {
  for (const jitter of [0, 20, 40, 50]) {
    const r = simulate(100, 100, jitter);
    assert.equal(r.worst, 0, `jitter ${jitter} ms: a ready frame waited ${r.worst} ms`);
    assert.equal(r.repeats, 0, `jitter ${jitter} ms: ${r.repeats} frames encoded twice`);
    assert.ok(r.minGap >= 50, `jitter ${jitter} ms: two frames ${r.minGap} ms apart`);
  }
  // Latency that varies by more than half a period brings two frames closer than that: the
  // second waits for the spacing, never longer.
  const wide = simulate(100, 100, 90);
  assert.ok(wide.worst > 0 && wide.worst <= 50, `waited ${wide.worst} ms`);
  assert.ok(wide.minGap >= 50);
});

test('a source faster than the nominal rate is thinned to it; a slower one gets no repeats', () => {
  const fast = simulate(100, 59, 20);
  assert.ok(fast.fps <= 11.2, `${fast.fps.toFixed(2)} fps out of a 17 fps source at 10 fps`);
  assert.ok(fast.fps >= 10, `only ${fast.fps.toFixed(2)} fps out`);
  // A source a little faster than its estimated rate still goes out frame by frame when ready.
  const drifting = simulate(100, 97, 30);
  assert.equal(drifting.worst, 0, `a frame 3 % ahead of the estimate waited ${drifting.worst} ms`);
  const slow = simulate(100, 130, 20);
  assert.equal(slow.worst, 0);
  assert.equal(slow.repeats, 0);
});

test('a burst is spaced by half a period; a quiet source gets repeats at the nominal rate', () => {
  const pacer = new FramePacer(0);
  assert.equal(pacer.delayMs(1000, 990, 100), 40);
  assert.equal(pacer.delayMs(1050, 990, 100), 0);
  assert.equal(nextRepeatAtMs(1000, 100, false), 1100);
  assert.equal(nextRepeatAtMs(1000, 100, true), 1150);
});
