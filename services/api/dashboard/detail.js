// The selected run: facts, the live annotated preview (the render service's MJPEG stream in an
// <img>), fps and latency sparklines, and its rule events (SSE, newest first).

import { byId, clock, h, setAttr, setText } from './dom.js';
import { createSparkline } from './sparkline.js';
import { followSse } from './sse.js';

/** States in which render may be drawing the run. */
const PREVIEW_STATES = new Set(['in_startup_processing', 'active']);
/** Events kept in the feed. */
const MAX_EVENTS = 100;
/** How far back the feed replays when a run is selected. */
const REPLAY_MS = 10 * 60_000;

export function createDetail() {
  const section = byId('detail');
  const img = byId('preview');
  const note = byId('preview-note');
  const feed = byId('events');
  const feedEmpty = byId('events-empty');
  const feedState = byId('events-state');
  const facts = byId('detail-facts');

  const fps = createSparkline('Frames per second', [
    { label: 'in', unit: '', className: 's1' },
    { label: 'out', unit: '', className: 's2' },
  ]);
  const latency = createSparkline('Latency in ms', [
    { label: 'p50', unit: ' ms', className: 's2' },
    { label: 'p99', unit: ' ms', className: 's3' },
  ]);
  for (const [id, chart] of [
    ['chart-fps', fps],
    ['chart-latency', latency],
  ]) {
    const fig = byId(id);
    fig.prepend(chart.svg);
    fig.append(h('div', { class: 'legend' }, ...chart.legend.map((l) => l.value)));
  }

  let runId;
  let stopEvents;
  let previewWanted = '';
  let retryTimer;
  let lastRun;

  img.addEventListener('load', () => {
    setText(note, '');
    img.dataset.live = 'true';
  });
  img.addEventListener('error', () => {
    delete img.dataset.live;
    if (!previewWanted) return;
    setText(note, 'Preview not available yet (render has no frames for this run); retrying…');
    clearTimeout(retryTimer);
    const wanted = previewWanted;
    retryTimer = setTimeout(() => {
      if (previewWanted === wanted) img.src = `${wanted}?t=${Date.now()}`;
    }, 2000);
  });

  function setPreview(run) {
    const url =
      run.output.previewUrl && PREVIEW_STATES.has(run.status) ? run.output.previewUrl : '';
    if (!url) {
      // Says why in the run's current state (it keeps changing while the run shuts down).
      setText(
        note,
        run.output.previewUrl
          ? `No preview: the run is ${run.status}.`
          : 'No preview: the API has no dashboard.previewBaseUrl.',
      );
    }
    if (url === previewWanted) return;
    previewWanted = url;
    clearTimeout(retryTimer);
    delete img.dataset.live;
    if (url) {
      setText(note, 'Connecting to the preview…');
      img.alt = `Live annotated preview of run ${run.id}`;
      img.src = url;
    } else {
      // Dropping the source closes the MJPEG connection, so render stops encoding for us.
      img.removeAttribute('src');
      img.alt = '';
    }
  }

  function setFacts(run, pipeline) {
    const rows = [
      ['State', run.status + (run.desiredState === 'stopped' ? ' (stop requested)' : '')],
      [
        'Pipeline',
        pipeline ? `${pipeline.name} (${run.pipelineId} v${run.pipelineVersion})` : run.pipelineId,
      ],
      ['Source', run.source.url + (run.source.loop ? ' (looped)' : '')],
      ['Output', run.output.rtspUrl],
      ['Node', run.nodeId ?? '–'],
      ['Restarts', String(run.restarts)],
    ];
    if (run.reason) rows.push(['Reason', `${run.reason.code}: ${run.reason.message}`]);
    const key = JSON.stringify(rows);
    if (facts.dataset.key === key) return;
    facts.dataset.key = key;
    facts.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  function addEvent(ev) {
    let e;
    try {
      e = JSON.parse(ev.data);
    } catch {
      return;
    }
    const objects = (e.objects ?? [])
      .map((o) => `${o.label}${o.trackId ? ` #${o.trackId}` : ''}`)
      .join(', ');
    const li = h(
      'li',
      { 'data-event-id': e.id, 'data-kind': e.kind },
      h('time', { datetime: new Date(e.captureTimeMs).toISOString() }, clock(e.captureTimeMs)),
      ' ',
      h('span', { class: 'kind' }, e.kind),
      ' ',
      h('span', { class: 'rule' }, e.ruleId),
      e.message ? ` — ${e.message}` : '',
      objects ? h('span', { class: 'muted' }, ` (${objects})`) : '',
    );
    feed.prepend(li);
    while (feed.childElementCount > MAX_EVENTS) feed.lastElementChild.remove();
    feedEmpty.hidden = true;
  }

  function openEvents(run) {
    stopEvents?.();
    feed.replaceChildren();
    feedEmpty.hidden = false;
    const since = new Date(Math.max(Date.parse(run.createdAt), Date.now() - REPLAY_MS));
    const url = `/v1/runs/${encodeURIComponent(run.id)}/events?since=${encodeURIComponent(since.toISOString())}`;
    setText(feedState, 'connecting…');
    stopEvents = followSse(url, {
      onEvent: (ev) => {
        if (ev.event === 'event') addEvent(ev);
      },
      onState: (state, detail) =>
        setText(feedState, state === 'open' ? 'live' : `reconnecting (${detail})`),
    });
  }

  return {
    get runId() {
      return runId;
    },
    /** Shows `run` (or hides the panel when undefined) with its sample history. */
    show(run, pipeline, history) {
      if (!run) {
        this.clear();
        return;
      }
      section.hidden = false;
      if (run.id !== runId) {
        runId = run.id;
        setText(byId('detail-id'), run.id);
        previewWanted = '\u0000';
        openEvents(run);
      }
      lastRun = run;
      setFacts(run, pipeline);
      setPreview(run);
      fps.update([history.fpsIn, history.fpsOut]);
      latency.update([history.p50, history.p99]);
      setAttr(section, 'data-status', lastRun.status);
    },
    clear() {
      stopEvents?.();
      stopEvents = undefined;
      runId = undefined;
      lastRun = undefined;
      previewWanted = '';
      clearTimeout(retryTimer);
      img.removeAttribute('src');
      section.hidden = true;
    },
  };
}
