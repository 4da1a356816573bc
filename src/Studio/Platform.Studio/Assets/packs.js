// The Packs page: the installed activity packs (GET /api/packs) with their state, isolation, activity types, load errors and
// SHA-512; Admins upload a .nupkg, enable, disable and remove packs. Before a pack is installed-and-enabled (upload) or enabled
// again, the page shows what its manifest lets it reach, in plain words, and waits for a confirmation, as a phone shows an app's
// permissions: the upload is first read with POST /api/packs/inspect (nothing installed), and only "Install and enable" sends it
// to POST /api/packs. Cancel leaves nothing installed or enabled.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl, SESSION } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);
  let isAdmin = false;
  let packs = [];
  // What the open confirmation does when confirmed (null when none is open).
  let pending = null;

  function showSignIn() {
    $('pk-app').hidden = true;
    $('pk-sign-in').hidden = false;
  }

  function status(id, text, ok) {
    const el = $(id);
    el.textContent = text || '';
    el.className = ok ? 'in-ok' : 'in-error';
  }

  function el(tag, props, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'text') e.textContent = v;
      else if (k === 'testid') e.dataset.testid = v;
      else if (k === 'className') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }

  const list = (items) => (items || []).filter((x) => x && String(x).trim()).map(String);
  const join = (items) => items.join(', ');

  // A network entry in words: "*.example.com" is any host under example.com; "host:8080" only that port.
  function host(entry) {
    const m = /^(.*):(\d+)$/.exec(entry);
    const name = m ? m[1] : entry;
    const words = name.startsWith('*.') ? `any host under ${name.slice(2)}` : name;
    return m ? `${words} (port ${m[2]} only)` : words;
  }

  // The manifest's permissions as sentences, one per kind, each saying also what the pack may NOT do.
  function describePermissions(permissions, isolation) {
    const p = permissions || {};
    const network = list(p.network);
    const secrets = list(p.secrets);
    const dataSources = list(p.dataSources);
    const mqtt = list(p.mqtt);
    const lines = [
      { kind: 'network', granted: network.length > 0,
        text: network.length > 0 ? `Connect over the network to ${join(network.map(host))}.` : 'No network access: it cannot call any host.' },
      { kind: 'secrets', granted: secrets.length > 0,
        text: secrets.length > 0 ? `Read the secret${secrets.length > 1 ? 's' : ''} ${join(secrets)}.` : 'No secrets: it cannot read any secret.' },
      { kind: 'data-sources', granted: dataSources.length > 0,
        text: dataSources.length > 0 ? `Query the data source${dataSources.length > 1 ? 's' : ''} ${join(dataSources)}.` : 'No data sources: it cannot query any database.' },
      { kind: 'mqtt', granted: mqtt.length > 0,
        text: mqtt.length > 0 ? `Publish and subscribe on the MQTT topic${mqtt.length > 1 ? 's' : ''} ${join(mqtt)}.` : 'No MQTT topics: it cannot talk to devices over MQTT.' },
      { kind: 'file-system', granted: !!p.fileSystem,
        text: p.fileSystem ? "Read and write files on the server's disk." : 'No file system access.' },
      { kind: 'isolation', granted: isolation !== 'process',
        text: isolation === 'process'
          ? 'Run in its own pack host process (isolation "process"), with CPU, memory and time limits on each call; a crash there does not stop the server.'
          : 'Run inside the server process (isolation "shared"): install only packs you trust, a fault in it can affect the whole server.' },
    ];
    return lines;
  }

  function shortSha(sha) {
    return sha ? sha.slice(0, 16) + '…' : '';
  }

  // Opens the confirmation: what the pack is, its permissions, its hash and signature; `onConfirm` runs on "confirm".
  function confirmPermissions({ title, about, manifest, permissions, isolation, sha512, signature, note, confirmText, onConfirm }) {
    $('pk-confirm-title').textContent = title;
    $('pk-confirm-about').textContent = about || '';
    $('pk-confirm-lead').hidden = !permissions;
    const ul = $('pk-permissions');
    ul.replaceChildren();
    ul.hidden = !permissions;
    if (permissions) {
      for (const line of describePermissions(permissions, isolation)) {
        const li = el('li', { text: line.text, testid: 'permission', className: line.granted ? 'pk-granted' : 'pk-none' });
        li.dataset.kind = line.kind;
        ul.append(li);
      }
    }
    $('pk-confirm-sha').textContent = sha512 || '';
    $('pk-confirm-sha').title = sha512 || '';
    $('pk-confirm-signature').textContent = describeSignature(signature);
    document.querySelector('#pk-confirm .pk-facts').hidden = !sha512;
    $('pk-confirm-note').textContent = note || '';
    $('pk-ok').textContent = confirmText;
    $('pk-ok').disabled = false;
    pending = onConfirm;
    const dialog = $('pk-confirm');
    if (!dialog.open) dialog.showModal();
    $('pk-cancel').focus();
  }

  function describeSignature(signature) {
    if (!signature) return '';
    if (!signature.signed) return signature.required ? 'Not signed: this server installs only signed packs, so it will refuse it.' : 'Not signed (this server accepts unsigned packs).';
    const who = signature.signer ? ` by ${signature.signer}` : '';
    return signature.trusted ? `Signed${who} (trusted).` : `Signed${who}, but that certificate is not trusted here (SHA-256 ${signature.fingerprint}): the install will be refused.`;
  }

  function closeConfirm() {
    pending = null;
    const dialog = $('pk-confirm');
    if (dialog.open) dialog.close();
  }

  // Sends the file as the multipart field `file` with the stored key (or the session cookie); throws the problem's text.
  async function upload(path, file) {
    const key = readKey();
    const session = key === SESSION;
    const form = new FormData();
    form.append('file', file, file.name);
    const response = await fetch(location.origin + path, {
      method: 'POST',
      headers: session ? { 'X-Platform-Request': '1' } : { Authorization: 'ApiKey ' + key },
      body: form,
      cache: 'no-store',
      credentials: session ? 'same-origin' : 'omit',
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { title: text }; }
    if (response.status === 401) { showSignIn(); throw new Error('The API key was rejected: sign in again.'); }
    if (!response.ok) {
      const problem = data || {};
      throw new Error((problem.title || ('HTTP ' + response.status)) + (problem.detail && problem.detail !== problem.title ? '\n' + problem.detail : ''));
    }
    return data;
  }

  // A file was chosen: read it (nothing installed), show its permissions, install only on confirmation.
  async function inspectFile(file) {
    status('pk-install-status', `Reading ${file.name}…`, true);
    let inspected;
    try {
      inspected = await upload('/api/packs/inspect', file);
    } catch (e) {
      status('pk-install-status', e.message);
      return;
    }
    status('pk-install-status', '');
    const m = inspected.manifest;
    const name = m.displayName ? `${m.displayName} (${m.id})` : m.id;
    const about = [m.description, m.author ? `By ${m.author}.` : '', m.sdk ? `Pack SDK ${m.sdk}.` : ''].filter(Boolean).join(' ');
    const replaces = inspected.installedVersion
      ? (inspected.installedVersion === m.version ? `Version ${m.version} is installed already (${inspected.installedState}); this reinstalls it.`
        : `Replaces the installed version ${inspected.installedVersion} (${inspected.installedState}).`)
      : 'Nothing is installed until you confirm.';
    confirmPermissions({
      title: `Install ${name} ${m.version}?`, about, permissions: m.permissions, isolation: m.isolation, sha512: inspected.sha512,
      signature: inspected.signature, note: replaces, confirmText: 'Install and enable',
      onConfirm: async () => {
        const installed = await upload('/api/packs', file);
        status('pk-status', '');
        status('pk-install-status', `Installed ${installed.id} ${installed.version}: ${installed.state}` +
          (installed.activityTypes.length ? ` (${installed.activityTypes.join(', ')})` : '') + '.', installed.state !== 'Failed');
      },
    });
  }

  function actionButton(text, testid, className, onClick) {
    const b = el('button', { type: 'button', text, testid, className: 'in-btn ' + className });
    b.addEventListener('click', onClick);
    return b;
  }

  function render() {
    const body = $('pk-rows');
    body.replaceChildren();
    for (const p of packs) {
      const tr = el('tr', { testid: 'pack-row' });
      tr.dataset.pack = p.id;
      const name = el('td', {}, [el('strong', { text: p.displayName || p.id })]);
      if (p.displayName) name.append(el('div', { className: 'in-hint', text: p.id }));
      if (p.description) name.append(el('div', { className: 'in-hint', text: p.description }));
      const state = el('td', {}, [el('span', { className: 'cv-badge ' + (p.state === 'Enabled' ? 'cv-good' : p.state === 'Failed' ? 'cv-bad' : ''), text: p.state, testid: 'pack-state' })]);
      for (const error of p.errors || []) state.append(el('div', { className: 'in-error', text: error, testid: 'pack-error' }));
      const types = el('td', { testid: 'pack-types' });
      if ((p.activityTypes || []).length === 0) types.append(el('span', { className: 'in-hint', text: p.state === 'Disabled' ? 'none while disabled' : 'none' }));
      for (const t of p.activityTypes || []) types.append(el('div', { className: 'pk-mono', text: t }));
      const sha = el('td', { className: 'pk-mono', text: shortSha(p.sha512), title: p.sha512 || '', testid: 'pack-sha' });
      const when = el('td', { text: String(p.installedAt || '').replace('T', ' ').replace(/\.\d+/, '').replace('+00:00', ' UTC') });
      if (p.installedBy) when.append(el('div', { className: 'in-hint', text: `by ${p.installedBy}${p.source ? ' (' + p.source + ')' : ''}` }));
      const actions = el('td', { className: 'pk-actions' });
      if (isAdmin) {
        if (p.state === 'Enabled') actions.append(actionButton('Disable', 'disable-pack', 'in-secondary', () => disable(p)));
        else actions.append(actionButton('Enable', 'enable-pack', '', () => enable(p)));
        actions.append(actionButton('Remove', 'remove-pack', 'in-danger', () => remove(p)));
      }
      tr.append(name, el('td', { text: p.version, testid: 'pack-version' }), state, el('td', { text: p.isolation, testid: 'pack-isolation' }),
        types, sha, when, actions);
      body.append(tr);
    }
    if (packs.length === 0) body.append(el('tr', {}, [el('td', { colspan: '8', className: 'in-hint', text: 'No packs are installed.' })]));
  }

  async function load() {
    try {
      packs = await api('GET', '/api/packs');
      render();
    } catch (e) {
      status('pk-status', e.message);
    }
  }

  async function disable(p) {
    status('pk-status', '');
    try {
      await api('POST', `/api/packs/${encodeURIComponent(p.id)}/disable`);
      status('pk-status', `${p.id} is disabled: its activities left the palette.`, true);
    } catch (e) {
      status('pk-status', e.message);
    }
    await load();
  }

  function enable(p) {
    status('pk-status', '');
    confirmPermissions({
      title: `Enable ${p.displayName ? `${p.displayName} (${p.id})` : p.id} ${p.version}?`,
      about: [p.description, p.author ? `By ${p.author}.` : ''].filter(Boolean).join(' '),
      permissions: p.permissions, isolation: p.isolation, sha512: p.sha512, signature: null,
      note: 'Its activities come back to the palette once it is enabled.', confirmText: 'Enable',
      onConfirm: async () => {
        const enabled = await api('POST', `/api/packs/${encodeURIComponent(p.id)}/enable`);
        status('pk-status', `${enabled.id} is ${enabled.state.toLowerCase()}.`, enabled.state === 'Enabled');
      },
    });
  }

  function remove(p) {
    status('pk-status', '');
    confirmPermissions({
      title: `Remove ${p.displayName ? `${p.displayName} (${p.id})` : p.id} ${p.version}?`,
      about: 'Its activities leave the palette and its code is unloaded. Workflows that use them show them as "not installed" until the pack is installed again.',
      permissions: null, sha512: null, note: '', confirmText: 'Remove',
      onConfirm: async () => {
        await api('DELETE', `/api/packs/${encodeURIComponent(p.id)}`);
        status('pk-status', `${p.id} was removed.`, true);
      },
    });
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('pk-sign-in').hidden = true;
    $('pk-app').hidden = false;
    try {
      const me = await api('GET', '/api/auth/me');
      isAdmin = (me.roles || []).includes('Admin');
    } catch (e) {
      isAdmin = false;
    }
    $('pk-install').hidden = !isAdmin;
    $('pk-readonly').hidden = isAdmin;
    await load();
  }

  $('pk-choose').addEventListener('click', () => $('pk-file').click());
  $('pk-file').addEventListener('change', async () => {
    const file = $('pk-file').files[0];
    $('pk-file').value = ''; // the same file can be chosen again after a cancel
    if (file) await inspectFile(file);
  });
  $('pk-ok').addEventListener('click', async () => {
    if (!pending) return;
    const action = pending;
    $('pk-ok').disabled = true;
    try {
      await action();
      closeConfirm();
    } catch (e) {
      closeConfirm();
      status('pk-status', e.message);
    }
    await load();
  });
  $('pk-cancel').addEventListener('click', () => {
    const wasInstall = $('pk-ok').textContent === 'Install and enable';
    closeConfirm();
    if (wasInstall) status('pk-install-status', 'Cancelled: nothing was installed.', true);
  });
  // Escape closes the dialog like Cancel.
  $('pk-confirm').addEventListener('cancel', () => { pending = null; });
  $('pk-refresh').addEventListener('click', load);
  $('pk-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('pk-key').value.trim());
    start();
  });
  start();
})();
