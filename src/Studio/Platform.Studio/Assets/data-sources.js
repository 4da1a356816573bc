// The Data sources page: named data sources (create, edit, delete through /api/data-sources; the connection string is
// write-only and shown masked), "Test connection" (POST …/{name}/test) and a read-only query (POST …/{name}/query).
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl, esc } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);
  const path = (name) => '/api/data-sources/' + encodeURIComponent(name);
  let current = null;

  function status(id, text, ok) {
    const el = $(id);
    el.textContent = text;
    el.className = ok ? 'in-ok' : 'in-error';
  }

  async function loadSources(select) {
    const sources = await api('GET', '/api/data-sources');
    const ul = $('ds-list');
    ul.replaceChildren();
    for (const d of sources) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = d.name;
      b.dataset.dataSource = d.name;
      b.className = current && current.name === d.name ? 'in-active' : '';
      const badge = document.createElement('span');
      badge.className = 'in-badge';
      badge.textContent = d.provider + (d.writable ? ' · writable' : '');
      b.append(badge);
      b.addEventListener('click', () => edit(d));
      li.append(b);
      ul.append(li);
    }
    if (sources.length === 0) ul.innerHTML = '<li class="in-hint">No data sources yet.</li>';
    if (select) {
      const d = sources.find((x) => x.name.toLowerCase() === select.toLowerCase());
      if (d) edit(d);
    }
  }

  function edit(d) {
    current = d;
    for (const b of $('ds-list').querySelectorAll('button')) b.className = d && b.dataset.dataSource === d.name ? 'in-active' : '';
    $('ds-editor').hidden = false;
    $('ds-title').textContent = d ? d.name : 'New data source';
    $('ds-name').value = d?.name || '';
    $('ds-name').disabled = !!d;
    $('ds-provider').value = d?.provider || 'PostgreSql';
    $('ds-writable').checked = !!d?.writable;
    $('ds-connection').value = '';
    $('ds-connection').placeholder = d ? 'stored: leave empty to keep it' : 'Host=db;Database=shop;Username=reader;Password=…';
    $('ds-masked').textContent = d ? 'Stored: ' + d.connectionString : '';
    $('ds-description').value = d?.description || '';
    $('ds-delete').hidden = !d;
    $('ds-test').hidden = !d;
    $('ds-status').textContent = '';
    $('ds-query-panel').hidden = !d;
    $('ds-result').replaceChildren();
    $('ds-query-status').textContent = '';
    if (d) history.replaceState(null, '', '/data-sources?source=' + encodeURIComponent(d.name));
  }

  async function save() {
    const body = {
      name: $('ds-name').value.trim(), provider: $('ds-provider').value, writable: $('ds-writable').checked,
      connectionString: $('ds-connection').value.trim() || null, description: $('ds-description').value.trim() || null,
    };
    try {
      const saved = current ? await api('PUT', path(current.name), body) : await api('POST', '/api/data-sources', body);
      current = saved;
      await loadSources(saved.name);
      status('ds-status', 'Saved.', true);
    } catch (e) {
      status('ds-status', e.message, false);
    }
  }

  async function test() {
    if (!current) return;
    status('ds-status', 'Testing…', true);
    try {
      const r = await api('POST', path(current.name) + '/test');
      status('ds-status', `Connected in ${r.elapsedMs} ms${r.serverVersion ? ' (server ' + r.serverVersion + ')' : ''}.`, true);
    } catch (e) {
      status('ds-status', e.message, false);
    }
  }

  async function remove() {
    if (!current || !confirm(`Delete the data source '${current.name}'? Query Database activities that use it will fail.`)) return;
    try {
      await api('DELETE', path(current.name));
      current = null;
      $('ds-editor').hidden = true;
      $('ds-query-panel').hidden = true;
      history.replaceState(null, '', '/data-sources');
      await loadSources();
    } catch (e) {
      status('ds-status', e.message, false);
    }
  }

  const show = (v) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));

  async function run() {
    if (!current) return;
    let parameters = null;
    const raw = $('ds-parameters').value.trim();
    if (raw) {
      try { parameters = JSON.parse(raw); } catch (e) {
        status('ds-query-status', 'The parameters are not valid JSON: ' + e.message + '. Write an object such as {"status": "open"}.', false);
        return;
      }
    }
    status('ds-query-status', 'Running…', true);
    $('ds-run').disabled = true;
    try {
      const r = await api('POST', path(current.name) + '/query', { sql: $('ds-sql').value, parameters, rowLimit: Number($('ds-limit').value) || 100 });
      status('ds-query-status', `${r.rowCount} row${r.rowCount === 1 ? '' : 's'} in ${r.elapsedMs} ms${r.truncated ? ' (more rows were left out: raise the row limit)' : ''}.`, true);
      $('ds-result').innerHTML = r.columns.length
        ? `<table><thead><tr>${r.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${
          r.rows.map((row) => `<tr data-testid="result-row">${row.map((v) => `<td>${esc(show(v))}</td>`).join('')}</tr>`).join('')}</tbody></table>`
        : '';
    } catch (e) {
      status('ds-query-status', e.message, false);
      $('ds-result').replaceChildren();
    } finally {
      $('ds-run').disabled = false;
    }
  }

  function showSignIn() {
    $('ds-app').hidden = true;
    $('ds-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('ds-sign-in').hidden = true;
    $('ds-app').hidden = false;
    try {
      await loadSources(new URL(location.href).searchParams.get('source'));
    } catch (e) {
      status('ds-list-status', e.message, false);
    }
  }

  $('ds-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('ds-key').value.trim());
    start();
  });
  $('ds-new').addEventListener('click', () => { edit(null); $('ds-name').focus(); });
  $('ds-save').addEventListener('click', save);
  $('ds-test').addEventListener('click', test);
  $('ds-delete').addEventListener('click', remove);
  $('ds-run').addEventListener('click', run);
  $('ds-sql').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(); });
  start();
})();
