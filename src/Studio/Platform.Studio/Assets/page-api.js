// Shared by the Studio shell (studio.js) and our own pages (Intents, Channels, Conversations, Devices, Data sources, Test console):
// the one navigation bar of every page (rendered into <header class="ps-bar"></header>), the API key the Studio stored (or a
// sign-in link ?key=…, taken out of the address bar at once) and a fetch wrapper that turns problem+json answers into readable
// errors. Loaded before the page's script; exposes window.PlatformPage.
'use strict';
(function () {
  const KEY_ITEM = 'platform-studio.api-key';
  // Signed in with a user account (password, single sign-on or the first-start link): the HttpOnly cookie carries the
  // session, the page only remembers that it has one. readKey() then answers SESSION instead of a key.
  const SESSION_ITEM = 'platform-studio.session';
  const SESSION = '@session';

  // Every page of the Studio, in the order of the bar. `match` tells which entry is the current page.
  const PAGES = [
    { href: '/workflows/definitions', text: 'Workflows', section: 'definitions', match: /^\/(?:workflows\/definitions(?:\/.*)?)?$/ },
    { href: '/workflows/instances', text: 'Instances', section: 'instances', match: /^\/workflows\/instances(?:\/.*)?$/ },
    { href: '/intents', text: 'Intents', section: 'intents', match: /^\/intents\/?$/ },
    { href: '/channels', text: 'Channels', section: 'channels', match: /^\/channels\/?$/ },
    { href: '/conversations', text: 'Conversations', section: 'conversations', match: /^\/conversations\/?$/ },
    { href: '/devices', text: 'Devices', section: 'devices', match: /^\/devices\/?$/ },
    { href: '/data-sources', text: 'Data sources', section: 'data-sources', match: /^\/data-sources\/?$/ },
    { href: '/knowledge', text: 'Knowledge', section: 'knowledge', match: /^\/knowledge\/?$/ },
    { href: '/test-console', text: 'Test console', section: 'test-console', match: /^\/test-console\/?$/ },
    { href: '/templates', text: 'Templates', section: 'templates', match: /^\/templates\/?$/ },
    { href: '/packs', text: 'Packs', section: 'packs', match: /^\/packs\/?$/ },
    { href: '/keys', text: 'Keys', section: 'keys', match: /^\/keys\/?$/ },
    { href: '/users', text: 'Users', section: 'users', match: /^\/users\/?$/ },
    { href: '/audit', text: 'Audit', section: 'audit', match: /^\/audit\/?$/ },
    // Hangfire's own dashboard (not one of our pages): the link carries the key, which the dashboard turns into a cookie.
    { href: '/hangfire', text: 'Hangfire', section: 'hangfire', withKey: true },
  ];

  // Fills <header class="ps-bar"> with the logo, the links to every page (the current one marked) and Sign out.
  function renderHeader() {
    const header = document.querySelector('header.ps-bar');
    if (!header) return;
    header.innerHTML = `
      <a class="ps-brand" href="/workflows/definitions" title="Workflow Studio">
        <img src="_platform-studio/logo.svg" alt="" width="22" height="22"><span>Workflow Studio</span></a>
      <nav class="ps-nav" aria-label="Studio"></nav>
      <span class="ps-spacer"></span>
      <span id="ps-user" class="in-hint" data-testid="signed-in-user"></span>
      <a id="ps-sign-in-link" href="/signin" data-testid="sign-in-link" hidden>Sign in</a>
      <button type="button" id="ps-sign-out" class="ps-link-button" data-testid="sign-out" hidden>Sign out</button>`;
    const nav = header.querySelector('.ps-nav');
    for (const page of PAGES) {
      const a = document.createElement('a');
      a.href = page.href;
      a.textContent = page.text;
      a.dataset.section = page.section;
      a.dataset.testid = 'nav-' + page.section;
      if (page.match && page.match.test(location.pathname)) a.setAttribute('aria-current', 'page');
      if (page.withKey) {
        a.addEventListener('click', (e) => {
          const key = readKey();
          if (!key || key === SESSION) return;
          e.preventDefault();
          location.assign(page.href + '?key=' + encodeURIComponent(key));
        });
      }
      nav.append(a);
    }
    header.querySelector('#ps-sign-out').addEventListener('click', async () => {
      const session = readKey() === SESSION;
      clearKey();
      if (session) {
        try { await fetch('/api/auth/signout', { method: 'POST', credentials: 'same-origin', headers: { 'X-Platform-Request': '1' } }); } catch { /* offline */ }
        location.assign('/signin');
        return;
      }
      location.reload();
    });
    updateHeader();
  }

  // Sign out shows only with a key; the links hide while signed out (the page then shows its sign-in form only).
  function updateHeader() {
    const signedIn = !!readKey();
    const button = document.getElementById('ps-sign-out');
    if (button) button.hidden = !signedIn;
    const link = document.getElementById('ps-sign-in-link');
    if (link) link.hidden = signedIn || location.pathname === '/signin';
    const user = document.getElementById('ps-user');
    if (user) {
      let name = '';
      try { name = readKey() === SESSION ? (localStorage.getItem(SESSION_ITEM) || '') : ''; } catch { /* storage disabled */ }
      user.textContent = name;
    }
    document.body.classList.toggle('ps-signed-out', !signedIn);
  }

  // The stored API key, SESSION when signed in with a user account (cookie), or null.
  function readKey() {
    try {
      return sessionStorage.getItem(KEY_ITEM) || localStorage.getItem(KEY_ITEM) || (localStorage.getItem(SESSION_ITEM) !== null ? SESSION : null);
    } catch { return null; }
  }

  // Remembers that the cookie holds a session of the user `name` (after /api/auth/signin, the SSO return or the first-start link).
  function storeSession(name) {
    clearKey();
    try { localStorage.setItem(SESSION_ITEM, name || ''); } catch { /* storage disabled */ }
    updateHeader();
  }

  // Remembered keys go to localStorage (every tab, after a restart), the others to sessionStorage (this tab only).
  function storeKey(key, remember = true) {
    clearKey();
    try { (remember ? localStorage : sessionStorage).setItem(KEY_ITEM, key); } catch { /* storage disabled */ }
    updateHeader();
  }

  function clearKey() {
    try { sessionStorage.removeItem(KEY_ITEM); } catch { /* ignore */ }
    try { localStorage.removeItem(KEY_ITEM); } catch { /* ignore */ }
    try { localStorage.removeItem(SESSION_ITEM); } catch { /* ignore */ }
    updateHeader();
  }

  // A sign-in link's key is stored, then removed from the address (and so from the history and any later Referer).
  function takeKeyFromUrl() {
    const url = new URL(location.href);
    if (!url.searchParams.has('key')) return;
    const key = (url.searchParams.get('key') || '').trim();
    url.searchParams.delete('key');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    if (key) storeKey(key);
  }

  // Calls the API with the stored key. 401 calls onUnauthorized (the page shows its sign-in hint) and throws; other
  // errors throw the problem's title, then its detail or its list of errors.
  async function api(method, url, body, onUnauthorized) {
    const key = readKey();
    const session = key === SESSION;
    const response = await fetch(url.startsWith('/') ? location.origin + url : url, {
      method,
      headers: Object.assign(session ? { 'X-Platform-Request': '1' } : { Authorization: 'ApiKey ' + key },
        body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: session ? 'same-origin' : 'omit',
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { title: text }; }
    if (response.status === 401) {
      if (session) {
        clearKey();
        location.assign('/signin?returnUrl=' + encodeURIComponent(location.pathname + location.search));
        throw new Error('The session has ended: sign in again.');
      }
      if (onUnauthorized) onUnauthorized();
      throw new Error('The API key was rejected: sign in again.');
    }
    if (!response.ok) {
      const problem = data || {};
      const errors = Array.isArray(problem.errors) && problem.errors.length > 1 ? '\n• ' + problem.errors.join('\n• ') : '';
      throw new Error((problem.title || ('HTTP ' + response.status)) + (problem.detail && !errors && problem.detail !== problem.title ? '\n' + problem.detail : '') + errors);
    }
    return data;
  }

  // Escapes text for innerHTML.
  function esc(s) {
    return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  // The count of conversations waiting for a person (human hand-off) on the Conversations link, refreshed every 15 s while
  // signed in. A plain fetch: a failed poll must not sign anyone out.
  async function refreshHandoffBadge() {
    const link = document.querySelector('.ps-nav a[data-section="conversations"]');
    const key = readKey();
    if (!link || !key) return;
    try {
      const session = key === SESSION;
      const response = await fetch(location.origin + '/api/handoffs', {
        headers: session ? { 'X-Platform-Request': '1' } : { Authorization: 'ApiKey ' + key }, cache: 'no-store', credentials: session ? 'same-origin' : 'omit',
      });
      if (!response.ok) return;
      const data = await response.json();
      let badge = link.querySelector('.ps-count');
      if (!badge) {
        badge = document.createElement('span');
        badge.className = 'ps-count';
        badge.dataset.testid = 'handoff-count';
        link.append(badge);
      }
      badge.textContent = data.count > 0 ? String(data.count) : '';
      badge.hidden = !(data.count > 0);
      badge.title = `${data.count} conversation(s) wait for a person, ${data.unassigned} not taken yet`;
    } catch { /* offline: try again on the next tick */ }
  }

  renderHeader();
  refreshHandoffBadge();
  setInterval(refreshHandoffBadge, 15000);
  window.PlatformPage = Object.freeze({ readKey, storeKey, storeSession, clearKey, takeKeyFromUrl, api, esc, SESSION, refreshHandoffBadge });
})();
