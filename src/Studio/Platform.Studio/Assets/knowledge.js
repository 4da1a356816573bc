// The Knowledge page: knowledge bases (/api/knowledge), documents uploaded by file picker or drag and drop (POST
// multipart/form-data with the field 'file' to /api/knowledge/{base}/documents), their chunk counts, deletion, and a search box that shows the hits with scores.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl, esc, SESSION } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);
  const path = (name) => '/api/knowledge/' + encodeURIComponent(name);
  let current = null;

  function status(id, text, ok) {
    const el = $(id);
    el.textContent = text;
    el.className = ok ? 'in-ok' : 'in-error';
  }

  async function loadBases(select) {
    const bases = await api('GET', '/api/knowledge');
    const ul = $('kb-list');
    ul.replaceChildren();
    for (const b of bases) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = b.name;
      button.dataset.knowledgeBase = b.name;
      button.className = current && current.toLowerCase() === b.name.toLowerCase() ? 'in-active' : '';
      const badge = document.createElement('span');
      badge.className = 'in-badge';
      badge.textContent = `${b.documents} doc${b.documents === 1 ? '' : 's'} · ${b.chunks} chunks`;
      button.append(badge);
      button.addEventListener('click', () => open(b.name));
      li.append(button);
      ul.append(li);
    }
    if (bases.length === 0) ul.innerHTML = '<li class="in-hint">No knowledge bases yet.</li>';
    if (select) {
      const b = bases.find((x) => x.name.toLowerCase() === select.toLowerCase());
      if (b) await open(b.name);
    }
  }

  async function open(name) {
    current = name;
    for (const b of $('kb-list').querySelectorAll('button')) b.className = b.dataset.knowledgeBase === name ? 'in-active' : '';
    $('kb-documents-panel').hidden = false;
    $('kb-search-panel').hidden = false;
    $('kb-title').textContent = name;
    $('kb-hits').replaceChildren();
    $('kb-search-status').textContent = '';
    history.replaceState(null, '', '/knowledge?base=' + encodeURIComponent(name));
    await loadDocuments();
  }

  async function loadDocuments() {
    const detail = await api('GET', path(current));
    const body = $('kb-documents');
    body.innerHTML = detail.documents.map((d) => `<tr data-testid="document-row" data-document="${esc(d.name)}">
      <td>${esc(d.name)}${d.title ? `<div class="in-hint">${esc(d.title)}</div>` : ''}</td><td>${esc(d.contentType)}</td>
      <td data-testid="chunk-count">${d.chunks}</td><td>${formatSize(d.size)}</td>
      <td><button type="button" class="in-btn in-danger" data-testid="delete-document" data-name="${esc(d.name)}">Delete</button></td></tr>`).join('')
      || '<tr><td colspan="5" class="in-hint">No documents yet: drop files above.</td></tr>';
    for (const b of body.querySelectorAll('button[data-name]')) b.addEventListener('click', () => removeDocument(b.dataset.name));
  }

  function formatSize(n) {
    return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
  }

  async function create() {
    const name = $('kb-new-name').value.trim();
    if (!name) { status('kb-list-status', 'Type a name first, e.g. handbook.', false); return; }
    try {
      await api('POST', '/api/knowledge', { name });
      $('kb-new-name').value = '';
      status('kb-list-status', '', true);
      await loadBases(name);
    } catch (e) {
      status('kb-list-status', e.message, false);
    }
  }

  // Uploads each file as a form (the server reads its type from the extension or the file's Content-Type).
  async function upload(files) {
    if (!current || !files || files.length === 0) return;
    const key = readKey();
    const session = key === SESSION;
    const done = [];
    for (const file of files) {
      status('kb-upload-status', `Uploading ${file.name}…`, true);
      const form = new FormData();
      form.append('file', file, file.name);
      // The browser sets the multipart Content-Type (with its boundary) itself.
      const response = await fetch(location.origin + path(current) + '/documents', {
        method: 'POST',
        headers: session ? { 'X-Platform-Request': '1' } : { Authorization: 'ApiKey ' + key },
        body: form,
        cache: 'no-store',
        credentials: session ? 'same-origin' : 'omit',
      });
      const text = await response.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { data = { title: text }; }
      if (response.status === 401) { showSignIn(); return; }
      if (!response.ok) {
        status('kb-upload-status', `${file.name}: ${(data && data.title) || 'HTTP ' + response.status}${data && data.detail ? '\n' + data.detail : ''}`, false);
        await loadDocuments();
        await loadBases();
        return;
      }
      done.push(`${file.name}: ${data.document.chunks} chunks${data.replaced ? ' (replaced)' : ''}`);
    }
    status('kb-upload-status', 'Indexed ' + done.join('; ') + '.', true);
    await loadDocuments();
    await loadBases();
  }

  async function removeDocument(name) {
    if (!confirm(`Delete '${name}' and its chunks from ${current}?`)) return;
    try {
      await api('DELETE', path(current) + '/documents/' + encodeURIComponent(name));
      status('kb-upload-status', `Deleted ${name}.`, true);
      await loadDocuments();
      await loadBases();
    } catch (e) {
      status('kb-upload-status', e.message, false);
    }
  }

  async function removeBase() {
    if (!current || !confirm(`Delete the knowledge base '${current}' with all its documents? Retrieve activities that use it will find nothing.`)) return;
    try {
      await api('DELETE', path(current));
      current = null;
      $('kb-documents-panel').hidden = true;
      $('kb-search-panel').hidden = true;
      history.replaceState(null, '', '/knowledge');
      await loadBases();
    } catch (e) {
      status('kb-upload-status', e.message, false);
    }
  }

  async function search() {
    const q = $('kb-query').value.trim();
    if (!current || !q) return;
    status('kb-search-status', 'Searching…', true);
    try {
      const r = await api('GET', `${path(current)}/search?q=${encodeURIComponent(q)}&top=${Number($('kb-top').value) || 5}`);
      status('kb-search-status', `${r.hits.length} hit${r.hits.length === 1 ? '' : 's'} in ${r.elapsedMs} ms.`, true);
      $('kb-hits').innerHTML = r.hits.map((h) => `<li data-testid="hit">
        <div><strong>${esc(h.title || h.source)}</strong> <span class="in-badge">${esc(h.source)}</span>
          <span class="in-badge" data-testid="hit-score" title="similarity ${h.similarity}, keywords ${h.keyword}">score ${h.score.toFixed(3)}</span></div>
        <div class="kb-text">${esc(h.text)}</div></li>`).join('');
    } catch (e) {
      status('kb-search-status', e.message, false);
      $('kb-hits').replaceChildren();
    }
  }

  function showSignIn() {
    $('kb-app').hidden = true;
    $('kb-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('kb-sign-in').hidden = true;
    $('kb-app').hidden = false;
    try {
      await loadBases(new URL(location.href).searchParams.get('base'));
    } catch (e) {
      status('kb-list-status', e.message, false);
    }
  }

  $('kb-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('kb-key').value.trim());
    start();
  });
  $('kb-create').addEventListener('click', create);
  $('kb-new-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') create(); });
  $('kb-file').addEventListener('change', (e) => { upload([...e.target.files]); e.target.value = ''; });
  const drop = $('kb-drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('kb-over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('kb-over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('kb-over'); upload([...e.dataTransfer.files]); });
  $('kb-delete').addEventListener('click', removeBase);
  $('kb-search').addEventListener('click', search);
  $('kb-query').addEventListener('keydown', (e) => { if (e.key === 'Enter') search(); });
  start();
})();
