// The test console: sends a message as a chosen channel and user through POST /api/test-console/messages (the same inbox path as
// a real message) and shows which workflow ran, the activities it executed, the replies and a link to the instance's journal.
// ?channel=…&user=…&text=…&send=1 (the Conversations page's "Replay") fills the form and sends at once.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl, esc } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);

  function status(text, ok) {
    const el = $('tc-status');
    el.textContent = text;
    el.className = ok ? 'in-hint' : 'in-error';
  }

  async function loadChannels(preferred) {
    const select = $('tc-channel');
    let names = ['web'];
    try {
      const channels = await api('GET', '/api/channels');
      const list = Array.isArray(channels) ? channels : channels.items || [];
      names = list.filter((c) => c.enabled !== false).map((c) => c.name);
      if (names.length === 0) names = ['web'];
    } catch (e) {
      status(e.message, false);
    }
    select.replaceChildren(...names.map((n) => new Option(n, n)));
    if (preferred && !names.includes(preferred)) select.append(new Option(preferred, preferred));
    select.value = preferred && preferred.length ? preferred : names.includes('web') ? 'web' : names[0];
  }

  function render(message, r) {
    const box = document.createElement('article');
    box.className = 'tc-result';
    box.dataset.testid = 'console-result';
    box.dataset.status = r.status;
    const workflow = r.workflowInstanceId
      ? `<p data-testid="console-workflow">Workflow <b>${esc(r.workflowName || r.workflowDefinitionId)}</b> (${esc(r.workflowDefinitionId)}) · ${esc(r.workflowStatus)}
           · <a data-testid="console-instance-link" href="${esc(r.instanceUrl)}">instance journal</a></p>`
      : '<p data-testid="console-workflow" class="in-hint">No workflow took this message' + (r.replies.length ? ': the channel answered with its fallback text.' : '.') + '</p>';
    const path = r.path.length
      ? `<ol class="tc-path" data-testid="console-path">${r.path.map((s) => `<li data-activity="${esc(s.activityId)}"><b>${esc(s.activityName || s.activityId)}</b>
           <span class="in-badge">${esc(s.activityType)}</span>${s.outcomes.length ? ' → ' + s.outcomes.map(esc).join(', ') : ''}
           ${s.status !== 'Completed' ? `<span class="in-badge">${esc(s.status)}</span>` : ''}${s.error ? `<div class="in-error">${esc(s.error)}</div>` : ''}</li>`).join('')}</ol>`
      : '';
    const replies = r.replies.length
      ? r.replies.map((m) => `<div class="cv-msg cv-out" data-testid="console-reply"><div class="cv-text">${esc(m.text)}</div>${
        m.quickReplies.length ? `<div class="in-hint">Quick replies: ${m.quickReplies.map(esc).join(' · ')}</div>` : ''}</div>`).join('')
      : '<p class="in-hint">No reply.</p>';
    box.innerHTML = `<div class="cv-msg cv-in"><div class="cv-text">${esc(message.text)}</div>
        <div class="in-hint">${esc(message.channel)} · ${esc(message.userId)} · ${esc(r.elapsedMs)} ms · ${esc(r.status)}</div></div>
      ${r.error ? `<p class="in-error" data-testid="console-error">${esc(r.error)}</p>` : ''}${workflow}${path}
      <div class="tc-replies">${replies}</div>`;
    $('tc-results').prepend(box);
  }

  async function send() {
    const message = {
      channel: $('tc-channel').value, userId: $('tc-user').value.trim(), userName: $('tc-name').value.trim() || null,
      conversation: $('tc-conversation').value.trim() || null, text: $('tc-text').value,
    };
    if (!message.text.trim()) { status('Type a message first.', false); $('tc-text').focus(); return; }
    $('tc-send').disabled = true;
    status('Sending…', true);
    try {
      const r = await api('POST', '/api/test-console/messages', message);
      render(message, r);
      status('', true);
      $('tc-text').value = '';
    } catch (e) {
      status(e.message, false);
    } finally {
      $('tc-send').disabled = false;
      $('tc-text').focus();
    }
  }

  function showSignIn() {
    $('tc-app').hidden = true;
    $('tc-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('tc-sign-in').hidden = true;
    $('tc-app').hidden = false;
    const query = new URL(location.href).searchParams;
    await loadChannels(query.get('channel'));
    if (query.get('user')) $('tc-user').value = query.get('user');
    if (query.get('text')) $('tc-text').value = query.get('text');
    if (query.get('send') === '1' && query.get('text')) {
      history.replaceState(null, '', '/test-console');
      await send();
    }
    $('tc-text').focus();
  }

  $('tc-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('tc-key').value.trim());
    start();
  });
  $('tc-send').addEventListener('click', send);
  $('tc-text').addEventListener('keydown', (e) => { if (e.key === 'Enter') send(); });
  start();
})();
