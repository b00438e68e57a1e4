// The runs table: one row per run, kept by run id and updated in place every poll (rows are
// not rebuilt, so a button being clicked is never swapped out from under the pointer).

import { h, setAttr, setText } from './dom.js';

/** States in which a run can still be asked to stop. */
const ENDED = new Set(['inactive', 'failed']);

const fmt = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

export function createRunsTable(tbody, empty, { onSelect, onStop }) {
  const rows = new Map();

  function makeRow(id) {
    const cells = {
      id: h('td'),
      name: h('td', { class: 'name' }),
      pipeline: h('td', { class: 'pipeline' }),
      state: h('td'),
      reason: h('td', { class: 'reason' }),
      node: h('td'),
      fps: h('td', { class: 'num fps' }),
      latency: h('td', { class: 'num latency' }),
      drops: h('td', { class: 'num drops' }),
      actions: h('td'),
    };
    // Ids are long (run_ + 32 hex digits): the start tells runs apart, the label has it all.
    const select = h(
      'button',
      { type: 'button', class: 'link select', 'aria-label': `Show run ${id}`, title: id },
      id.length > 14 ? `${id.slice(0, 12)}…` : id,
    );
    select.addEventListener('click', () => onSelect(id));
    cells.id.append(select);
    const badge = h('span', { class: 'state' });
    cells.state.append(badge);
    const stop = h(
      'button',
      { type: 'button', class: 'stop', 'aria-label': `Stop run ${id}` },
      'Stop',
    );
    stop.addEventListener('click', () => onStop(id, stop));
    cells.actions.append(stop);
    const tr = h('tr', { 'data-run-id': id }, ...Object.values(cells));
    return { tr, cells, badge, select, stop };
  }

  return {
    /** Shows `runs` (newest first) with pipeline names from `pipelines`; `selected` is marked. */
    update(runs, pipelines, selected) {
      const seen = new Set();
      let before = tbody.firstChild;
      for (const run of runs) {
        seen.add(run.id);
        let row = rows.get(run.id);
        if (!row) {
          row = makeRow(run.id);
          rows.set(run.id, row);
        }
        if (row.tr !== before) tbody.insertBefore(row.tr, before);
        before = row.tr.nextSibling;
        const { cells, badge } = row;
        const pipeline = pipelines.get(run.pipelineId);
        setText(cells.name, run.output.path);
        setAttr(cells.name, 'title', run.source.url);
        setText(cells.pipeline, pipeline ? pipeline.name : run.pipelineId);
        setAttr(cells.pipeline, 'title', `${run.pipelineId} v${run.pipelineVersion}`);
        setText(badge, run.status);
        setAttr(badge, 'class', `state state-${run.status}`);
        setText(cells.reason, run.reason ? `${run.reason.code}: ${run.reason.message}` : '');
        setAttr(cells.reason, 'title', run.reason ? run.reason.message : null);
        setText(cells.node, run.nodeId ?? '');
        setAttr(cells.node, 'title', run.nodeId);
        const live = ENDED.has(run.status) ? null : run.live;
        setText(cells.fps, live ? `${fmt(live.fpsIn)} / ${fmt(live.fpsOut)}` : '–');
        setText(
          cells.latency,
          live ? `${fmt(live.latencyMs.p50)} / ${fmt(live.latencyMs.p99)}` : '–',
        );
        setText(cells.drops, live ? String(live.dropped) : '–');
        const stoppable = !ENDED.has(run.status) && run.desiredState !== 'stopped';
        if (!row.stop.dataset.pending) row.stop.disabled = !stoppable;
        setAttr(row.tr, 'data-selected', run.id === selected ? 'true' : null);
        setAttr(row.select, 'aria-current', run.id === selected ? 'true' : null);
      }
      for (const [id, row] of rows) {
        if (seen.has(id)) continue;
        row.tr.remove();
        rows.delete(id);
      }
      empty.hidden = runs.length > 0;
    },
    clear() {
      for (const row of rows.values()) row.tr.remove();
      rows.clear();
      empty.hidden = false;
    },
  };
}
