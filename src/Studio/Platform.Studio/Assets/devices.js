// The Devices page: the device registry (create, edit, delete through /api/devices), the selected device's live state
// (polled every 3 s), a test command (POST /api/devices/{id}/commands, the same path as Control Device) and the audit trail.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl, esc } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);
  const COMMANDS = { on_off: ['on', 'off', 'toggle'], level: ['set_level'], temperature: ['set_temperature'], lock: ['lock', 'unlock'] };
  let current = null; // the device as stored, or null for a new one
  let poll = null;

  const list = (text) => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

  function status(id, text, ok) {
    const el = $(id);
    el.textContent = text;
    el.className = ok ? 'in-ok' : 'in-error';
  }

  async function loadDevices(select) {
    const devices = await api('GET', '/api/devices');
    const ul = $('dv-list');
    ul.replaceChildren();
    for (const d of devices) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = d.room ? `${d.name} (${d.room})` : d.name;
      b.dataset.device = d.id;
      b.className = current && d.id === current.id ? 'in-active' : '';
      b.addEventListener('click', () => edit(d));
      li.append(b);
      ul.append(li);
    }
    if (devices.length === 0) ul.innerHTML = '<li class="in-hint">No devices yet.</li>';
    if (select) {
      const d = devices.find((x) => x.id.toLowerCase() === select.toLowerCase());
      if (d) edit(d);
    }
  }

  function showTransport() {
    const http = $('dv-transport').value === 'Http';
    for (const el of document.querySelectorAll('.dv-mqtt')) el.hidden = http;
    for (const el of document.querySelectorAll('.dv-http')) el.hidden = !http;
  }

  function edit(d) {
    current = d;
    for (const b of $('dv-list').querySelectorAll('button')) b.className = d && b.dataset.device === d.id ? 'in-active' : '';
    $('dv-editor').hidden = false;
    $('dv-title').textContent = d ? d.name : 'New device';
    $('dv-id').value = d?.id || '';
    $('dv-id').disabled = !!d;
    $('dv-name').value = d?.name || '';
    $('dv-type').value = d?.type || 'light';
    $('dv-room').value = d?.room || '';
    $('dv-aliases').value = (d?.aliases || []).join(', ');
    $('dv-capabilities').value = (d?.capabilities || []).join(', ');
    $('dv-high-risk').checked = !!d?.highRisk;
    $('dv-high-risk-commands').value = (d?.highRiskCommands || []).join(', ');
    $('dv-permitted').value = (d?.permittedUsers || []).join(', ');
    const t = d?.transport || { kind: 'Mqtt' };
    $('dv-transport').value = t.kind || 'Mqtt';
    $('dv-command-topic').value = t.commandTopic || '';
    $('dv-state-topic').value = t.stateTopic || '';
    $('dv-url').value = t.url || '';
    showTransport();
    $('dv-delete').hidden = !d;
    $('dv-status').textContent = '';
    $('dv-live').hidden = !d;
    $('dv-audit-panel').hidden = false;
    $('dv-command-result').textContent = '';
    const options = $('dv-commands');
    options.replaceChildren();
    for (const c of d?.capabilities || []) for (const command of COMMANDS[c] || [c]) options.append(new Option(command));
    clearInterval(poll);
    if (d) {
      history.replaceState(null, '', '/devices?device=' + encodeURIComponent(d.id));
      loadState();
      poll = setInterval(loadState, 3000);
    }
    loadAudit();
  }

  async function save() {
    const isNew = !current;
    const id = $('dv-id').value.trim();
    const transport = $('dv-transport').value === 'Http'
      ? { kind: 'Http', url: $('dv-url').value.trim() }
      : { kind: 'Mqtt', commandTopic: $('dv-command-topic').value.trim() || null, stateTopic: $('dv-state-topic').value.trim() || null };
    const body = {
      id, name: $('dv-name').value.trim(), type: $('dv-type').value, room: $('dv-room').value.trim() || null,
      aliases: list($('dv-aliases').value), capabilities: list($('dv-capabilities').value), highRisk: $('dv-high-risk').checked,
      highRiskCommands: list($('dv-high-risk-commands').value), permittedUsers: list($('dv-permitted').value), transport,
    };
    try {
      const saved = isNew ? await api('POST', '/api/devices', body) : await api('PUT', '/api/devices/' + encodeURIComponent(current.id), body);
      current = saved;
      await loadDevices(saved.id);
      status('dv-status', 'Saved.', true);
    } catch (e) {
      status('dv-status', e.message, false);
    }
  }

  async function remove() {
    if (!current || !confirm(`Delete the device '${current.name}'? Workflows that name it will answer UnknownDevice.`)) return;
    try {
      await api('DELETE', '/api/devices/' + encodeURIComponent(current.id));
      clearInterval(poll);
      current = null;
      $('dv-editor').hidden = true;
      $('dv-live').hidden = true;
      history.replaceState(null, '', '/devices');
      await loadDevices();
    } catch (e) {
      status('dv-status', e.message, false);
    }
  }

  function table(headers, rows) {
    return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
      rows.map((r) => `<tr${r.attrs || ''}>${r.cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  }

  const show = (v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

  async function loadState() {
    if (!current) return;
    const id = current.id;
    try {
      const s = await api('GET', '/api/devices/' + encodeURIComponent(id) + '/state');
      if (!current || current.id !== id) return;
      $('dv-state-message').textContent = s.message;
      const entries = Object.entries(s.state || {});
      $('dv-state').innerHTML = entries.length
        ? table(['Property', 'Value'], entries.map(([k, v]) => ({ attrs: ` data-property="${esc(k)}"`, cells: [k, show(v)] })))
          + `<p class="in-hint">Updated ${esc(s.updatedAt ? new Date(s.updatedAt).toLocaleString() : '')}${s.retained ? ' (retained message)' : ''}</p>`
        : '';
    } catch (e) {
      $('dv-state-message').textContent = e.message;
    }
  }

  async function send() {
    if (!current) return;
    const raw = $('dv-value').value.trim();
    const value = raw === '' ? null : Number.isFinite(Number(raw)) ? Number(raw) : raw;
    const result = $('dv-command-result');
    result.textContent = 'Sending…';
    result.className = '';
    $('dv-send').disabled = true;
    try {
      const r = await api('POST', '/api/devices/' + encodeURIComponent(current.id) + '/commands',
        { command: $('dv-command').value.trim(), value, confirmed: $('dv-confirm').checked });
      result.textContent = `${r.outcome}: ${r.message}`;
      result.className = r.outcome === 'Done' ? 'in-ok' : 'in-error';
      result.dataset.outcome = r.outcome;
      await Promise.all([loadState(), loadAudit()]);
    } catch (e) {
      result.textContent = e.message;
      result.className = 'in-error';
      result.dataset.outcome = 'Error';
    } finally {
      $('dv-send').disabled = false;
    }
  }

  async function loadAudit() {
    try {
      const entries = await api('GET', '/api/devices/audit?take=200');
      const all = $('dv-audit-all').checked || !current;
      const shown = entries.filter((e) => all || (e.deviceId || '').toLowerCase() === current.id.toLowerCase()).slice(0, 50);
      $('dv-audit').innerHTML = shown.length
        ? table(['When', 'Device', 'Command', 'Value', 'Result', 'User', 'Channel', 'Message'], shown.map((e) => ({
          attrs: ' data-testid="audit-row"',
          cells: [new Date(e.timestamp).toLocaleString(), e.device || e.deviceId || '', e.command, show(e.value), e.result, e.userId || '', e.channel || '', e.message || ''],
        })))
        : '<p class="in-hint">No commands yet.</p>';
    } catch (e) {
      $('dv-audit').textContent = e.message;
    }
  }

  function showSignIn() {
    clearInterval(poll);
    $('dv-app').hidden = true;
    $('dv-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('dv-sign-in').hidden = true;
    $('dv-app').hidden = false;
    try {
      await loadDevices(new URL(location.href).searchParams.get('device'));
      if (!current) { $('dv-audit-panel').hidden = false; loadAudit(); }
    } catch (e) {
      status('dv-list-status', e.message, false);
    }
  }

  $('dv-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('dv-key').value.trim());
    start();
  });
  $('dv-new').addEventListener('click', () => { clearInterval(poll); edit(null); $('dv-id').focus(); });
  $('dv-transport').addEventListener('change', showTransport);
  $('dv-save').addEventListener('click', save);
  $('dv-delete').addEventListener('click', remove);
  $('dv-refresh-state').addEventListener('click', loadState);
  $('dv-send').addEventListener('click', send);
  $('dv-command').addEventListener('keydown', (e) => { if (e.key === 'Enter') send(); });
  $('dv-refresh-audit').addEventListener('click', loadAudit);
  $('dv-audit-all').addEventListener('change', loadAudit);
  start();
})();
