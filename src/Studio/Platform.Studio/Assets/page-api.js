// Shared by the Studio shell (studio.js) and its own pages (Intents, Channels, Conversations): the API key the Studio stored (or a sign-in link
// ?key=…, taken out of the address bar at once) and a fetch wrapper that turns problem+json answers into readable errors.
// Loaded before the page's script; exposes window.PlatformPage.
'use strict';
(function () {
  const KEY_ITEM = 'platform-studio.api-key';

  function readKey() {
    try { return sessionStorage.getItem(KEY_ITEM) || localStorage.getItem(KEY_ITEM); } catch { return null; }
  }

  // Remembered keys go to localStorage (every tab, after a restart), the others to sessionStorage (this tab only).
  function storeKey(key, remember = true) {
    clearKey();
    try { (remember ? localStorage : sessionStorage).setItem(KEY_ITEM, key); } catch { /* storage disabled */ }
  }

  function clearKey() {
    try { sessionStorage.removeItem(KEY_ITEM); } catch { /* ignore */ }
    try { localStorage.removeItem(KEY_ITEM); } catch { /* ignore */ }
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
    const response = await fetch(url.startsWith('/') ? location.origin + url : url, {
      method,
      headers: Object.assign({ Authorization: 'ApiKey ' + readKey() }, body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { title: text }; }
    if (response.status === 401) {
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

  window.PlatformPage = Object.freeze({ readKey, storeKey, clearKey, takeKeyFromUrl, api });
})();
