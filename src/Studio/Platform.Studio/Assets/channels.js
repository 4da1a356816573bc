// The Channels page: lists channels (from the API and from the configuration), creates and edits them (secret settings
// are write-only), deletes them, shows each channel's status (connected, disabled, or error with the reason) and its inbox and
// outbox with a Retry button for dead letters.
// Uses the Studio's API key (sign-in link ?key=… or the key stored by the Studio pages).
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl } = window.PlatformPage;
  const SECRET_NAMES = ['password', 'secret', 'botToken', 'token', 'apiKey', 'authToken', 'signingSecret', 'clientSecret',
    'accessToken', 'appSecret', 'verifyToken', 'corpSecret', 'encodingAesKey', 'encryptKey', 'verificationToken'];
  // The settings a new channel of these kinds starts with (names as in docs/channels.md; the console names in the placeholder).
  const KIND_SETTINGS = {
    WhatsApp: [['phoneNumberId', 'Phone number ID'], ['accessToken', 'Access token (System User)'], ['appSecret', 'App secret'],
      ['verifyToken', 'Verify token (you choose it)'], ['templateName', 'Template for replies after 24 hours'], ['templateLanguage', 'en_US']],
    Discord: [['applicationId', 'Application ID'], ['publicKey', 'Public key (hex)'], ['botToken', 'Bot token']],
    WeChat: [['appId', 'AppID (开发者ID)'], ['appSecret', 'AppSecret (开发者密码)'], ['token', 'Token (令牌)'],
      ['encodingAesKey', 'EncodingAESKey (安全模式; empty for 明文模式)'], ['passiveReplyMilliseconds', '4500']],
    WeCom: [['corpId', 'CorpID (企业ID)'], ['agentId', 'AgentId'], ['corpSecret', 'Secret'], ['token', 'Token'],
      ['encodingAesKey', 'EncodingAESKey'], ['passiveReplyMilliseconds', '4500']],
    Feishu: [['appId', 'App ID (cli_…)'], ['appSecret', 'App Secret'], ['encryptKey', 'Encrypt Key (加密策略)'],
      ['verificationToken', 'Verification Token'], ['apiBaseUrl', 'https://open.feishu.cn/ (Lark: https://open.larksuite.com/)']],
  };
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);
  let current = null; // the channel being edited (as answered by the API), or null for a new one

  function status(text, ok) {
    const el = $('ch-status');
    el.textContent = text;
    el.className = ok ? 'in-ok' : 'in-error';
  }

  function esc(s) {
    return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  function when(s) {
    return s ? new Date(s).toLocaleString() : '';
  }

  // ---- channel list -----------------------------------------------------------------------------------------

  async function loadChannels(select) {
    const channels = await api('GET', '/api/channels');
    const list = $('ch-list');
    list.replaceChildren();
    for (const c of channels) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.channel = c.name;
      b.className = current && current.name === c.name ? 'in-active' : '';
      const state = c.status ? c.status.state : (c.enabled ? (c.error ? 'error' : 'connected') : 'disabled');
      b.title = c.status && c.status.reason ? `${state}: ${c.status.reason}` : state;
      b.innerHTML = `${esc(c.name)} <span class="in-badge">${esc(c.kind)}</span>` +
        (c.source === 'Configuration' ? ' <span class="in-badge">config</span>' : '') +
        ` <span class="in-badge" data-testid="channel-state" style="color:${state === 'error' ? '#b3261e' : state === 'connected' ? '#1e7b34' : '#5a6475'}">${esc(state)}</span>`;
      b.addEventListener('click', () => edit(c));
      li.append(b);
      list.append(li);
    }
    if (select) {
      const c = channels.find((x) => x.name.toLowerCase() === select.toLowerCase());
      if (c) edit(c);
    }
    return channels;
  }

  // ---- editor -----------------------------------------------------------------------------------------------

  function settingRow(key, value, secretSet) {
    const row = document.createElement('div');
    row.className = 'in-kv';
    row.dataset.testid = 'setting';
    const k = document.createElement('input');
    k.placeholder = 'name';
    k.value = key || '';
    k.className = 'ch-key';
    k.setAttribute('data-testid', 'setting-name');
    const v = document.createElement('input');
    v.className = 'ch-value';
    v.setAttribute('data-testid', 'setting-value');
    if (secretSet) {
      // A stored secret: never shown; an empty input keeps it, a typed value replaces it.
      row.dataset.secret = 'set';
      k.readOnly = true;
      v.type = 'password';
      v.autocomplete = 'new-password';
      v.placeholder = '•••• set (type to replace)';
    } else {
      v.placeholder = 'value';
      v.value = value === undefined || value === null ? '' : (typeof value === 'string' ? value : JSON.stringify(value));
      if (SECRET_NAMES.includes(key)) { v.type = 'password'; v.autocomplete = 'new-password'; }
    }
    k.addEventListener('input', () => {
      if (!row.dataset.secret) v.type = SECRET_NAMES.includes(k.value.trim()) ? 'password' : 'text';
    });
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'in-btn in-danger';
    del.textContent = 'Remove';
    del.setAttribute('data-testid', 'remove-setting');
    del.addEventListener('click', () => { row.remove(); });
    row.append(k, v, del);
    if (secretSet) {
      const note = document.createElement('span');
      note.className = 'in-hint';
      note.textContent = '•••• set';
      note.style.gridColumn = '1 / -1';
      row.append(note);
    }
    return row;
  }

  function edit(c) {
    current = c && c.name ? c : null;
    const readOnly = !!(c && c.source === 'Configuration');
    $('ch-editor').hidden = false;
    $('ch-title').textContent = current ? `Channel ${current.name}` : 'New channel';
    $('ch-name').value = current ? current.name : '';
    $('ch-name').readOnly = !!current;
    $('ch-kind').value = current ? current.kind : 'Telegram';
    $('ch-kind').disabled = !!current;
    $('ch-enabled').checked = current ? current.enabled : true;
    $('ch-readonly').hidden = !readOnly;
    $('ch-error').textContent = current && current.error ? 'Configuration error: ' + current.error : '';
    showState(current && current.status);
    $('ch-conversations').hidden = !current;
    if (current) $('ch-conversations').href = '/conversations?channel=' + encodeURIComponent(current.name);
    const endpoints = current ? Object.entries(current.endpoints || {}) : [];
    $('ch-endpoints').innerHTML = endpoints.length
      ? 'Give the service these URLs: ' + endpoints.map(([k, u]) => `<div>${esc(k)}: <code data-testid="endpoint">${esc(location.origin + u)}</code></div>`).join('')
      : '';
    const settings = $('ch-settings');
    settings.replaceChildren();
    if (current) {
      for (const [k, v] of Object.entries(current.settings || {})) settings.append(settingRow(k, v, false));
      for (const s of current.secrets || []) settings.append(settingRow(s, null, true));
    } else {
      settings.append(settingRow('', '', false));
    }
    for (const el of $('ch-editor').querySelectorAll('input, select, button')) {
      if (readOnly && el.id !== 'ch-name') el.disabled = true;
      else if (!readOnly && !(el.id === 'ch-kind' && current)) el.disabled = false;
    }
    status('', true);
    for (const b of $('ch-list').querySelectorAll('button')) b.className = current && b.dataset.channel === current.name ? 'in-active' : '';
    $('ch-messages').hidden = !current;
    if (current) loadMessages();
    showHealth(current);
  }

  function showState(state) {
    $('ch-state').textContent = state ? 'Status: ' + state.state + (state.reason ? ' (' + state.reason + ')' : '') : '';
    $('ch-state').className = state && state.state === 'error' ? 'in-error' : state && state.state === 'connected' ? 'in-ok' : 'in-hint';
  }

  function parseValue(text) {
    const t = text.trim();
    if (t === 'true' || t === 'false' || /^-?\d+(\.\d+)?$/.test(t) || t.startsWith('[') || t.startsWith('{')) {
      try { return JSON.parse(t); } catch { /* keep the text */ }
    }
    return text;
  }

  function collect() {
    const settings = {};
    for (const row of $('ch-settings').children) {
      const key = row.querySelector('.ch-key').value.trim();
      const value = row.querySelector('.ch-value').value;
      if (!key) continue;
      if (row.dataset.secret === 'set' && value === '') continue; // omitted secrets keep their stored value
      settings[key] = parseValue(value);
    }
    return { name: $('ch-name').value.trim(), kind: $('ch-kind').value, enabled: $('ch-enabled').checked, settings };
  }

  async function save() {
    const body = collect();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(body.name)) {
      status('The name must be 1-64 letters, digits, - or _ (it appears in URLs), e.g. telegram.', false);
      return;
    }
    try {
      const saved = current
        ? await api('PUT', '/api/channels/' + encodeURIComponent(current.name), body)
        : await api('POST', '/api/channels', body);
      await loadChannels();
      edit(saved);
      status('Saved.', true);
    } catch (e) {
      status(e.message, false);
    }
  }

  async function remove() {
    if (!current) { $('ch-editor').hidden = true; return; }
    if (!confirm(`Delete the channel ${current.name}?`)) return;
    try {
      await api('DELETE', '/api/channels/' + encodeURIComponent(current.name));
      current = null;
      $('ch-editor').hidden = true;
      $('ch-messages').hidden = true;
      $('ch-health').hidden = true;
      await loadChannels();
    } catch (e) {
      status(e.message, false);
    }
  }

  // ---- messages ---------------------------------------------------------------------------------------------

  function text(payload) {
    try {
      const p = JSON.parse(payload);
      return p.text ?? p.Text ?? payload;
    } catch { return payload; }
  }

  async function loadMessages() {
    if (!current) return;
    const name = encodeURIComponent(current.name);
    const inboxEl = $('ch-inbox');
    const outboxEl = $('ch-outbox');
    try {
      const inbox = await api('GET', '/api/messages/inbox?channel=' + name);
      inboxEl.innerHTML = inbox.items.length === 0 ? '<p class="in-hint">No messages received.</p>' :
        `<table><thead><tr><th>Received</th><th>Conversation</th><th>Text</th><th>Status</th><th>Error</th></tr></thead><tbody>` +
        inbox.items.map((m) => `<tr data-testid="inbox-row" data-id="${esc(m.id)}"><td>${esc(when(m.receivedAt))}</td><td>${esc(m.conversationKey)}</td>` +
          `<td>${esc(text(m.payload))}</td><td>${esc(m.status)}</td><td class="in-error">${esc(m.error)}</td></tr>`).join('') + '</tbody></table>';
      const outbox = await api('GET', '/api/messages/outbox?channel=' + name);
      outboxEl.innerHTML = outbox.items.length === 0 ? '<p class="in-hint">No messages sent.</p>' :
        `<table><thead><tr><th>Created</th><th>Conversation</th><th>Text</th><th>Status</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>` +
        outbox.items.map((m) => `<tr data-testid="outbox-row" data-id="${esc(m.id)}" data-status="${esc(m.status)}"><td>${esc(when(m.createdAt))}</td>` +
          `<td>${esc(m.conversationKey)}</td><td>${esc(text(m.payload))}</td><td data-testid="outbox-status">${esc(m.status)}</td><td>${esc(m.attempts)}</td>` +
          `<td class="in-error" data-testid="outbox-error">${esc(m.lastError)}</td>` +
          `<td>${m.status === 'DeadLettered' ? `<button type="button" class="in-btn in-secondary" data-testid="retry" data-id="${esc(m.id)}">Retry</button>` : ''}</td></tr>`).join('') +
        '</tbody></table>';
      for (const b of outboxEl.querySelectorAll('button[data-testid="retry"]')) b.addEventListener('click', () => retry(b.dataset.id));
      // The status follows the deliveries (a dead letter puts the channel in error): show it as it is now.
      const fresh = await api('GET', '/api/channels/' + name);
      if (current && fresh.name === current.name) { current.status = fresh.status; showState(fresh.status); }
      await loadChannels();
    } catch (e) {
      outboxEl.innerHTML = `<p class="in-error">${esc(e.message)}</p>`;
    }
  }

  async function retry(id) {
    try {
      await api('POST', '/api/messages/outbox/' + encodeURIComponent(id) + '/retry');
      await loadMessages();
      // The dispatcher sends in the background: refresh once more shortly after.
      setTimeout(loadMessages, 1500);
    } catch (e) {
      $('ch-outbox').insertAdjacentHTML('afterbegin', `<p class="in-error">${esc(e.message)}</p>`);
    }
  }

  // ---- channel health (issue #20 item 5) -------------------------------------------------------------------
  // GET /api/channels/{name}/health: last inbound/outbound time, the error rate of the recent window, the last error
  // with how to fix it. POST /api/channels/{name}/test sends a test message through the outbox; the page follows it
  // at /api/messages/outbox/{id} until it is sent or dead-lettered.

  function showHealth(channel) {
    $('ch-health').hidden = !channel;
    $('ch-test-result').textContent = '';
    if (channel) loadHealth();
  }

  async function loadHealth() {
    if (!current) return;
    try {
      const h = await api('GET', '/api/channels/' + encodeURIComponent(current.name) + '/health');
      const rate = h.attempts === 0 ? 'no deliveries' : `${Math.round(h.errorRate * 100)}% failed (${h.failures} of ${h.attempts})`;
      $('ch-health-facts').innerHTML =
        `<div>Last inbound: <span data-testid="health-last-inbound">${esc(when(h.lastInboundAt) || 'never')}</span></div>` +
        `<div>Last outbound: <span data-testid="health-last-outbound">${esc(when(h.lastOutboundAt) || 'never')}</span></div>` +
        `<div>Errors in the last ${esc(h.windowMinutes)} minutes: <span data-testid="health-error-rate">${esc(rate)}</span></div>`;
      $('ch-health-error').innerHTML = h.lastError
        ? `Last error (${esc(when(h.lastError.at))}): <span data-testid="health-last-error">${esc(h.lastError.message)}</span>` +
          `<div class="in-hint">How to fix: <span data-testid="health-fix">${esc(h.lastError.fix)}</span></div>`
        : '';
    } catch (e) {
      $('ch-health-facts').textContent = e.message;
    }
  }

  async function sendTest() {
    if (!current) return;
    const result = $('ch-test-result');
    const to = $('ch-test-to').value.trim();
    if (!to) { result.className = 'in-error'; result.textContent = 'Type a recipient of this channel first.'; return; }
    const name = current.name;
    result.className = 'in-hint';
    result.textContent = 'Sending…';
    try {
      const queued = await api('POST', '/api/channels/' + encodeURIComponent(name) + '/test', { to, text: $('ch-test-text').value || null });
      let m = queued;
      for (let i = 0; i < 60 && m.status === 'Pending'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        m = await api('GET', '/api/messages/outbox/' + encodeURIComponent(queued.id));
      }
      if (!current || current.name !== name) return;
      result.dataset.status = m.status;
      if (m.status === 'Sent') { result.className = 'in-ok'; result.textContent = `Test message delivered to ${to}.`; }
      else if (m.status === 'DeadLettered') { result.className = 'in-error'; result.textContent = `Test message failed: ${m.lastError || 'unknown error'}`; }
      else { result.className = 'in-hint'; result.textContent = `Still being retried: ${m.lastError || ''}`; }
      await loadHealth();
      await loadMessages();
    } catch (e) {
      result.className = 'in-error';
      result.textContent = e.message;
    }
  }

  // ---- start ------------------------------------------------------------------------------------------------

  function showSignIn() {
    $('ch-app').hidden = true;
    $('ch-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('ch-sign-in').hidden = true;
    $('ch-app').hidden = false;
    try {
      await loadChannels(new URL(location.href).searchParams.get('channel'));
    } catch (e) {
      $('ch-list-status').textContent = e.message;
    }
  }

  $('ch-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('ch-key').value.trim());
    start();
  });
  $('ch-new').addEventListener('click', () => edit(null));
  $('ch-kind').addEventListener('change', () => {
    // A new channel of a kind with known settings: offer its setting rows (existing rows with a value are kept).
    const fields = KIND_SETTINGS[$('ch-kind').value];
    if (current || !fields) return;
    const settings = $('ch-settings');
    for (const row of [...settings.children]) if (!row.querySelector('.ch-key').value.trim() && !row.querySelector('.ch-value').value) row.remove();
    const present = new Set([...settings.children].map((row) => row.querySelector('.ch-key').value.trim()));
    for (const [key, hint] of fields) {
      if (present.has(key)) continue;
      const row = settingRow(key, '', false);
      row.querySelector('.ch-value').placeholder = hint;
      settings.append(row);
    }
  });
  $('ch-add-setting').addEventListener('click', () => $('ch-settings').append(settingRow('', '', false)));
  $('ch-save').addEventListener('click', save);
  $('ch-delete').addEventListener('click', remove);
  $('ch-refresh').addEventListener('click', loadMessages);
  $('ch-health-refresh').addEventListener('click', loadHealth);
  $('ch-test-send').addEventListener('click', sendTest);
  start();
})();
