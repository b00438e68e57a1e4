// The operator dashboard: polls the runs of the chosen tenant every second (with their live
// figures), keeps a minute of samples per run, and wires the table, the selected run's panel,
// the create form, the catalog lists and the tenant selector together.

import { api, ApiError, getTenant, setTenant, TENANT_PATTERN } from './api.js';
import { fillPipelineSelect, renderModels, renderPipelines } from './catalog.js';
import { createDetail } from './detail.js';
import { byId, clock, setAttr, setText } from './dom.js';
import { createRunsTable } from './runs-table.js';
import { pushSample } from './sparkline.js';

const POLL_MS = 1000;
const CATALOG_MS = 10_000;

const state = {
  runs: [],
  pipelines: new Map(),
  models: new Map(),
  selected: undefined,
  /** runId → {fpsIn, fpsOut, p50, p99, at}: the last samples of each run's live figures. */
  history: new Map(),
  /** Bumped when the tenant changes: answers to requests made before are dropped. */
  generation: 0,
};

const conn = byId('conn');
const detail = createDetail();
const table = createRunsTable(byId('runs-body'), byId('runs-empty'), {
  onSelect: (id) => select(id),
  onStop: (id, button) => stop(id, button),
});

function historyOf(id) {
  let h = state.history.get(id);
  if (!h) {
    h = { fpsIn: [], fpsOut: [], p50: [], p99: [], at: '' };
    state.history.set(id, h);
  }
  return h;
}

function record(run) {
  const live = run.live;
  if (!live || run.status === 'inactive' || run.status === 'failed') return;
  const h = historyOf(run.id);
  // One sample per new figure: the API's figures change with each ingest heartbeat.
  const at = `${live.updatedAt}`;
  if (h.at === at) return;
  h.at = at;
  pushSample(h.fpsIn, live.fpsIn);
  pushSample(h.fpsOut, live.fpsOut);
  pushSample(h.p50, live.latencyMs.p50);
  pushSample(h.p99, live.latencyMs.p99);
}

function render() {
  table.update(state.runs, state.pipelines, state.selected);
  const run = state.runs.find((r) => r.id === state.selected);
  if (run) detail.show(run, state.pipelines.get(run.pipelineId), historyOf(run.id));
  else if (detail.runId) detail.clear();
}

function select(id) {
  state.selected = id;
  render();
}

async function stop(id, button) {
  button.dataset.pending = 'true';
  button.disabled = true;
  try {
    await api('POST', `/v1/runs/${encodeURIComponent(id)}/stop`);
  } catch (err) {
    setConn(`stop ${id}: ${err.message}`, true);
  } finally {
    delete button.dataset.pending;
  }
  await pollRuns();
}

function setConn(text, bad = false) {
  setText(conn, text);
  conn.classList.toggle('bad', bad);
}

async function pollRuns() {
  const generation = state.generation;
  try {
    const page = await api('GET', '/v1/runs?limit=100');
    if (generation !== state.generation) return;
    state.runs = page.items;
    for (const run of state.runs) record(run);
    const ids = new Set(state.runs.map((r) => r.id));
    for (const id of state.history.keys()) if (!ids.has(id)) state.history.delete(id);
    setConn(`${getTenant() || 'default tenant'} · updated ${clock(Date.now())}`);
  } catch (err) {
    if (generation !== state.generation) return;
    setConn(`cannot reach the API: ${err.message}`, true);
  }
  render();
}

async function loadCatalog() {
  const generation = state.generation;
  try {
    const [models, pipelines] = await Promise.all([
      api('GET', '/v1/models'),
      api('GET', '/v1/pipelines'),
    ]);
    if (generation !== state.generation) return;
    state.models = new Map(models.items.map((m) => [m.id, m]));
    state.pipelines = new Map(pipelines.items.map((p) => [p.id, p]));
  } catch (err) {
    if (generation !== state.generation) return;
    setConn(`cannot load models and pipelines: ${err.message}`, true);
  }
  renderModels(byId('models'), state.models);
  renderPipelines(byId('pipelines'), state.pipelines, state.models);
  fillPipelineSelect(byId('cr-pipeline'), state.pipelines);
  render();
}

function loop(fn, ms) {
  const tick = async () => {
    await fn();
    setTimeout(tick, ms);
  };
  tick().catch(() => undefined);
}

// --- the create form --------------------------------------------------------------------------

const form = byId('create-run');

function clearErrors() {
  for (const el of form.querySelectorAll('[data-error-for]')) setText(el, '');
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function showErrors(err) {
  const general = [];
  for (const { path, message } of err.fieldErrors()) {
    const slot = path ? form.querySelector(`[data-error-for="${CSS.escape(path)}"]`) : null;
    if (!slot) {
      general.push(path ? `${path}: ${message}` : message);
      continue;
    }
    setText(slot, slot.textContent ? `${slot.textContent}; ${message}` : message);
    const input = form.querySelector(`[name="${CSS.escape(path)}"]`);
    if (input) setAttr(input, 'aria-invalid', 'true');
  }
  setText(byId('create-error'), general.join('; '));
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearErrors();
  const status = byId('create-status');
  setText(status, 'Starting…');
  const output = form.elements['output.path'].value.trim();
  const body = {
    pipelineId: form.elements.pipelineId.value,
    source: {
      url: form.elements['source.url'].value.trim(),
      loop: form.elements['source.loop'].checked,
    },
    ...(output ? { output: { path: output } } : {}),
  };
  api('POST', '/v1/runs', body)
    .then(async (created) => {
      setText(status, `Created ${created.id}.`);
      state.selected = created.id;
      await pollRuns();
    })
    .catch((err) => {
      setText(status, '');
      if (err instanceof ApiError) showErrors(err);
      else setText(byId('create-error'), `cannot reach the API: ${err.message}`);
    });
});

// --- the tenant selector ----------------------------------------------------------------------

const tenantInput = byId('tenant');
tenantInput.value = getTenant();
byId('tenant-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = tenantInput.value.trim();
  const error = byId('tenant-error');
  if (value && !TENANT_PATTERN.test(value)) {
    setText(error, 'letters, digits, _ and - only (1-128)');
    setAttr(tenantInput, 'aria-invalid', 'true');
    return;
  }
  setText(error, '');
  tenantInput.removeAttribute('aria-invalid');
  setTenant(value);
  state.generation += 1;
  state.selected = undefined;
  state.pipelines = new Map();
  state.models = new Map();
  state.runs = [];
  state.history.clear();
  table.clear();
  detail.clear();
  clearErrors();
  loadCatalog().then(pollRuns, () => undefined);
});

loop(loadCatalog, CATALOG_MS);
loop(pollRuns, POLL_MS);
