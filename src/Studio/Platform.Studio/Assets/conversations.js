// The Conversations page: the conversations of every channel (newest activity first, filtered by channel, paged) and,
// for the one opened, its messages in and out in time order with their status, errors, delivery reports and a link to
// the instance viewer of the workflow instance that handled each message. Reads /api/conversations with the Studio's
// API key (sign-in link ?key=… or the key stored by the Studio pages). Text is always set as text, never as HTML.
// Human hand-off: the conversations waiting for a person (/api/handoffs, longest waiting first, refreshed every 5 s), and
// for an open one handed off: Assign to me / to another agent, a reply box (sent through the channel's outbox) and Return to bot.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl } = window.PlatformPage;
  const PAGE = 25;
  const $ = (id) => document.getElementById(id);
  const api = (path) => window.PlatformPage.api('GET', path, undefined, showSignIn);
  const post = (path, body) => window.PlatformPage.api('POST', path, body, showSignIn);
  let handoffs = new Map(); // conversation key -> the waiting hand-off
  let agentsLoaded = false;
  let skip = 0;
  let openKey = null;
  let openChannel = null; // the open conversation's channel (for Replay)

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function when(s) {
    return s ? new Date(s).toLocaleString() : '';
  }

  // Query state: ?channel=…&key=… so that a conversation can be linked to and survives a reload.
  function setUrl() {
    const url = new URL(location.href);
    const channel = $('cv-channel').value;
    if (channel) url.searchParams.set('channel', channel); else url.searchParams.delete('channel');
    if (openKey) url.searchParams.set('conversation', openKey); else url.searchParams.delete('conversation');
    history.replaceState(history.state, '', url.pathname + url.search);
  }

  // ---- channels (for the filter) ----------------------------------------------------------------------------

  async function loadChannels(selected) {
    const select = $('cv-channel');
    try {
      const channels = await api('/api/channels');
      for (const c of channels) select.append(el('option', { value: c.name, text: `${c.name} (${c.kind})` }));
    } catch (e) {
      $('cv-list-status').textContent = e.message;
    }
    if (selected) {
      if (![...select.options].some((o) => o.value === selected)) select.append(el('option', { value: selected, text: selected }));
      select.value = selected;
    }
  }

  // ---- list -------------------------------------------------------------------------------------------------

  async function loadList() {
    const channel = $('cv-channel').value;
    const list = $('cv-list');
    $('cv-list-status').textContent = '';
    try {
      const page = await api(`/api/conversations?skip=${skip}&take=${PAGE}` + (channel ? '&channel=' + encodeURIComponent(channel) : ''));
      list.replaceChildren();
      if (page.items.length === 0) list.append(el('li', { class: 'cv-hint', text: channel ? 'No conversations on this channel yet.' : 'No conversations yet.' }));
      for (const c of page.items) {
        const button = el('button', { type: 'button', 'data-testid': 'conversation-item', 'data-key': c.key, class: c.key === openKey ? 'cv-active' : '' },
          el('div', { class: 'cv-row' }, el('span', { class: 'cv-badge', text: c.channel }),
            el('span', { class: 'cv-meta', text: `${c.inboundCount} in · ${c.outboundCount} out · ${when(c.lastActivityAt)}` })),
          el('div', { class: 'cv-last', 'data-testid': 'last-text', text: (c.lastDirection === 'out' ? '↩ ' : '') + (c.lastText ?? '(no text)') }),
          el('div', { class: 'cv-key', text: c.key }));
        button.addEventListener('click', () => open(c.key));
        list.append(el('li', null, button));
      }
      $('cv-newer').disabled = skip === 0;
      $('cv-older').disabled = skip + page.items.length >= page.totalCount;
      $('cv-range').textContent = page.totalCount === 0 ? '' : `${skip + 1}–${skip + page.items.length} of ${page.totalCount}`;
    } catch (e) {
      $('cv-list-status').textContent = e.message;
    }
  }

  // ---- thread -----------------------------------------------------------------------------------------------

  function statusBadge(m) {
    const bad = m.status === 'Failed' || m.status === 'DeadLettered';
    const good = m.status === 'Processed' || m.status === 'Sent';
    return el('span', { class: 'cv-badge' + (bad ? ' cv-bad' : good ? ' cv-good' : ''), 'data-testid': 'message-status', text: m.status });
  }

  function message(m) {
    const meta = el('div', { class: 'cv-meta cv-row' },
      el('span', { 'data-testid': 'message-author', text: (m.direction === 'in' ? (m.sender && (m.sender.name || m.sender.id)) || 'received'
        : m.agent ? m.agent + ' (person)' : 'reply') + ' · ' + when(m.at) }),
      statusBadge(m));
    if (m.deliveryStatus) {
      const failed = ['failed', 'undelivered', 'canceled'].includes(m.deliveryStatus);
      meta.append(el('span', { class: 'cv-badge' + (failed ? ' cv-bad' : ''), 'data-testid': 'delivery-status',
        text: m.deliveryStatus + (m.deliveryErrorCode ? ' ' + m.deliveryErrorCode : '') }));
    }
    if (m.workflowInstanceId) {
      meta.append(el('a', { href: '/workflows/instances/' + encodeURIComponent(m.workflowInstanceId) + '/view', 'data-testid': 'instance-link',
        title: 'Workflow instance ' + m.workflowInstanceId, text: 'instance …' + m.workflowInstanceId.slice(-8) }));
    }
    if (m.direction === 'in' && m.text) {
      // Replay: the test console sends the same text as the same user on the same channel (in a console conversation) and shows the run.
      const query = new URLSearchParams({ channel: openChannel || '', user: (m.sender && m.sender.id) || 'test-console', text: m.text, send: '1' });
      meta.append(el('a', { href: '/test-console?' + query, 'data-testid': 'replay', title: 'Send this message again in the test console', text: 'replay' }));
    }
    return el('div', { class: 'cv-msg ' + (m.direction === 'in' ? 'cv-in' : 'cv-out') + (m.agent ? ' cv-agent' : ''), 'data-testid': 'message',
      'data-direction': m.direction, 'data-id': m.id, 'data-agent': m.agent || undefined },
      el('div', { class: 'cv-text', 'data-testid': 'message-text', text: m.text ?? '' }),
      m.attachments ? el('div', { class: 'cv-hint', text: `${m.attachments} attachment(s)` }) : null,
      meta,
      m.error ? el('div', { class: 'cv-error', 'data-testid': 'message-error', text: m.error }) : null);
  }

  async function loadThread() {
    if (!openKey) return;
    const thread = $('cv-thread');
    try {
      const t = await api('/api/conversations/' + encodeURIComponent(openKey));
      openChannel = t.channel;
      $('cv-title').textContent = t.key;
      $('cv-summary').textContent = `${t.channel} · ${t.inboundCount} in · ${t.outboundCount} out` + (t.truncated ? ' · only the newest messages are shown' : '');
      thread.replaceChildren(...t.messages.map(message));
      showHandoff();
    } catch (e) {
      thread.replaceChildren(el('p', { class: 'cv-error', text: e.message }));
    }
  }

  // ---- human hand-off ------------------------------------------------------------------------------------------

  function waited(seconds) {
    if (seconds < 60) return `${seconds} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
    return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  }

  async function loadQueue() {
    const list = $('cv-queue-list');
    try {
      const queue = await api('/api/handoffs');
      handoffs = new Map(queue.items.map((h) => [h.conversationKey, h]));
      $('cv-queue-count').textContent = String(queue.count);
      $('cv-queue-status').textContent = '';
      list.replaceChildren();
      if (queue.items.length === 0) list.append(el('li', { class: 'cv-hint', text: 'Nobody waits for a person.' }));
      for (const h of queue.items) {
        const button = el('button', { type: 'button', 'data-testid': 'handoff-item', 'data-key': h.conversationKey, class: h.conversationKey === openKey ? 'cv-active' : '' },
          el('div', { class: 'cv-row' }, el('span', { class: 'cv-badge', text: h.channel }), h.queue ? el('span', { class: 'cv-badge', text: h.queue }) : null,
            el('span', { class: 'cv-wait', 'data-testid': 'waiting-time', text: 'waiting ' + waited(h.waitingSeconds) }),
            el('span', { class: 'cv-meta', 'data-testid': 'assigned-to', text: h.assignedTo ? '· ' + h.assignedTo : '· not taken' })),
          el('div', { class: 'cv-last', text: h.reason || '(no reason given)' }),
          el('div', { class: 'cv-key', text: h.conversationKey }));
        button.addEventListener('click', () => open(h.conversationKey));
        list.append(el('li', null, button));
      }
    } catch (e) {
      $('cv-queue-status').textContent = e.message;
    }
    if (window.PlatformPage.refreshHandoffBadge) window.PlatformPage.refreshHandoffBadge();
    showHandoff();
  }

  async function loadAgents() {
    if (agentsLoaded) return;
    try {
      const agents = await api('/api/handoffs/agents');
      $('cv-assign-user').replaceChildren(...agents.map((a) => el('option', { value: a.userName, text: `${a.userName} (${a.role})` })));
      agentsLoaded = true;
    } catch (e) {
      $('cv-handoff-status').textContent = e.message;
    }
  }

  // Shows the agent's panel, the reply box and Return to bot while the open conversation waits for a person.
  function showHandoff() {
    const h = openKey ? handoffs.get(openKey) : null;
    $('cv-handoff').hidden = !h;
    $('cv-reply-form').hidden = !h;
    $('cv-return-form').hidden = !h;
    if (!h) return;
    $('cv-handoff-info').textContent = `Handled by people${h.queue ? ' (queue ' + h.queue + ')' : ''} · waiting ${waited(h.waitingSeconds)} · `
      + (h.assignedTo ? 'assigned to ' + h.assignedTo : 'not taken yet') + (h.reason ? ' · ' + h.reason : '');
    loadAgents();
  }

  async function act(what, path, body) {
    $('cv-handoff-status').textContent = '';
    try {
      const result = await post('/api/handoffs/' + encodeURIComponent(openKey) + path, body);
      await loadQueue();
      await loadThread();
      return result;
    } catch (e) {
      $('cv-handoff-status').textContent = what + ': ' + e.message;
      return null;
    }
  }

  let replyId = null; // one id per reply, so a resend after a network error sends it once
  async function sendReply() {
    const text = $('cv-reply-text').value.trim();
    if (!text || !openKey) return;
    replyId = replyId || (Date.now().toString(36) + Math.random().toString(36).slice(2, 10));
    $('cv-reply-send').disabled = true;
    const result = await act('Reply', '/reply', { text, clientMessageId: replyId });
    $('cv-reply-send').disabled = false;
    if (result) {
      replyId = null;
      $('cv-reply-text').value = '';
    }
  }

  function open(key) {
    openKey = key;
    $('cv-detail').hidden = false;
    $('cv-title').textContent = key;
    for (const b of $('cv-list').querySelectorAll('button')) b.className = b.dataset.key === key ? 'cv-active' : '';
    for (const b of $('cv-queue-list').querySelectorAll('button')) b.className = b.dataset.key === key ? 'cv-active' : '';
    $('cv-handoff-status').textContent = '';
    showHandoff();
    setUrl();
    return loadThread();
  }

  // ---- start ------------------------------------------------------------------------------------------------

  function showSignIn() {
    $('cv-app').hidden = true;
    $('cv-sign-in').hidden = false;
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('cv-sign-in').hidden = true;
    $('cv-app').hidden = false;
    const url = new URL(location.href);
    await loadChannels(url.searchParams.get('channel'));
    await loadQueue();
    await loadList();
    if (url.searchParams.get('conversation')) await open(url.searchParams.get('conversation'));
  }

  $('cv-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('cv-api-key').value.trim());
    start();
  });
  $('cv-channel').addEventListener('change', () => { skip = 0; setUrl(); loadList(); });
  $('cv-refresh').addEventListener('click', () => { loadQueue(); loadList(); });
  $('cv-assign-me').addEventListener('click', () => act('Assign', '/assign', {}));
  $('cv-assign').addEventListener('click', () => act('Assign', '/assign', { userName: $('cv-assign-user').value }));
  $('cv-reply-form').addEventListener('submit', (e) => { e.preventDefault(); sendReply(); });
  $('cv-reply-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
  });
  $('cv-return-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const result = await act('Return to bot', '/return', { decision: $('cv-return-decision').value.trim() });
    if (result) {
      $('cv-return-decision').value = '';
      $('cv-handoff-status').textContent = result.resumed ? 'Returned to the bot: the workflow goes on.' : 'Returned to the bot (the workflow no longer waited).';
    }
  });
  // Live: the queue (and an open conversation handled by people) refresh every 5 s while the tab is visible.
  setInterval(() => {
    if (document.hidden || $('cv-app').hidden) return;
    loadQueue();
    if (openKey && handoffs.has(openKey)) loadThread();
  }, 5000);
  $('cv-reload').addEventListener('click', loadThread);
  $('cv-newer').addEventListener('click', () => { skip = Math.max(0, skip - PAGE); loadList(); });
  $('cv-older').addEventListener('click', () => { skip += PAGE; loadList(); });
  start();
})();
