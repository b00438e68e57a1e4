// The tenant's models and pipelines: the two lists and the create form's pipeline select.

import { h } from './dom.js';

export function renderModels(list, models) {
  list.replaceChildren(
    ...[...models.values()].map((m) =>
      h(
        'li',
        { 'data-model-id': m.id },
        h('strong', {}, m.name),
        ' ',
        h('span', { class: 'id' }, m.id),
        h(
          'div',
          { class: 'muted' },
          `${m.task}, ${m.inputWidth}×${m.inputHeight}, ${m.classNames.length || 'default'} classes`,
          m.loaded === false ? ', not loaded' : '',
        ),
      ),
    ),
  );
  if (models.size === 0) list.append(h('li', { class: 'muted' }, 'No models.'));
}

export function renderPipelines(list, pipelines, models) {
  list.replaceChildren(
    ...[...pipelines.values()].map((p) => {
      const model = models.get(p.modelId);
      const rules = p.config.rules.length;
      return h(
        'li',
        { 'data-pipeline-id': p.id },
        h('strong', {}, p.name),
        ' ',
        h('span', { class: 'id' }, `${p.id} v${p.version}`),
        h(
          'div',
          { class: 'muted' },
          `model ${model ? model.name : p.modelId}, score ≥ ${p.config.scoreThreshold}`,
          rules ? `, ${rules} rule${rules === 1 ? '' : 's'}` : '',
        ),
      );
    }),
  );
  if (pipelines.size === 0) list.append(h('li', { class: 'muted' }, 'No pipelines.'));
}

/** Fills the select with the pipelines, keeping the current choice when it still exists. */
export function fillPipelineSelect(select, pipelines) {
  const current = select.value;
  select.replaceChildren(
    h('option', { value: '' }, pipelines.size ? 'Choose a pipeline…' : 'No pipelines'),
    ...[...pipelines.values()].map((p) => h('option', { value: p.id }, `${p.name} (${p.id})`)),
  );
  if (current && pipelines.has(current)) select.value = current;
}
