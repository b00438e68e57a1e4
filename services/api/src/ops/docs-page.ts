/**
 * The /docs page: plain HTML and a little script that renders /openapi.json (every route, its
 * parameters, bodies and responses, schemas expandable). Self-contained, so it works offline and
 * needs no asset bundle; text goes through textContent, never innerHTML.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sie API</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 980px; padding: 1rem 1.5rem; color: #1d232a; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; text-transform: capitalize; }
  .op { border: 1px solid #dde2e7; border-radius: 6px; margin: .6rem 0; padding: .5rem .8rem; }
  .m { display: inline-block; min-width: 4.2rem; font-weight: 600; font-family: ui-monospace, monospace; }
  .GET { color: #0b6bcb; } .POST { color: #1a7f37; } .PUT { color: #9a6700; } .DELETE { color: #cf222e; }
  code, pre { font-family: ui-monospace, monospace; font-size: 12.5px; } pre { background: #f6f8fa; padding: .5rem; overflow: auto; }
  .sum { color: #444; margin-left: .5rem; } .desc { color: #555; margin: .3rem 0; } summary { cursor: pointer; }
  table { border-collapse: collapse; margin: .3rem 0; } td { padding: .1rem .6rem .1rem 0; vertical-align: top; }
</style>
</head>
<body>
<h1>sie API</h1>
<p id="info">Loading <a href="/openapi.json">/openapi.json</a>…</p>
<div id="ops"></div>
<script>
(async () => {
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) if (k != null) e.append(k);
    return e;
  };
  const doc = await (await fetch('/openapi.json')).json();
  const resolve = (s) => {
    if (s && s.$ref) return doc.components.schemas[s.$ref.split('/').pop()] || s;
    return s;
  };
  const schemaBlock = (label, s) =>
    el('details', {}, el('summary', {}, label), el('pre', {}, JSON.stringify(resolve(s), null, 2)));
  const info = document.getElementById('info');
  info.textContent = doc.info.description + ' (OpenAPI ' + doc.openapi + ', version ' + doc.info.version + ') ';
  info.append(el('a', { href: '/openapi.json' }, 'openapi.json'));
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) (byTag[op.tags[0]] ||= []).push([method.toUpperCase(), path, op]);
  const root = document.getElementById('ops');
  for (const [tag, list] of Object.entries(byTag)) {
    root.append(el('h2', {}, tag));
    for (const [method, path, op] of list) {
      const box = el('div', { class: 'op' },
        el('div', {}, el('span', { class: 'm ' + method }, method), el('code', {}, path), el('span', { class: 'sum' }, op.summary)));
      if (op.description) box.append(el('div', { class: 'desc' }, op.description));
      const params = (op.parameters || []).map((p) => p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p);
      if (params.length) {
        const t = el('table');
        for (const p of params)
          t.append(el('tr', {}, el('td', {}, el('code', {}, p.name)), el('td', {}, p.in + (p.required ? ', required' : '')),
            el('td', {}, p.description || JSON.stringify(p.schema))));
        box.append(t);
      }
      for (const [type, body] of Object.entries((op.requestBody || {}).content || {}))
        box.append(schemaBlock('request body (' + type + ')', body.schema));
      for (const [code, res] of Object.entries(op.responses || {})) {
        const content = Object.entries(res.content || {})[0];
        const label = code + ' ' + res.description;
        box.append(content ? schemaBlock(label, content[1].schema) : el('div', {}, label));
      }
      root.append(box);
    }
  }
})().catch((err) => { document.getElementById('info').textContent = 'cannot load /openapi.json: ' + err; });
</script>
</body>
</html>
`;
