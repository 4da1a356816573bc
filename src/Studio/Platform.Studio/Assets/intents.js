// The Intents page: lists intent sets, edits intents and example sentences, saves (the server trains the set) and
// tests sentences. Uses the Studio's API key (sign-in link ?key=… or the key stored by the Studio pages).
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl } = window.PlatformPage;
  const API = location.origin + '/api/intents';
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, API + path, body, showSignIn);
  let current = null; // the set being edited (as stored), or null for a new one
  let currentId = null;

  function status(text, ok) {
    const el = $('in-status');
    el.textContent = text;
    el.className = ok ? 'in-ok' : 'in-error';
  }

  function lines(text) {
    return text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  // ---- sets list --------------------------------------------------------------------------------------------

  async function loadSets(select) {
    const sets = await api('GET', '');
    const list = $('in-sets');
    list.replaceChildren();
    for (const s of sets) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = s.name && s.name !== s.id ? `${s.name} (${s.id})` : s.id;
      b.dataset.setId = s.id;
      b.className = s.id === currentId ? 'in-active' : '';
      b.addEventListener('click', () => edit(s));
      li.append(b);
      list.append(li);
    }
    if (select) {
      const s = sets.find((x) => x.id.toLowerCase() === select.toLowerCase());
      if (s) edit(s);
    }
  }

  // ---- editor -----------------------------------------------------------------------------------------------

  function intentRow(intent) {
    const box = document.createElement('div');
    box.className = 'in-intent';
    box.dataset.testid = 'intent';
    box.innerHTML = `
      <div class="in-row">
        <div class="in-field" style="flex: 1"><label>Intent name (port)</label><input class="in-intent-name" data-testid="intent-name" placeholder="device_on"></div>
        <button type="button" class="in-btn in-danger in-remove" data-testid="remove-intent">Remove</button>
      </div>
      <div class="in-field"><label>Example sentences, one per line (at least 3)</label><textarea class="in-intent-examples" data-testid="intent-examples"></textarea></div>
      <div class="in-field"><label>Required entities (optional), one per line as <code>entity: question</code>, e.g. <code>room: Which room?</code>. A missing one leaves on the MissingSlot port with the question.</label><textarea class="in-intent-required" data-testid="intent-required" spellcheck="false" style="min-height: 48px"></textarea></div>`;
    box.querySelector('.in-intent-name').value = intent?.name || '';
    box.querySelector('.in-intent-examples').value = (intent?.examples || []).join('\n');
    box.querySelector('.in-intent-required').value = (intent?.required || []).map((r) => (r.prompt ? `${r.entity}: ${r.prompt}` : r.entity)).join('\n');
    box.querySelector('.in-remove').addEventListener('click', () => box.remove());
    return box;
  }

  function edit(set) {
    current = set;
    currentId = set.id;
    $('in-editor').hidden = false;
    $('in-title').textContent = `Intent set: ${set.id}` + (set.version ? ` (version ${set.version})` : ' (not saved yet)');
    $('in-type').textContent = 'Platform.RecognizeIntent.' + set.id;
    $('in-name').value = set.name || '';
    $('in-threshold').value = set.threshold ?? '';
    $('in-tz').value = set.timeZone || '';
    $('in-oos').value = (set.outOfScopeExamples || []).join('\n');
    $('in-entities').value = set.entities && set.entities.length ? JSON.stringify(set.entities, null, 2) : '';
    const intents = $('in-intents');
    intents.replaceChildren(...(set.intents && set.intents.length ? set.intents : [{}]).map(intentRow));
    $('in-delete').hidden = !set.version;
    $('in-result').replaceChildren();
    status('', true);
    for (const b of document.querySelectorAll('#in-sets button')) b.className = b.dataset.setId === set.id ? 'in-active' : '';
  }

  function collect() {
    let entities = [];
    const entityText = $('in-entities').value.trim();
    if (entityText) {
      try { entities = JSON.parse(entityText); } catch (e) { throw new Error('The entities are not valid JSON: ' + e.message); }
      if (!Array.isArray(entities)) throw new Error('The entities must be a JSON array.');
    }
    const threshold = $('in-threshold').value.trim();
    return {
      id: currentId,
      name: $('in-name').value.trim() || null,
      threshold: threshold === '' ? null : Number(threshold),
      timeZone: $('in-tz').value.trim() || null,
      intents: [...document.querySelectorAll('#in-intents .in-intent')].map((box) => ({
        name: box.querySelector('.in-intent-name').value.trim(),
        examples: lines(box.querySelector('.in-intent-examples').value),
        required: lines(box.querySelector('.in-intent-required').value).map((line) => {
          const colon = line.indexOf(':');
          return colon < 0 ? { entity: line, prompt: null } : { entity: line.slice(0, colon).trim(), prompt: line.slice(colon + 1).trim() || null };
        }),
        description: (current?.intents || []).find((x) => x.name === box.querySelector('.in-intent-name').value.trim())?.description ?? null,
      })).filter((i) => i.name || i.examples.length),
      outOfScopeExamples: lines($('in-oos').value),
      entities,
      description: current?.description ?? null,
      builtInEntities: current?.builtInEntities ?? null,
    };
  }

  async function save() {
    try {
      const body = collect();
      status('Saving and training…', true);
      const saved = await api('PUT', '/' + encodeURIComponent(currentId), body);
      await loadSets();
      edit(saved);
      status(`Saved version ${saved.version}; the set is trained.`, true);
    } catch (e) {
      status(e.message, false);
    }
  }

  async function remove() {
    if (!current?.version || !confirm(`Delete the intent set '${currentId}'? Workflows that use it will fault.`)) return;
    try {
      await api('DELETE', '/' + encodeURIComponent(currentId));
      current = null; currentId = null;
      $('in-editor').hidden = true;
      await loadSets();
    } catch (e) {
      status(e.message, false);
    }
  }

  async function test() {
    const out = $('in-result');
    const text = $('in-test-text').value.trim();
    if (!current?.version) { status('Save the set before testing it.', false); return; }
    try {
      const r = await api('POST', '/' + encodeURIComponent(currentId) + '/test', { text });
      const pct = (x) => (x * 100).toFixed(1) + ' %';
      const rows = r.alternatives.map((a) => `<tr><td>${esc(a.intent)}</td><td>${pct(a.confidence)}</td></tr>`).join('');
      const ents = r.entities.map((e) => `<tr><td>${esc(e.name)}</td><td>${esc(e.text)}</td><td>${esc(JSON.stringify(e.value))}</td></tr>`).join('');
      out.innerHTML = `
        <p><strong>Intent:</strong> <span data-testid="result-intent">${esc(r.intent)}</span>
           · confidence ${pct(r.confidence)} · threshold ${pct(r.threshold)}${r.outOfScope ? ` · out of scope (best guess: ${esc(r.topIntent)})` : ''}</p>
        <table><tr><th>Alternative</th><th>Confidence</th></tr>${rows}</table>
        ${ents ? `<table><tr><th>Entity</th><th>Text</th><th>Value</th></tr>${ents}</table>` : '<p class="in-hint">No entities found.</p>'}
        <p class="in-hint">Embedding model: ${esc(r.embeddings)} · set version ${r.version}</p>`;
    } catch (e) {
      out.innerHTML = `<p class="in-error">${esc(e.message)}</p>`;
    }
  }

  function esc(s) {
    return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  function showSignIn() {
    $('in-app').hidden = true;
    $('in-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('in-sign-in').hidden = true;
    $('in-app').hidden = false;
    try {
      await loadSets(new URL(location.href).searchParams.get('set'));
    } catch (e) {
      status(e.message, false);
    }
  }

  $('in-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('in-key').value.trim());
    start();
  });
  $('in-new').addEventListener('click', () => {
    const id = $('in-new-id').value.trim();
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(id)) {
      $('in-editor').hidden = false;
      status('The id must be 1-64 letters, digits, _ or -, starting with a letter (e.g. assistant).', false);
      return;
    }
    edit({ id, intents: [{}, {}] });
  });
  $('in-add-intent').addEventListener('click', () => $('in-intents').append(intentRow({})));
  $('in-save').addEventListener('click', save);
  $('in-delete').addEventListener('click', remove);
  $('in-test').addEventListener('click', test);
  $('in-test-text').addEventListener('keydown', (e) => { if (e.key === 'Enter') test(); });
  start();
})();
