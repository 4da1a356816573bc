// The sign-in page (/signin): user name and password (POST /api/auth/signin), "Sign in with SSO" when the server has an
// OpenID Connect provider (GET /api/auth/sso), the return from it (?done=1), and the first-start link (#link=<token>:
// POST /api/auth/link, then the first admin's name and password, POST /api/auth/setup). The session is an HttpOnly cookie.
'use strict';
(function () {
  const { storeSession, clearKey } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const returnUrl = safeLocal(params.get('returnUrl'));

  const ERRORS = {
    'no-role': 'Your single sign-on account has no role on this server: none of its groups is mapped to a role. ' +
      'Ask an administrator to map your group (Platform:Authentication:Oidc:RoleMap).',
    'sso-failed': 'Single sign-on did not complete. Try again; if it keeps failing, the server log says why.',
  };

  function safeLocal(url) {
    return url && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\') ? url : '/';
  }

  function showError(id, text) {
    $(id).textContent = text || '';
    $(id).hidden = !text;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-Platform-Request': '1' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { title: text }; }
    if (!response.ok) throw new Error([data && data.title, data && data.detail].filter(Boolean).join(' ') || 'HTTP ' + response.status);
    return data;
  }

  async function me() {
    const response = await fetch('/api/auth/me', { credentials: 'same-origin', cache: 'no-store' });
    return response.ok ? response.json() : null;
  }

  function done(user) {
    storeSession(user.name);
    location.assign(returnUrl);
  }

  $('si-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError('si-error', '');
    const button = event.submitter || $('si-form').querySelector('button');
    button.disabled = true;
    try {
      done(await post('/api/auth/signin', { userName: $('si-user').value.trim(), password: $('si-password').value }));
    } catch (e) {
      showError('si-error', e.message);
      button.disabled = false;
    }
  });

  $('si-sso').addEventListener('click', () => {
    const back = '/signin?done=1&returnUrl=' + encodeURIComponent(returnUrl);
    location.assign('/api/auth/sso?returnUrl=' + encodeURIComponent(back));
  });

  $('si-setup-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError('si-setup-error', '');
    if ($('si-setup-password').value !== $('si-setup-confirm').value) {
      showError('si-setup-error', 'The two passwords differ.');
      return;
    }
    try {
      done(await post('/api/auth/setup', { userName: $('si-setup-user').value.trim(), password: $('si-setup-password').value }));
    } catch (e) {
      showError('si-setup-error', e.message);
    }
  });

  async function start() {
    // The first-start link: the token is in the fragment (never sent to a server or logged); take it out of the address.
    const hash = new URLSearchParams(location.hash.slice(1));
    const token = hash.get('link');
    if (token) {
      history.replaceState(history.state, '', location.pathname + location.search);
      try {
        await post('/api/auth/link', { token });
        clearKey();
        $('si-sign-in').hidden = true;
        $('si-setup').hidden = false;
        $('si-setup-user').focus();
      } catch (e) {
        showError('si-error', e.message);
      }
      return;
    }
    if (params.get('error')) showError('si-error', ERRORS[params.get('error')] || params.get('error'));
    if (params.get('done')) {
      const user = await me();
      if (user) { done(user); return; }
      showError('si-error', ERRORS['sso-failed']);
    }
    try {
      const providers = await (await fetch('/api/auth/providers', { cache: 'no-store' })).json();
      if (providers.sso) {
        $('si-sso').textContent = 'Sign in with ' + providers.ssoName;
        $('si-sso-row').hidden = false;
      }
    } catch { /* the password form still works */ }
    $('si-user').focus();
  }

  start();
})();
